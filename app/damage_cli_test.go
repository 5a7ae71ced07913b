package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jsonLines returns n import lines d00000… with some padding.
func jsonLines(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"_id":"d%05d","n":%d,"pad":"%0300d"}`, i, i, i)
	}
	return lines
}

var fileDamages = map[string]func([]byte) []byte{
	"4 KiB flipped in the middle": func(data []byte) []byte {
		mid := len(data) / 2 &^ 4095
		for i := mid; i < mid+4096; i++ {
			data[i] ^= 0xff
		}
		return data
	},
	"truncated to half": func(data []byte) []byte { return data[:len(data)/2] },
	"zero length":       func([]byte) []byte { return nil },
}

// TestCLIDamagedDatabase runs the commands users run on a damaged
// database: each says so in one line and exits 1, while db list lists
// it, db check finds the damage and db salvage copies out what it can.
func TestCLIDamagedDatabase(t *testing.T) {
	for name, how := range fileDamages {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, db := range []string{"bad", "good"} {
				if _, e, code := cli(t, dir, "", "db", "create", db); code != 0 {
					t.Fatal(e)
				}
				if _, e, code := cli(t, dir, strings.Join(jsonLines(3000), "\n"), "import", "--db", db); code != 0 {
					t.Fatal(e)
				}
			}
			path := filepath.Join(dir, "bad.peersync")
			data, _ := os.ReadFile(path)
			data = how(data)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			const hint = `; run "peersync db salvage bad" to copy out what can be read`
			for _, args := range [][]string{
				{"db", "info", "bad"},
				{"export", "--db", "bad"},
				{"doc", "get", "--db", "bad", "d00001"},
				{"doc", "list", "--db", "bad"},
				{"doc", "put", "--db", "bad", "new"},
				{"db", "check", "bad"},
			} {
				out, e, code := cli(t, dir, `{"x":1}`, args...)
				if code != 1 || strings.Count(e, "\n") != 1 || !strings.HasPrefix(e, "peersync: database bad is damaged: ") ||
					!strings.HasSuffix(e, hint+"\n") || strings.Contains(out, "goroutine") {
					t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, e)
				}
			}
			out, e, code := cli(t, dir, "", "db", "list")
			if code != 0 || !strings.Contains(out, "damaged") || !strings.Contains(out, "good") {
				t.Errorf("db list: exit %d %q %q", code, out, e)
			}
			out, _, _ = cli(t, dir, "", "db", "list", "--json")
			var list []struct {
				Name          string
				DocumentCount int
				Damaged       bool
				Error         string
			}
			if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 ||
				!list[0].Damaged || list[0].Error == "" || list[1].Damaged || list[1].DocumentCount != 3000 {
				t.Errorf("db list --json: %s", out)
			}
			if out, e, code := cli(t, dir, "", "db", "check", "good"); code != 0 || !strings.Contains(out, "good is sound: 3000 documents") {
				t.Errorf("db check good: %d %q %q", code, out, e)
			}
			out, e, code = cli(t, dir, "", "db", "salvage", "bad")
			if len(data) == 0 {
				if code != 1 || !strings.Contains(e, "nothing can be read") || strings.Contains(e, "db salvage") {
					t.Errorf("salvage of an empty file: %d %q", code, e)
				}
			} else if code != 0 || !strings.HasPrefix(out, "salvaged bad into bad-salvaged: ") {
				t.Errorf("db salvage: %d %q %q", code, out, e)
			}
			if after, _ := os.ReadFile(path); string(after) != string(data) {
				t.Error("the damaged file changed")
			}
			if _, e, code := cli(t, dir, "", "db", "delete", "bad"); code != 0 {
				t.Errorf("db delete bad: %s", e)
			}
		})
	}
}

func TestCLIImportChecksEveryLineFirst(t *testing.T) {
	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "n")
	lines := jsonLines(3000)
	lines[2500] = `{"_id":"broken",`
	lines[2700] = `{"no":"id"}`
	_, e, code := cli(t, dir, strings.Join(lines, "\n"), "import", "--db", "n")
	if code != 1 || !strings.Contains(e, "line 2501") || !strings.Contains(e, "line 2701") || strings.Count(e, "\n") != 1 {
		t.Errorf("import with bad lines: %d %q", code, e)
	}
	if out, _, _ := cli(t, dir, "", "doc", "list", "--db", "n"); strings.TrimSpace(out) != "" {
		t.Fatalf("a failed import saved documents: %.200s", out)
	}
	file := filepath.Join(dir, "in.jsonl")
	os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600)
	out, e, code := cli(t, dir, "", "import", "--db", "n", "--keep-going", file)
	if code != 0 || !strings.Contains(out, "imported 2998 documents, skipped 2 bad lines") ||
		!strings.Contains(e, "skipped line 2501: ") || !strings.Contains(e, "skipped line 2701: ") {
		t.Errorf("--keep-going: %d %q %q", code, out, e)
	}
	info, _, _ := cli(t, dir, "", "db", "info", "n", "--json")
	if !strings.Contains(info, `"DocumentCount": 2998`) {
		t.Errorf("after --keep-going: %s", info)
	}
}
