package syncengine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"peersync/syncengine/tlsid"
)

// mountTmpfs mounts a small tmpfs under t.TempDir(), or skips the test.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("disk-full test needs root to mount a small tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("disk-full test: cannot mount a tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestResilienceDiskFullReceiver pushes more than fits into a listener
// whose database lives on a 2 MiB tmpfs. The pusher must hear about the
// failure, the receiver must keep a consistent database holding only
// complete revisions, and once space is back the push must complete.
func TestResilienceDiskFullReceiver(t *testing.T) {
	checkNoLeaks(t)
	dir := mountTmpfs(t, "2m")
	a := newPeer(t, "a")
	filler := strings.Repeat("x", 1000)
	for start := 0; start < 4000; start += 1000 {
		err := a.db.Batch(func(bt *Batch) error {
			for i := start; i < start+1000; i++ {
				body := fmt.Sprintf(`{"n":%d,"fill":"%s"}`, i, filler)
				if _, err := bt.Save(a.coll(), fmt.Sprintf("d%05d", i), []byte(body), SaveOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	e, err := New(Options{DataDir: dir, Identities: tlsid.NewStore(t.TempDir(), tlsid.NewMemoryKeyStore())})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	bdb, err := e.CreateDatabase("b")
	if err != nil {
		t.Fatal(err)
	}
	b := &peer{e: e, db: bdb}
	l, url := b.listen(t, nil)

	sub := a.e.Subscribe(1 << 14)
	defer sub.Close()
	var mu sync.Mutex
	var docErrs []string
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for ev := range sub.C {
			if dr, ok := ev.(DocumentsReplicated); ok {
				mu.Lock()
				for _, d := range dr.Documents {
					if d.Err != nil {
						docErrs = append(docErrs, d.DocID+": "+d.Err.Error())
					}
				}
				mu.Unlock()
			}
		}
	}()
	// One-shot: a transient error on an established connection is retried
	// without limit, so the replicator keeps trying until space is back.
	r := a.startReplicator(t, ReplicatorConfig{Target: url, Type: Push, MaxAttemptWaitTime: 2 * time.Second})
	waitFor(t, "the pusher to report the full disk", func() bool {
		st := r.Status()
		return st.Error != nil && st.Activity == Offline
	})
	st := r.Status()
	if !st.Transient {
		t.Errorf("full disk on the receiver reported as permanent: %v", st.Error)
	}
	mu.Lock()
	first, nerrs := "none", len(docErrs)
	if nerrs > 0 {
		first = docErrs[0]
	}
	mu.Unlock()
	t.Logf("pusher status error: %v (transient %v); %d document errors, first: %s", st.Error, st.Transient, nerrs, first)

	// The receiver's file reopens (what is on disk, not only what is in
	// memory, is sound), stays usable, and what it has is complete.
	port := l.Port()
	if err := bdb.Close(); err != nil {
		t.Logf("closing the receiver after ENOSPC: %v", err)
	}
	if bdb, err = e.OpenDatabase("b"); err != nil {
		t.Fatalf("receiver database does not reopen after ENOSPC: %v", err)
	}
	b = &peer{e: e, db: bdb}
	if err := bdb.Store().Check(); err != nil {
		t.Fatalf("receiver consistency check after ENOSPC: %v", err)
	}
	got, err := b.coll().List(ListOptions{IncludeDeleted: true})
	if err != nil {
		t.Fatalf("receiver unreadable after ENOSPC: %v", err)
	}
	if len(got) >= 4000 {
		t.Fatalf("all %d documents fit in 2 MiB; the disk never filled", len(got))
	}
	for _, d := range got {
		want, err := a.coll().Get(d.ID)
		if err != nil || !sameRevision(want, d) || !jsonEqual(want.Body, d.Body) {
			t.Fatalf("receiver holds a damaged %s %s: %.80s", d.ID, d.RevID, d.Body)
		}
	}
	t.Logf("receiver kept %d complete documents", len(got))

	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	b.listen(t, func(c *ListenerConfig) { c.Port = port })
	r.RetryNow()
	waitFor(t, "the push to finish once space is back", func() bool { return r.Done() == nil })
	if st := r.Status(); st.Error != nil {
		t.Fatalf("push after remount: %v", st.Error)
	}
	sub.Close()
	<-collected
	sameDocs(t, a, b)
}
