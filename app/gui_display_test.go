//go:build !headless

package app

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"peersync/service"
)

// selfMain returns this test binary set up to run Main(args) as the GUI
// build does (see TestMain), with env replacing the named variables of
// this process's environment and dropping those given as "NAME" alone.
func selfMain(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(args)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = withEnv(os.Environ(), append(env, mainArgsEnv+"="+string(raw)))
	return cmd
}

// withEnv applies changes ("NAME=value" sets, "NAME" unsets) to base.
func withEnv(base, changes []string) []string {
	out := slices.Clone(base)
	for _, c := range changes {
		name, _, _ := strings.Cut(c, "=")
		out = slices.DeleteFunc(out, func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
		if strings.Contains(c, "=") {
			out = append(out, c)
		}
	}
	return out
}

// quietDataDir is a data directory whose configuration keeps discovery off.
func quietDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	conf := "[discovery]\nannounce = false\nbrowse = false\n"
	if err := os.WriteFile(filepath.Join(dir, service.ConfigFileName), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

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
