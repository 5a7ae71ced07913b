// Package procmem reads how much of a file this process holds in resident
// memory through its mappings (Linux /proc/self/smaps), for tests of the
// store's memory use.
package procmem

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// MappedRSS is how many bytes of the file at path are resident in this
// process through its memory mappings.
func MappedRSS(path string) (int64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	inFile := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-"): // a mapping's first line: range, perms, offset, device, inode[, path]
			inFile = len(fields) == 6 && fields[5] == path
		case inFile && len(fields) == 3 && fields[0] == "Rss:":
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, err
			}
			total += kb << 10
		}
	}
	return total, sc.Err()
}
