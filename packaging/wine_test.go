package packaging

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"peersync/internal/xvfbtest"
)

// TestWindowsSmokeUnderWine runs both Windows builds under Wine: the CLI
// creates, fills and lists a database; the GUI opens its window and draws.
func TestWindowsSmokeUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no Wine smoke test")
	}
	requireWindowsOptIn(t)
	t.Parallel()
	requireTools(t, "install make", "make")
	root := repoRoot(t)
	if out, err := runMake(root, "deps-wine"); err != nil {
		t.Skipf("Wine could not be installed: %v\n%s", err, out)
	}
	requireTools(t, "make deps-wine installs wine64, xvfb, x11-utils, imagemagick and MinGW-w64",
		"wine", "wineboot", "wineserver", "Xvfb", "xwininfo", "import", "convert", "x86_64-w64-mingw32-gcc")
	version := fyneAppVersion(t, root)
	gui, cli := ensureWindowsBuilds(t, root)

	w := startWine(t, root)
	t.Run("CLI", func(t *testing.T) { smokeCLI(t, w, cli, version) })
	t.Run("GUI", func(t *testing.T) { smokeGUI(t, w, gui) })
}

// wineEnv is a throwaway Wine prefix on its own virtual X display.
type wineEnv struct {
	root string   // the repository
	dir  string   // the test's temporary directory
	env  []string // WINEPREFIX, DISPLAY and friends
}

// startWine starts Xvfb, initialises a Wine prefix in a temporary directory
// and installs the ProcessPrng shim into its system32.
func startWine(t *testing.T, root string) *wineEnv {
	t.Helper()
	dir := t.TempDir()
	display := xvfbtest.Start(t)
	w := &wineEnv{root: root, dir: dir, env: append(os.Environ(),
		"WINEPREFIX="+filepath.Join(dir, "prefix"),
		"WINEARCH=win64",
		"WINEDEBUG=-all",
		"WINEDLLOVERRIDES=mscoree,mshtml=;bcryptprimitives=n", // no Mono/Gecko prompts; our shim
		"DISPLAY="+display,
		"LIBGL_ALWAYS_SOFTWARE=1",
	)}
	t.Cleanup(func() { w.command(context.Background(), "wineserver", "-k").Run() })

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if out, err := w.command(ctx, "wineboot", "--init").CombinedOutput(); err != nil {
		t.Fatalf("wineboot --init: %v\n%s", err, out)
	}
	if out, err := w.command(ctx, "wineserver", "-w").CombinedOutput(); err != nil {
		t.Fatalf("wineserver -w: %v\n%s", err, out)
	}
	t.Logf("Wine prefix ready in %s", time.Since(start).Round(time.Second))

	system32 := filepath.Join(dir, "prefix", "drive_c", "windows", "system32")
	if _, err := os.Stat(system32); err != nil {
		t.Fatalf("wineboot made no system32: %v", err)
	}
	src := filepath.Join(root, "packaging", "wineshim", "bcryptprimitives.c")
	dll := filepath.Join(system32, "bcryptprimitives.dll")
	if out, err := exec.Command("x86_64-w64-mingw32-gcc", "-shared", "-O2", "-o", dll, src, "-ladvapi32").CombinedOutput(); err != nil {
		t.Fatalf("build the bcryptprimitives shim: %v\n%s", err, out)
	}
	return w
}

func (w *wineEnv) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = w.env
	cmd.Dir = w.dir
	return cmd
}

// windowsPath is how a Windows program under Wine names a Unix path (Z: is /).
func windowsPath(unix string) string {
	return `Z:` + strings.ReplaceAll(unix, "/", `\`)
}

// smokeCLI runs the headless CLI: version, create a database, write and read
// a document, list the databases, and checks the file on disk.
func smokeCLI(t *testing.T, w *wineEnv, cli, version string) {
	data := filepath.Join(w.dir, "data")
	run := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := w.command(ctx, "wine", append([]string{cli, "--data-dir", windowsPath(data)}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("peersync %s under Wine: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	checkVersionOutput(t, run("", "--version"), version)
	run("", "db", "create", "smoke")
	run(`{"title":"hello from wine"}`, "doc", "put", "--db", "smoke", "d1")
	if out := run("", "doc", "get", "--db", "smoke", "d1"); !strings.Contains(out, "hello from wine") {
		t.Errorf("doc get printed %q, want the document just saved", out)
	}
	if out := run("", "db", "list"); !strings.Contains(out, "smoke") {
		t.Errorf("db list printed %q, want it to list smoke", out)
	}
	if _, err := os.Stat(filepath.Join(data, "smoke.peersync")); err != nil {
		t.Errorf("the database file is not in the data directory: %v", err)
	}
}

// smokeGUI starts the desktop app, waits for its window and checks a
// screenshot of it is not blank.
func smokeGUI(t *testing.T, w *wineEnv, gui string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	app := w.command(ctx, "wine", gui, "--data-dir", windowsPath(filepath.Join(w.dir, "gui-data")))
	var logs xvfbtest.Output
	app.Stdout, app.Stderr = &logs, &logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		app.Process.Kill()
		w.command(context.Background(), "wineserver", "-k").Run()
		app.Wait()
	}()

	window := xvfbtest.WaitForWindow(t, w.env, "PeerSync", 2*time.Minute, logs.String)
	// Wine maps the window before the first frame; wait for content.
	shot := filepath.Join(w.dir, "windows-gui.png")
	sd := xvfbtest.WaitForContent(t, w.env, window, shot, time.Minute, logs.String)
	t.Logf("window %s drawn (standard deviation %.3f)", window, sd)
	if data, err := os.ReadFile(shot); err == nil {
		os.WriteFile(filepath.Join(w.root, "dist", "smoke-windows-gui.png"), data, 0o644)
	}
}
