package app

import (
	"bufio"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"peersync/service"
	"peersync/syncengine"
)

// A command forwarded to the running instance streams its output as it
// comes, and ends there when the CLI that forwarded it is stopped: a
// forwarded listen used to print nothing and keep serving after Ctrl-C.
func TestForwardedListenStreamsAndEndsWithTheCLI(t *testing.T) {
	dir := quietDataDir(t)
	e, err := syncengine.New(syncengine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateDatabase("notes"); err != nil { // held open: the CLI must forward
		t.Fatal(err)
	}
	rn := service.NewRunner(e)
	defer rn.Stop()
	ctl, err := service.StartControl(filepath.Join(dir, service.ControlSocketName), controlHandler(rn))
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	sub := e.Subscribe(64)
	defer sub.Close()

	cli := selfMain(t, nil, "--data-dir", dir, "listen", "--db", "notes", "--interface", "127.0.0.1", "--tls", "off")
	out, err := cli.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	defer cli.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ws://127.0.0.1:") {
		t.Fatalf("first line %q, %v: want the listener's URL while it runs", line, err)
	}
	addr := strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(line), "/notes"), "ws://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("the forwarded listener does not accept: %v", err)
	}
	c.Close()

	cli.Process.Signal(syscall.SIGINT)
	err = cli.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("the CLI ended with %v, want exit 130", err)
	}
	deadline := time.After(time.Minute)
	for stopped := false; !stopped; {
		select {
		case ev := <-sub.C:
			_, stopped = ev.(syncengine.ListenerStopped)
		case <-deadline:
			t.Fatal("the forwarded listener kept running after the CLI stopped")
		}
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the port still accepts after the listener stopped")
	}
}

// An instance starts without its control socket where the platform has
// none (under Wine; here, a path too long for a Unix socket), but refuses
// to run beside another instance on the same data directory.
func TestControlSocketIsOptionalButExclusive(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
	e, err := syncengine.New(syncengine.Options{DataDir: long})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rn := service.NewRunner(e)
	defer rn.Stop()
	ctl, err := startControl(e, rn)
	if err != nil || ctl != nil {
		t.Errorf("without a usable socket: %v, %v; want to go on without one", ctl, err)
	}
	ctl.Close()

	dir := t.TempDir()
	e2, err := syncengine.New(syncengine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	first, err := startControl(e2, rn)
	if err != nil || first == nil {
		t.Fatalf("first instance: %v", err)
	}
	defer first.Close()
	if _, err := startControl(e2, rn); !errors.Is(err, service.ErrAnotherInstance) {
		t.Errorf("a second instance on the same data directory: %v", err)
	}
}
