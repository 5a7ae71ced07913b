//go:build !headless

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"peersync/internal/xvfbtest"
)

// TestGUISmokeUnderXvfb builds the app, starts it on a virtual X display,
// waits for its window, takes a screenshot and checks it is not blank.
// The screenshot is kept in docs/screenshots when PEERSYNC_UPDATE_SCREENSHOTS=1.
func TestGUISmokeUnderXvfb(t *testing.T) {
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
	display := xvfbtest.Start(t)
	env := append(os.Environ(), "DISPLAY="+display, "PEERSYNC_DATA_DIR="+filepath.Join(dir, "data"),
		"LIBGL_ALWAYS_SOFTWARE=1", "LANG=en_US.UTF-8")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	app := exec.CommandContext(ctx, bin)
	app.Env = env
	var logs xvfbtest.Output
	app.Stdout, app.Stderr = &logs, &logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { app.Process.Kill(); app.Wait() }()

	window := xvfbtest.WaitForWindow(t, env, "PeerSync", 2*time.Minute, logs.String)
	shot := filepath.Join(dir, "main-window.png")
	xvfbtest.WaitForContent(t, env, window, shot, time.Minute, logs.String)
	if strings.Contains(logs.String(), "WARNING: DATA RACE") {
		t.Errorf("the app reported a data race while starting:\n%s", logs.String())
	}
	if os.Getenv("PEERSYNC_UPDATE_SCREENSHOTS") == "1" {
		data, _ := os.ReadFile(shot)
		os.MkdirAll("docs/screenshots", 0o755)
		os.WriteFile("docs/screenshots/main-window.png", data, 0o644)
	}
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
