package app

import (
	"testing"
	"time"
)

// waitLimit only stops a test that would otherwise hang; no test depends
// on it, so it is generous for -race on a loaded 2-core machine.
const waitLimit = 2 * time.Minute

// waitFor polls cond until it holds; it is the one polling helper of this
// package's tests. After waitLimit it fails the test, naming what and
// adding logs() (the output of the processes involved; may be nil).
func waitFor(t *testing.T, what string, logs func() string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > waitLimit {
			extra := ""
			if logs != nil {
				extra = "; logs:\n" + logs()
			}
			t.Fatalf("timed out after %v waiting for %s%s", waitLimit, what, extra)
		}
		time.Sleep(50 * time.Millisecond) // poll interval inside waitFor
	}
}
