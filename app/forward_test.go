package app

import (
	"bufio"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
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

// A forwarded continuous replicate runs inside the instance, streams what
// it says while it runs (here: that the peer went away and when it
// retries), and stops there when the forwarding CLI gets Ctrl-C.
func TestForwardedReplicateStreamsAndEndsWithTheCLI(t *testing.T) {
	peer, err := syncengine.New(syncengine.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peerDB, err := peer.CreateDatabase("peer")
	if err != nil {
		t.Fatal(err)
	}
	l, err := peer.NewListener(syncengine.ListenerConfig{Database: peerDB, NetworkInterface: "127.0.0.1", DisableTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	peerSub := peer.Subscribe(1024)
	defer peerSub.Close()

	dir := quietDataDir(t)
	e, err := syncengine.New(syncengine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	db, err := e.CreateDatabase("notes") // held open: the CLI must forward
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DefaultCollection().Save("from-the-cli", []byte(`{"v":1}`), syncengine.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	rn := service.NewRunner(e)
	defer rn.Stop()
	ctl, err := service.StartControl(filepath.Join(dir, service.ControlSocketName), controlHandler(rn))
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	sub := e.Subscribe(1024)
	defer sub.Close()

	cli := selfMain(t, nil, "--data-dir", dir, "replicate", "--db", "notes", "--target", l.URLs()[0], "--type", "push", "--continuous")
	stderr, err := cli.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	defer cli.Process.Kill()

	// The forwarded replication runs: the document reaches the peer.
	deadline := time.After(time.Minute)
	for arrived := false; !arrived; {
		select {
		case ev := <-peerSub.C:
			if dc, ok := ev.(syncengine.DocumentsChanged); ok {
				arrived = slices.ContainsFunc(dc.Changes, func(c syncengine.Change) bool { return c.DocID == "from-the-cli" })
			}
		case <-deadline:
			t.Fatal("the forwarded replicate pushed nothing")
		}
	}

	// What the command says while it runs reaches the CLI as it comes.
	l.Stop()
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "peersync: ") || !strings.Contains(line, "retrying at") {
		t.Fatalf("stderr %q, %v: want the retry line while the replication runs", line, err)
	}

	// Until now it ran: no stop among the instance's events so far.
	for drained := false; !drained; {
		select {
		case ev := <-sub.C:
			if sc, ok := ev.(syncengine.ReplicatorStatusChanged); ok && sc.Status.Activity == syncengine.Stopped {
				t.Fatalf("the replication stopped before Ctrl-C: %+v", sc.Status)
			}
		default:
			drained = true
		}
	}
	cli.Process.Signal(syscall.SIGINT)
	err = cli.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("the CLI ended with %v, want exit 130", err)
	}
	deadline = time.After(time.Minute)
	for stopped := false; !stopped; {
		select {
		case ev := <-sub.C:
			sc, ok := ev.(syncengine.ReplicatorStatusChanged)
			stopped = ok && sc.Status.Activity == syncengine.Stopped
		case <-deadline:
			t.Fatal("the forwarded replication kept running after the CLI stopped")
		}
	}
}
