//go:build !headless

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGUISmokeUnderXvfb builds the app, starts it on a virtual X display,
// waits for its window, takes a screenshot and checks it is not blank.
// The screenshot is kept in docs/screenshots when PEERSYNC_UPDATE_SCREENSHOTS=1.
func TestGUISmokeUnderXvfb(t *testing.T) {
	g := startGUI(t, nil)
	window := g.window
	dir := g.dir
	env := g.env
	time.Sleep(2 * time.Second) // let the first frames render
	shot := filepath.Join(dir, "main-window.png")
	cmd := exec.Command("import", "-window", window, shot)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	out, err := exec.Command("convert", shot, "-format", "%[fx:standard_deviation]", "info:").Output()
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if sd < 0.02 {
		t.Fatalf("screenshot looks blank (standard deviation %.4f)", sd)
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
	// app holds "good", it has been through "bad".
	waitUntil(t, 30*time.Second, "the app to open the sound database", func() bool {
		out, _ := exec.Command(bin, "--data-dir", dataDir, "db", "info", "good").CombinedOutput()
		return strings.Contains(string(out), "in use")
	})
	cmd := exec.Command("xwininfo", "-root", "-tree")
	cmd.Env = g.env
	out, _ := cmd.Output()
	if windowID(string(out), `"PeerSync"`) == "" || strings.Contains(g.logs.String(), "panic") {
		t.Fatalf("the app did not survive a damaged database; its output:\n%s", g.logs.String())
	}
}

// gui is the app running on a virtual X display.
type gui struct {
	dir, window string
	env         []string
	app         *exec.Cmd
	logs        *strings.Builder
}

// startGUI builds the app, starts it on a virtual X display with its data
// directory in dir/data (made by prepare, if not nil, with the built
// binary), and waits for its window. It skips when the X tools are missing.
func startGUI(t *testing.T, prepare func(bin, dataDir string)) *gui {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no GUI smoke test")
	}
	for _, tool := range []string{"Xvfb", "xwininfo", "import", "convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make test installs xvfb, x11-utils and imagemagick)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "peersync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if prepare != nil {
		prepare(bin, filepath.Join(dir, "data"))
	}
	display := fmt.Sprintf(":%d", 90+os.Getpid()%9)
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { xvfb.Process.Kill(); xvfb.Wait() })
	env := append(os.Environ(), "DISPLAY="+display, "PEERSYNC_DATA_DIR="+filepath.Join(dir, "data"),
		"LIBGL_ALWAYS_SOFTWARE=1", "LANG=en_US.UTF-8")
	waitUntil(t, 20*time.Second, "the X server to start", func() bool {
		cmd := exec.Command("xwininfo", "-root")
		cmd.Env = env
		return cmd.Run() == nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	app := exec.CommandContext(ctx, bin)
	app.Env = env
	logs := &strings.Builder{}
	app.Stdout, app.Stderr = logs, logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Process.Kill(); app.Wait() })

	deadline := time.Now().Add(30 * time.Second)
	window := ""
	for {
		cmd := exec.Command("xwininfo", "-root", "-tree")
		cmd.Env = env
		out, _ := cmd.Output()
		if window = windowID(string(out), `"PeerSync"`); window != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no PeerSync window within 30 s; app output:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	return &gui{dir: dir, window: window, env: env, app: app, logs: logs}
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// windowID finds the X window ID on the xwininfo -tree line naming title.
func windowID(tree, title string) string {
	for _, line := range strings.Split(tree, "\n") {
		if strings.Contains(line, title) {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "0x") {
				return f[0]
			}
		}
	}
	return ""
}
