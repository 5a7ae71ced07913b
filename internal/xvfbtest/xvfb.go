// Package xvfbtest starts a virtual X display for tests and finds and
// photographs windows on it. The GUI smoke tests (the Linux app and the
// Windows build under Wine) share it.
package xvfbtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tools are the programs these helpers run (packages xvfb, x11-utils, imagemagick).
var Tools = []string{"Xvfb", "xwininfo", "import", "convert"}

// BlankDeviation is the pixel standard deviation at or under which a
// screenshot counts as blank (one colour, or nearly).
const BlankDeviation = 0.02

// Start starts Xvfb on a display it picks itself (-displayfd, so parallel
// runs never collide) and returns the display's name, e.g. ":3". Xvfb
// reports the display only once it accepts clients, so the display is ready.
// The server is stopped when the test ends.
func Start(t testing.TB) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	xvfb.ExtraFiles = []*os.File{w}
	if err := xvfb.Start(); err != nil {
		w.Close()
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { xvfb.Process.Kill(); xvfb.Wait() })
	// Xvfb writes the number and a newline when ready, or closes the pipe
	// when it dies; the deadline only guards against a wedged server.
	r.SetReadDeadline(time.Now().Add(2 * time.Minute))
	line, err := bufio.NewReader(r).ReadString('\n')
	n, convErr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || convErr != nil {
		t.Fatalf("Xvfb did not report its display: %v %q", err, line)
	}
	return fmt.Sprintf(":%d", n)
}

// WindowID finds the X window ID on the xwininfo -tree line naming title.
func WindowID(tree, title string) string {
	for _, line := range strings.Split(tree, "\n") {
		if strings.Contains(line, title) {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "0x") {
				return f[0]
			}
		}
	}
	return ""
}

// WaitForWindow polls the display in env until a window titled title
// (quoted, as xwininfo prints it) appears and returns its ID. It fails the
// test after limit, printing logs() (the app's output) to say why.
func WaitForWindow(t testing.TB, env []string, title string, limit time.Duration, logs func() string) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		cmd := exec.Command("xwininfo", "-root", "-tree")
		cmd.Env = env
		out, _ := cmd.Output()
		if id := WindowID(string(out), `"`+title+`"`); id != "" {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q window within %v; app output:\n%s\nwindows:\n%s", title, limit, logs(), out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitForContent takes screenshots of window into shot until one is not
// blank (a window is mapped before its first frame is drawn) and returns
// its pixel standard deviation. It fails the test after limit.
func WaitForContent(t testing.TB, env []string, window, shot string, limit time.Duration, logs func() string) float64 {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		sd, err := Deviation(env, window, shot)
		if err == nil && sd > BlankDeviation {
			return sd
		}
		if time.Now().After(deadline) {
			t.Fatalf("window %s still looks blank after %v (standard deviation %.4f, %v); app output:\n%s", window, limit, sd, err, logs())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Deviation saves a screenshot of window to shot and returns the standard
// deviation of its pixels (0 for a single colour).
func Deviation(env []string, window, shot string) (float64, error) {
	cmd := exec.Command("import", "-window", window, shot)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("screenshot: %v %s", err, strings.TrimSpace(string(out)))
	}
	out, err := exec.Command("convert", shot, "-format", "%[fx:standard_deviation]", "info:").Output()
	if err != nil {
		return 0, fmt.Errorf("convert: %v", err)
	}
	sd, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return 0, fmt.Errorf("convert printed %q: %v", out, err)
	}
	return sd, nil
}

// Output collects a program's output (exec writes it from its own
// goroutine) so that a test can print it while the program still runs.
type Output struct {
	mu sync.Mutex
	b  strings.Builder
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
