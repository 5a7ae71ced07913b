package syncengine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"peersync/syncengine/tlsid"
)

// The crash tests run one side of a replication in a child process (this
// test binary re-executed) and kill it with SIGKILL: no deferred code, no
// final transaction, no close frame.
const (
	crashChildMode = "PEERSYNC_RESIL_CHILD" // "pull" or "listen"
	crashChildDir  = "PEERSYNC_RESIL_DIR"   // the child's data directory
	crashChildURL  = "PEERSYNC_RESIL_URL"   // pull: the listener to pull from
	crashChildPort = "PEERSYNC_RESIL_PORT"  // listen: the port to bind (0 = any)
	crashDB        = "crashdb"              // database name on both sides
	crashDocs      = 12000                  // documents to replicate
	crashAfter     = 2000                   // kill after this many acknowledged
	crashTimeout   = 40 * time.Second       // generous: -race on 2 shared cores
	childLifetime  = 90 * time.Second       // an orphaned child exits by itself
	crashChildTest = "^TestResilienceCrashChild$"
)

// openEngineDB opens (or creates) the crash database in a data directory.
func openEngineDB(t testing.TB, dir string) *peer {
	t.Helper()
	e, err := New(Options{DataDir: dir, Identities: tlsid.NewStore(dir+"/ids", tlsid.NewMemoryKeyStore())})
	if err != nil {
		t.Fatal(err)
	}
	db, err := e.OpenDatabase(crashDB)
	if IsNotFound(err) {
		db, err = e.CreateDatabase(crashDB)
	}
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	return &peer{e: e, db: db}
}

// child is a running child process and the lines it prints.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+crashChildTest)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: in, lines: make(chan string, 1024)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { c.kill() })
	return c
}

// kill sends SIGKILL and reaps the process.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	for range c.lines {
	}
	c.cmd.Wait()
}

// stop asks the child to shut down cleanly (stdin closed) and waits.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	done := make(chan error, 1)
	go func() {
		for range c.lines {
		}
		done <- c.cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("child exit: %v", err)
		}
	case <-time.After(crashTimeout):
		c.kill()
		t.Fatal("child did not stop")
	}
}

// next returns the next line starting with prefix (without it).
func (c *child) next(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(crashTimeout)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("child exited before printing %q", prefix)
			}
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return rest
			}
		case <-timeout:
			t.Fatalf("child printed no %q within %v", prefix, crashTimeout)
		}
	}
}

// TestResilienceCrashChild is the child half of the crash tests.
func TestResilienceCrashChild(t *testing.T) {
	mode := os.Getenv(crashChildMode)
	if mode == "" {
		t.Skip("only runs as a crash test's child process")
	}
	// A timer, not a sleeping goroutine, so goleak finds nothing left.
	watchdog := time.AfterFunc(childLifetime, func() { os.Exit(3) })
	defer watchdog.Stop()
	p := openEngineDB(t, os.Getenv(crashChildDir))
	switch mode {
	case "pull":
		sub := p.e.Subscribe(1 << 16)
		r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: os.Getenv(crashChildURL), Type: Pull})
		if err != nil {
			t.Fatal(err)
		}
		r.Start(false)
		// Print every received revision after the session reports it saved.
		for ev := range sub.C {
			if dr, ok := ev.(DocumentsReplicated); ok {
				for _, d := range dr.Documents {
					if d.Err == nil && !d.Pushed {
						fmt.Printf("saved %s %s\n", d.DocID, d.RevID)
					}
				}
			}
			if sc, ok := ev.(ReplicatorStatusChanged); ok && sc.Status.Activity == Stopped {
				fmt.Printf("stopped %v\n", sc.Status.Error)
			}
		}
	case "listen":
		var port int
		fmt.Sscan(os.Getenv(crashChildPort), &port)
		l, err := p.e.NewListener(ListenerConfig{Database: p.db, NetworkInterface: "127.0.0.1", Port: port, DisableTLS: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Start(); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("url %s\n", l.URLs()[0])
		io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
		if err := p.e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestResilienceCrashPuller kills a pulling replicator process mid-pull.
// Every revision it reported saved must survive; a new replicator on the
// same data directory must finish the pull from the checkpoint.
func TestResilienceCrashPuller(t *testing.T) {
	if os.Getenv(crashChildMode) != "" {
		t.Skip("running as a child")
	}
	checkNoLeaks(t)
	b := newPeer(t, crashDB)
	_, url := b.listen(t, nil)
	b.putMany(t, crashDocs, "d")
	dir := t.TempDir()

	c := startChild(t, crashChildMode+"=pull", crashChildDir+"="+dir, crashChildURL+"="+url)
	saved := map[string]string{}
	for len(saved) < crashAfter {
		id, rev, _ := strings.Cut(c.next(t, "saved "), " ")
		saved[id] = rev
	}
	c.kill()
	t.Logf("killed the puller after %d reported saves", len(saved))

	a := openEngineDB(t, dir)
	defer a.e.Close()
	if err := a.db.Store().Check(); err != nil {
		t.Fatalf("consistency check after SIGKILL: %v", err)
	}
	n, _ := a.coll().Count()
	if n >= crashDocs {
		t.Fatalf("the pull finished before the kill (%d documents); nothing was tested", n)
	}
	for id, rev := range saved {
		d, err := a.coll().Get(id)
		if err != nil || !isRevision(d, rev) {
			t.Fatalf("reported-saved %s %s missing after the kill: %v", id, rev, err)
		}
	}
	r := a.replicate(t, ReplicatorConfig{Target: url, Type: Pull})
	sameDocs(t, a, b)
	if err := a.db.Store().Check(); err != nil {
		t.Fatalf("consistency check after the second pull: %v", err)
	}
	// Resumed from the checkpoint: not everything again.
	if pulled := r.Status().Pulled; pulled >= crashDocs {
		t.Errorf("second pull received %d documents; want a resume from the checkpoint (< %d)", pulled, crashDocs)
	}
}

// TestResilienceCrashListener kills a listener process mid-push. Every
// revision the pusher saw acknowledged must be in its database; a new
// listener process on the same data directory then receives the rest.
func TestResilienceCrashListener(t *testing.T) {
	if os.Getenv(crashChildMode) != "" {
		t.Skip("running as a child")
	}
	checkNoLeaks(t)
	a := newPeer(t, crashDB)
	a.putMany(t, crashDocs, "d")
	dir := t.TempDir()

	c := startChild(t, crashChildMode+"=listen", crashChildDir+"="+dir, crashChildPort+"=0")
	url := c.next(t, "url ")
	sub := a.e.Subscribe(1 << 17)
	defer sub.Close()
	r := a.startReplicator(t, ReplicatorConfig{Target: url, Type: Push, MaxAttemptWaitTime: time.Hour})

	var mu sync.Mutex
	acked := map[string]string{}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for ev := range sub.C {
			if dr, ok := ev.(DocumentsReplicated); ok {
				mu.Lock()
				for _, d := range dr.Documents {
					if d.Pushed && d.Err == nil {
						acked[d.DocID] = d.RevID
					}
				}
				mu.Unlock()
			}
		}
	}()
	waitFor(t, fmt.Sprintf("%d acknowledged revisions", crashAfter), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= crashAfter
	})
	c.kill()
	// Acknowledgements already on their way were sent before the kill, so
	// they count too; stop the replicator and collect them.
	r.Stop()
	sub.Close()
	<-collected
	if sub.Dropped() != 0 {
		t.Fatalf("%d events dropped; the acknowledged set is incomplete", sub.Dropped())
	}
	t.Logf("killed the listener after %d acknowledged revisions", len(acked))

	bdir := openEngineDB(t, dir)
	if err := bdir.db.Store().Check(); err != nil {
		t.Fatalf("consistency check after SIGKILL: %v", err)
	}
	if n, _ := bdir.coll().Count(); n >= crashDocs {
		t.Fatalf("the push finished before the kill (%d documents); nothing was tested", n)
	}
	for id, rev := range acked {
		d, err := bdir.coll().Get(id)
		if err != nil || !isRevision(d, rev) {
			bdir.e.Close()
			t.Fatalf("acknowledged %s %s missing after the kill: %v", id, rev, err)
		}
	}
	bdir.e.Close()

	c2 := startChild(t, crashChildMode+"=listen", crashChildDir+"="+dir, crashChildPort+"=0")
	url2 := c2.next(t, "url ")
	r2 := a.replicate(t, ReplicatorConfig{Target: url2, Type: Push})
	if pushed := r2.Status().Pushed; pushed >= crashDocs {
		t.Errorf("second push sent %d documents; want a resume from the checkpoint (< %d)", pushed, crashDocs)
	}
	c2.stop(t)

	b := openEngineDB(t, dir)
	defer b.e.Close()
	if err := b.db.Store().Check(); err != nil {
		t.Fatalf("consistency check after the second push: %v", err)
	}
	sameDocs(t, a, b)
}

// isRevision tells whether d's winner is rev, as a session reports it: a
// revision ID (CBMobile_3) or a version (CBMobile_4).
func isRevision(d *Document, rev string) bool {
	return d.RevID == rev || (!d.Vector.IsZero() && d.Vector.Current.String() == rev)
}
