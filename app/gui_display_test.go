//go:build !headless

package app

import (
	"bytes"
	"strings"
	"testing"
)

// TestGUIWithoutDisplaySaysSoInOneLine: started without a display, the GUI
// build used to panic with a long windowing-library trace. It must say so
// in one line and exit non-zero, while commands keep working.
func TestGUIWithoutDisplaySaysSoInOneLine(t *testing.T) {
	dir := quietDataDir(t)
	// An English locale keeps this test about the display alone.
	noDisplay := []string{"DISPLAY", "WAYLAND_DISPLAY", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=en_US.UTF-8"}

	cmd := selfMain(t, noDisplay, "--data-dir", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	want := "peersync: " + errNoDisplay.Error() + "\n"
	if err == nil || code <= 0 || stderr.String() != want {
		t.Fatalf("GUI without a display: exit %d, stderr %q (stdout %q); want a non-zero exit and stderr %q", code, stderr.String(), stdout.String(), want)
	}

	cmd = selfMain(t, noDisplay, "--data-dir", dir, "db", "list")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "NAME") {
		t.Fatalf("db list without a display: %v %q", err, out)
	}
}

func TestHaveDisplay(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, c := range []struct {
		goos string
		env  map[string]string
		want bool
	}{
		{"linux", nil, false},
		{"linux", map[string]string{"DISPLAY": ":0"}, true},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, true},
		{"freebsd", nil, false},
		{"windows", nil, true},
		{"darwin", nil, true},
	} {
		if got := haveDisplay(c.goos, env(c.env)); got != c.want {
			t.Errorf("haveDisplay(%s, %v) = %v, want %v", c.goos, c.env, got, c.want)
		}
	}
}
