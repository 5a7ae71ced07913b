package app

import (
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
