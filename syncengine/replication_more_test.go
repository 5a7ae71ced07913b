package syncengine

import (
	"context"
	"peersync/syncengine/blip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestStopHalfwayResumes stops a push part-way and checks the restart
// sends only what was not acknowledged before.
func TestStopHalfwayResumes(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, nil)
	const n, before = 5000, 1000
	a.putMany(t, n, "d")
	// The push filter holds the pusher at document 1,001 until the test has
	// cancelled the run, so the stop always comes part-way. (The pusher may
	// send a few more while the session winds down; the second run must
	// then skip those too.)
	var seen atomic.Int64
	reached, release := make(chan struct{}), make(chan struct{})
	hold := func(_, _, _ string, _ bool, _ []byte) bool {
		if seen.Add(1) == before+1 {
			close(reached)
			<-release
		}
		return true
	}
	r, _ := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: url, Type: Push, PushFilter: hold})
	r.Start(false)
	done := r.Done()
	select {
	case <-reached:
	case <-done:
		t.Fatalf("the push ended before document %d: %+v", before+1, r.Status())
	}
	waitFor(t, "the first documents acknowledged", func() bool { return r.Status().Pushed >= before })
	// Stop cancels and then waits; cancel first by hand so the pusher only
	// moves on once it is told to stop.
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	cancel()
	close(release)
	r.Stop()
	first := r.Status().Pushed
	if first < before {
		t.Fatalf("pushed %d before the stop, want at least the %d acknowledged", first, before)
	}
	r2 := a.replicate(t, ReplicatorConfig{Target: url, Type: Push})
	second := r2.Status().Pushed
	// Revisions acknowledged after the last checkpoint are offered again but
	// the peer answers 304 (already have it), so nothing is sent twice.
	if second > n-first {
		t.Errorf("pushed %d then %d of %d: want the second run to resume", first, second, n)
	}
	sameDocs(t, a, b)
}

func TestDocumentEventsAndPending(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, nil)
	a.put(t, "x", `{}`)
	d := a.put(t, "y", `{}`)
	a.coll().Delete("y", d.RevID)
	r, _ := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: url, Type: Push})
	pending, err := r.PendingDocumentIDs()
	if err != nil || !slices.Equal(pending, []string{"x", "y"}) {
		t.Fatalf("pending before = %v, %v", pending, err)
	}
	if ok, _ := r.IsDocumentPending("x"); !ok {
		t.Error("x should be pending")
	}
	sub := a.e.Subscribe(1000)
	defer sub.Close()
	r.Start(false)
	if err := r.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if pending, _ := r.PendingDocumentIDs(); len(pending) != 0 {
		t.Errorf("pending after = %v", pending)
	}
	var events []DocEvent
	var statuses []Activity
	timeout := time.After(2 * time.Second)
	for len(events) < 2 {
		select {
		case ev := <-sub.C:
			switch e := ev.(type) {
			case DocumentsReplicated:
				events = append(events, e.Documents...)
			case ReplicatorStatusChanged:
				statuses = append(statuses, e.Status.Activity)
			}
		case <-timeout:
			t.Fatalf("document events: %+v", events)
		}
	}
	slices.SortFunc(events, func(x, y DocEvent) int { return strings.Compare(x.DocID, y.DocID) })
	if events[0].DocID != "x" || !events[0].Pushed || events[0].Err != nil || events[1].DocID != "y" || !events[1].Deleted {
		t.Errorf("events = %+v", events)
	}
	if len(statuses) == 0 {
		t.Error("no status events")
	}
}

func TestCollectionAwareReplication(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	for _, p := range []*peer{a, b} {
		if _, err := p.db.CreateCollection("app.notes"); err != nil {
			t.Fatal(err)
		}
	}
	_, url := b.listen(t, func(c *ListenerConfig) { c.Collections = []string{"app.notes"} })
	ca, _ := a.db.Collection("app.notes")
	if _, err := ca.Save("n1", []byte(`{"note":1}`), SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	cb, _ := b.db.Collection("app.notes")
	cb.Save("n2", []byte(`{"note":2}`), SaveOptions{})
	a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull, Collections: []string{"app.notes"}})
	for _, c := range []*Collection{ca, cb} {
		if n, _ := c.Count(); n != 2 {
			t.Errorf("%s has %d documents, want 2", c.Database().Name(), n)
		}
	}
	// A collection the listener does not share is a permanent error.
	a.db.CreateCollection("app.secret")
	r, _ := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: url, Type: Pull, Collections: []string{"app.secret"}})
	r.Start(false)
	if err := r.Wait(context.Background()); err == nil || IsTransient(err) {
		t.Errorf("unshared collection: %v", err)
	}
}

func TestListenerStatusAndURLs(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, url := b.listen(t, nil)
	// Couchbase Lite's form: the last path segment names the database.
	if want := "ws://127.0.0.1:" + itoa(l.Port()) + "/b"; url != want || l.Port() == 0 {
		t.Errorf("url %s port %d, want %s", url, l.Port(), want)
	}
	if l.TLSIdentity() != nil {
		t.Error("TLSIdentity with TLS off")
	}
	r, _ := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: url, Type: Pull, Continuous: true})
	r.Start(false)
	waitFor(t, "connection", func() bool { return l.Status().ConnectionCount == 1 })
	r.Stop()
	waitFor(t, "disconnection", func() bool { return l.Status().ConnectionCount == 0 })

	all, err := b.e.NewListener(ListenerConfig{Database: b.db, DisableTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := all.Start(); err != nil {
		t.Fatal(err)
	}
	defer all.Stop()
	urls := all.URLs()
	if len(urls) == 0 || !slices.ContainsFunc(urls, func(u string) bool { return strings.Contains(u, "127.0.0.1") }) {
		t.Errorf("listener on all interfaces has URLs %v", urls)
	}
	for _, u := range urls {
		if strings.Contains(u, "fe80:") {
			t.Errorf("link-local URL %s", u)
		}
	}
}

// TestReplicatorTargetFormsAreOnePeer: the shown URL and the one with
// /_blipsync are the same target, spelt one way, and both replicate.
func TestReplicatorTargetFormsAreOnePeer(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, nil)
	for i, target := range []string{url, url + "/_blipsync", url + "/", strings.ToUpper(url[:2]) + url[2:] + "/_blipsync/"} {
		r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: target, Type: Push})
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if got := r.Config().Target; got != url {
			t.Errorf("target %s is kept as %s, want %s", target, got, url)
		}
		a.put(t, "doc-"+itoa(i), `{}`)
		a.replicate(t, ReplicatorConfig{Target: target, Type: Push})
		if n, _ := b.coll().Count(); n != i+1 {
			t.Errorf("after a push to %s b has %d documents, want %d", target, n, i+1)
		}
	}
}

func TestBadConfigsRejected(t *testing.T) {
	a := newPeer(t, "a")
	for _, target := range []string{"http://x/db", "ws://", "ws://host/", "not a url"} {
		if _, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: target}); err == nil {
			t.Errorf("target %q accepted", target)
		}
	}
	if _, err := a.e.NewListener(ListenerConfig{Database: a.db, Port: 70000}); err == nil {
		t.Error("port 70000 accepted")
	}
	l, _ := a.e.NewListener(ListenerConfig{Database: a.db, NetworkInterface: "no-such-if0", DisableTLS: true})
	if err := l.Start(); err == nil || !strings.Contains(err.Error(), "no-such-if0") {
		t.Errorf("unknown interface: %v", err)
	}
}

// TestTombstonesReplicatePurgesDoNot: a deletion reaches the peer; a purge
// stays local (the peer keeps the document).
func TestTombstonesReplicatePurgesDoNot(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, nil)
	d := a.put(t, "deleted", `{"v":1}`)
	a.put(t, "purged", `{"v":1}`)
	a.replicate(t, ReplicatorConfig{Target: url, Type: Push})
	if _, err := a.coll().Delete("deleted", d.RevID); err != nil {
		t.Fatal(err)
	}
	if err := a.coll().Purge("purged"); err != nil {
		t.Fatal(err)
	}
	a.replicate(t, ReplicatorConfig{Target: url, Type: Push})
	if got, err := b.coll().GetWithTombstone("deleted"); err != nil || !got.Deleted {
		t.Errorf("deletion did not replicate: %+v %v", got, err)
	}
	if _, err := b.coll().Get("purged"); err != nil {
		t.Errorf("a purge replicated: %v", err)
	}
}

// TestListenerClosesIdleConnections: a client that goes silent (no
// messages, no heartbeat pings) is disconnected after IdleTimeout.
func TestListenerClosesIdleConnections(t *testing.T) {
	b := newPeer(t, "b")
	l, url := b.listen(t, func(c *ListenerConfig) { c.IdleTimeout = 300 * time.Millisecond })
	conn, err := blip.Dial(context.Background(), blipURL(t, url), blip.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conn.Start()
	defer conn.Close()
	waitFor(t, "the connection", func() bool { return l.Status().ConnectionCount == 1 })
	select {
	case <-conn.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a silent client was not disconnected")
	}
	waitFor(t, "the listener to forget it", func() bool { return l.Status().ConnectionCount == 0 })
}
