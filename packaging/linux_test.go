package packaging

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLinuxPackage builds (or reuses) the Linux desktop archive and checks
// what a user unpacks: a stamped executable, a .desktop entry and the icon.
func TestLinuxPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Linux package is not built")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the Linux package is built on Linux")
	}
	t.Parallel() // beside the Windows build
	requireTools(t, "install make, tar and xz-utils", "make", "tar", "xz")
	root := repoRoot(t)
	if out, err := runMake(root, "fyne-tool"); err != nil {
		t.Skipf("the fyne packaging tool could not be installed (needs the Go module proxy): %v\n%s", err, out)
	}
	version := fyneAppVersion(t, root)
	archive := filepath.Join("dist", "PeerSync-"+version+"-linux-"+runtime.GOARCH+".tar.xz")
	ensureBuilt(t, root, "package-linux", archive)

	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xJf", filepath.Join(root, archive), "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v\n%s", archive, err, out)
	}
	files := map[string]string{} // base name → path
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[d.Name()] = path
		}
		return nil
	})

	bin, ok := files["peersync"]
	if !ok {
		t.Fatalf("no peersync binary in %s; files: %v", archive, names(files))
	}
	if !strings.Contains(filepath.ToSlash(bin), "/bin/peersync") {
		t.Errorf("binary at %s, want it under a bin directory", bin)
	}
	checkExecutableELF(t, bin)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("peersync --version: %v\n%s", err, out)
	}
	checkVersionOutput(t, string(out), version)

	desktop, ok := files["org.peersync.app.desktop"]
	if !ok {
		t.Fatalf("no org.peersync.app.desktop in %s; files: %v", archive, names(files))
	}
	entry := desktopEntry(t, desktop)
	if entry["Name"] != "PeerSync" {
		t.Errorf(".desktop Name = %q, want PeerSync", entry["Name"])
	}
	if exe := strings.Fields(entry["Exec"]); len(exe) == 0 || exe[0] != "peersync" {
		t.Errorf(".desktop Exec = %q, want it to run peersync", entry["Exec"])
	}
	if entry["Type"] != "Application" {
		t.Errorf(".desktop Type = %q, want Application", entry["Type"])
	}

	icon, ok := files[entry["Icon"]+".png"]
	if !ok {
		t.Fatalf("no icon %s.png (named by the .desktop Icon key) in %s; files: %v", entry["Icon"], archive, names(files))
	}
	checkPNG(t, icon)
}

// checkExecutableELF fails unless path is an ELF file with execute permission.
func checkExecutableELF(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s is not executable (mode %v)", path, info.Mode())
	}
	head := make([]byte, 4)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Read(head); err != nil || !bytes.Equal(head, []byte("\x7fELF")) {
		t.Errorf("%s is not an ELF executable", path)
	}
}

// desktopEntry reads the keys of the [Desktop Entry] group.
func desktopEntry(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entry := map[string]string{}
	group := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			group = line
			continue
		}
		if key, value, ok := strings.Cut(line, "="); ok && group == "[Desktop Entry]" {
			entry[strings.TrimSpace(key)] = strings.TrimSpace(value)
		}
	}
	return entry
}

// checkPNG fails unless path decodes as a PNG image of a sensible size.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("icon %s is not a PNG: %v", path, err)
	}
	if cfg.Width < 64 || cfg.Height < 64 {
		t.Errorf("icon is %dx%d, want at least 64x64", cfg.Width, cfg.Height)
	}
}

func names(files map[string]string) []string {
	var out []string
	for name := range files {
		out = append(out, name)
	}
	return out
}

// checkVersionOutput fails unless --version printed exactly version (not,
// say, the unstamped default "0.1.0-dev").
func checkVersionOutput(t *testing.T, out, version string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "peersync" && f[1] == "version" {
			if f[2] != version {
				t.Errorf("peersync --version says %s, want %s from FyneApp.toml", f[2], version)
			}
			return
		}
	}
	t.Errorf("peersync --version printed %q, want \"peersync version %s\"", out, version)
}
