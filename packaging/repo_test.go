package packaging

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot is the module root: go test runs in packaging/, one level down.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "FyneApp.toml")); err != nil {
		t.Fatalf("no FyneApp.toml in %s: %v", root, err)
	}
	return root
}

// fyneAppVersion reads Version from the [Details] table of FyneApp.toml,
// independently of the Makefile's awk, so the two can be compared.
func fyneAppVersion(t *testing.T, root string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[] ")
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if ok && section == "Details" && strings.TrimSpace(key) == "Version" {
			return strings.Trim(strings.TrimSpace(value), `"`)
		}
	}
	t.Fatal("FyneApp.toml has no Version in [Details]")
	return ""
}

// The Linux and Windows package tests run in parallel, so that the two
// long cgo builds overlap. Make targets that install tools or system
// packages take turns (two go installs of one file, or two apt-gets, at
// once fail), and so do the Windows tests, which share one build.
var (
	setupMu   sync.Mutex // fyne-tool and deps-*
	windowsMu sync.Mutex // package-windows and its outputs
)

// runMake runs make with args in the repository and returns its output.
func runMake(root string, args ...string) (string, error) {
	if len(args) == 1 && (args[0] == "fyne-tool" || strings.HasPrefix(args[0], "deps-")) {
		setupMu.Lock()
		defer setupMu.Unlock()
	}
	cmd := exec.Command("make", append([]string{"-s", "-C", root}, args...)...)
	// Under `make test` the parent's flags (and its jobserver, whose file
	// descriptors are not inherited) would leak into this make.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "MAKEFLAGS" && name != "MFLAGS" && name != "MAKELEVEL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// newestSource is when the inputs of the packages last changed. The
// Makefile packages the HEAD commit, so in a git checkout that is the last
// commit touching non-test Go files, go.mod, go.sum, FyneApp.toml or the
// assets, or the Makefile's own modification time if later. Outside git it
// is the newest of those files in the tree.
func newestSource(t *testing.T, root string) time.Time {
	t.Helper()
	newest := modTime(t, filepath.Join(root, "Makefile"))
	out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%ct", "HEAD", "--",
		"*.go", ":(exclude)*_test.go", "go.mod", "go.sum", "FyneApp.toml", "assets").Output()
	if err == nil {
		if secs, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil {
			return later(newest, time.Unix(secs, 0))
		}
	}
	skip := map[string]bool{".git": true, "dist": true, "docs": true, "testdata": true, "packaging": true, "fyne-cross": true}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (skip[d.Name()] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		name := d.Name()
		isSource := (strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) ||
			rel == "go.mod" || rel == "go.sum" || rel == "FyneApp.toml" ||
			strings.HasPrefix(rel, "assets"+string(filepath.Separator))
		if isSource {
			newest = later(newest, modTime(t, path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return newest
}

func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.ModTime()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ensureBuilt runs `make target` unless every output exists and is newer
// than the sources, so repeated test runs reuse the packages in dist/.
func ensureBuilt(t *testing.T, root, target string, outputs ...string) {
	t.Helper()
	newest := newestSource(t, root)
	fresh := true
	for _, out := range outputs {
		info, err := os.Stat(filepath.Join(root, out))
		if err != nil || !info.ModTime().After(newest) {
			fresh = false
			break
		}
	}
	if fresh {
		t.Logf("reusing %s (newer than the sources)", strings.Join(outputs, ", "))
		return
	}
	start := time.Now()
	if out, err := runMake(root, target); err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out)
	}
	t.Logf("make %s took %s", target, time.Since(start).Round(time.Second))
	for _, out := range outputs {
		if _, err := os.Stat(filepath.Join(root, out)); err != nil {
			t.Fatalf("make %s did not produce %s", target, out)
		}
	}
}

// requireTools skips the test when one of the commands is not installed.
func requireTools(t *testing.T, hint string, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %s", tool, hint)
		}
	}
}
