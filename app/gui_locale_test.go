//go:build !headless

package app

import (
	"strings"
	"testing"
)

// TestCommandsUnderTheCLocaleLogNoFyneError: under C.UTF-8 (Debian's
// default) every command of the GUI build used to log "Error parsing user
// locale C" on three lines while Fyne initialised.
func TestCommandsUnderTheCLocaleLogNoFyneError(t *testing.T) {
	dir := quietDataDir(t)
	for _, env := range [][]string{
		{"LANG=C.UTF-8", "LC_ALL=C.UTF-8", "LC_MESSAGES", "LANGUAGE"},
		{"LANG=C.UTF-8", "LC_ALL", "LC_MESSAGES", "LANGUAGE"},
		{"LANG=C", "LC_ALL=C", "LC_MESSAGES", "LANGUAGE"},
	} {
		for _, args := range [][]string{{"--version"}, {"db", "list"}} {
			cmd := selfMain(t, env, append([]string{"--data-dir", dir}, args...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() != 0 || len(out) == 0 {
				t.Errorf("%v %v: %v, stdout %q, stderr %q; want output and an empty stderr", env, args, err, out, stderr.String())
			}
		}
	}
}
