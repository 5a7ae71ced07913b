//go:build !headless

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"peersync/internal/xvfbtest"
)

// TestGUISmokeUnderXvfb builds the app, starts it on a virtual X display,
// waits for its window, takes a screenshot and checks it is not blank.
// The screenshot is kept in docs/screenshots when PEERSYNC_UPDATE_SCREENSHOTS=1.
func TestGUISmokeUnderXvfb(t *testing.T) {
	g := startGUI(t, nil)
	shot := filepath.Join(g.dir, "main-window.png")
	xvfbtest.WaitForContent(t, g.env, g.window, shot, time.Minute, g.logs.String)
	// The window serves the control socket: status answers, and a command
	// on a database the window holds runs inside it.
	if out, err := exec.Command(g.bin, "--data-dir", g.dataDir, "status").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "REPLICATION") {
		t.Errorf("status beside the window: %v\n%s", err, out)
	}
	if strings.Contains(g.logs.String(), "WARNING: DATA RACE") {
		t.Errorf("the app reported a data race while starting:\n%s", g.logs.String())
	}
	if os.Getenv("PEERSYNC_UPDATE_SCREENSHOTS") == "1" {
		data, _ := os.ReadFile(shot)
		os.MkdirAll("docs/screenshots", 0o755)
		os.WriteFile("docs/screenshots/main-window.png", data, 0o644)
	}
}

// TestGUIStartsWithADamagedDatabase: the app used to die before its
// window showed when one database file was damaged.
func TestGUIStartsWithADamagedDatabase(t *testing.T) {
	var bin, dataDir string
	g := startGUI(t, func(b, d string) {
		bin, dataDir = b, d
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dataDir, "peersync.toml"), []byte("[discovery]\nannounce = false\nbrowse = false\n"), 0o600)
		var lines strings.Builder
		for i := range 3000 {
			fmt.Fprintf(&lines, `{"_id":"d%05d","pad":"%0300d"}`+"\n", i, i)
		}
		for _, args := range [][]string{{"db", "create", "bad"}, {"import", "--db", "bad"}, {"db", "create", "good"}} {
			cmd := exec.Command(bin, append([]string{"--data-dir", dataDir}, args...)...)
			cmd.Stdin = strings.NewReader(lines.String())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v %s", args, err, out)
			}
		}
		path := filepath.Join(dataDir, "bad.peersync")
		data, _ := os.ReadFile(path)
		mid := len(data) / 2 &^ 4095
		for i := mid; i < mid+4096; i++ {
			data[i] ^= 0xff
		}
		os.WriteFile(path, data, 0o600)
	})
	// The Databases screen opens every database in name order: once the
	// app holds "good" (bbolt's lock on its file), it has been through "bad".
	deadline := time.Now().Add(2 * time.Minute)
	for !fileLocked(t, filepath.Join(dataDir, "good.peersync")) {
		if time.Now().After(deadline) {
			t.Fatalf("the app never opened the sound database; its output:\n%s", g.logs.String())
		}
		time.Sleep(100 * time.Millisecond) // poll interval while waiting for the app
	}
	// It says what is wrong with the damaged one, from inside the window.
	if out, _ := exec.Command(bin, "--data-dir", dataDir, "db", "check", "bad").CombinedOutput(); !strings.Contains(string(out), "damaged") {
		t.Errorf("db check bad beside the window says:\n%s", out)
	}
	cmd := exec.Command("xwininfo", "-root", "-tree")
	cmd.Env = g.env
	out, _ := cmd.Output()
	if xvfbtest.WindowID(string(out), `"PeerSync"`) == "" || strings.Contains(g.logs.String(), "panic") {
		t.Fatalf("the app did not survive a damaged database; its output:\n%s", g.logs.String())
	}
}

// gui is the app running on a virtual X display.
type gui struct {
	dir, window  string
	bin, dataDir string
	env          []string
	logs         *xvfbtest.Output
}

// startGUI builds the app, starts it on a virtual X display with its data
// directory in dir/data (made by prepare, if not nil, with the built
// binary), and waits for its window. It skips when the X tools are missing.
func startGUI(t *testing.T, prepare func(bin, dataDir string)) *gui {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no GUI smoke test")
	}
	for _, tool := range xvfbtest.Tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make test installs xvfb, x11-utils and imagemagick)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "peersync")
	// Build as this test binary was built (-race under make test), so the
	// app reuses the packages the tests compiled instead of building Fyne
	// and its cgo parts a second time; it also runs the GUI under the race
	// detector.
	args := []string{"build", "-o", bin}
	if raceBuild() {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if prepare != nil {
		prepare(bin, filepath.Join(dir, "data"))
	}
	display := xvfbtest.Start(t)
	env := append(os.Environ(), "DISPLAY="+display, "PEERSYNC_DATA_DIR="+filepath.Join(dir, "data"),
		"LIBGL_ALWAYS_SOFTWARE=1", "LANG=en_US.UTF-8")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	app := exec.CommandContext(ctx, bin)
	app.Env = env
	logs := &xvfbtest.Output{}
	app.Stdout, app.Stderr = logs, logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Process.Kill(); app.Wait() })
	window := xvfbtest.WaitForWindow(t, env, "PeerSync", 2*time.Minute, logs.String)
	return &gui{dir: dir, window: window, bin: bin, dataDir: filepath.Join(dir, "data"), env: env, logs: logs}
}

// fileLocked reports whether another process holds a lock on the file
// (as bbolt does on an open database).
func fileLocked(t *testing.T, path string) bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// raceBuild reports whether this test binary was built with -race.
func raceBuild() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}
