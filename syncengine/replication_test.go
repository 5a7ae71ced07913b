package syncengine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"peersync/syncengine/tlsid"
)

// peer is an engine with one database, for replication tests.
type peer struct {
	e  *Engine
	db *Database
}

func newPeer(t testing.TB, name string) *peer {
	t.Helper()
	dir := t.TempDir()
	e, err := New(Options{DataDir: dir, Identities: tlsid.NewStore(dir+"/ids", tlsid.NewMemoryKeyStore())})
	if err != nil {
		t.Fatal(err)
	}
	db, err := e.CreateDatabase(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Store().Check(); err != nil {
			t.Errorf("%s: consistency check: %v", name, err)
		}
		e.Close()
	})
	return &peer{e: e, db: db}
}

func (p *peer) coll() *Collection { return p.db.DefaultCollection() }

// listen starts a plain ws:// listener on 127.0.0.1 and returns its URL.
func (p *peer) listen(t testing.TB, mod func(*ListenerConfig)) (*Listener, string) {
	t.Helper()
	cfg := ListenerConfig{Database: p.db, NetworkInterface: "127.0.0.1", DisableTLS: true}
	if mod != nil {
		mod(&cfg)
	}
	l, err := p.e.NewListener(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l, l.URLs()[0]
}

// replicate runs a one-shot replication to completion.
func (p *peer) replicate(t testing.TB, cfg ReplicatorConfig) *Replicator {
	t.Helper()
	cfg.Database = p.db
	r, err := p.e.NewReplicator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("replication: %v", err)
	}
	return r
}

func (p *peer) put(t testing.TB, id, body string) *Document {
	t.Helper()
	d, err := p.coll().Save(id, []byte(body), SaveOptions{LastWriteWins: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (p *peer) putMany(t testing.TB, n int, prefix string) {
	t.Helper()
	for start := 0; start < n; start += 1000 {
		err := p.db.Batch(func(b *Batch) error {
			for i := start; i < min(start+1000, n); i++ {
				if _, err := b.Save(p.coll(), fmt.Sprintf("%s%05d", prefix, i), []byte(fmt.Sprintf(`{"n":%d,"text":"document %d"}`, i, i)), SaveOptions{LastWriteWins: true}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sameDocs checks that two databases hold the same documents, winners and
// bodies; the winners are compared by revision ID or current version (see
// sameRevision), as peers that spoke CBMobile_4 may name one revision by
// different tree IDs.
func sameDocs(t testing.TB, a, b *peer) {
	t.Helper()
	da, _ := a.coll().List(ListOptions{IncludeDeleted: true})
	db, _ := b.coll().List(ListOptions{IncludeDeleted: true})
	if len(da) != len(db) {
		t.Fatalf("document counts differ: %d vs %d", len(da), len(db))
	}
	for i := range da {
		x, y := da[i], db[i]
		if x.ID != y.ID || !sameRevision(x, y) || x.Deleted != y.Deleted || !jsonEqual(x.Body, y.Body) {
			t.Fatalf("document differs:\n %s %s %v %s\n %s %s %v %s", x.ID, x.RevID, x.Deleted, x.Body, y.ID, y.RevID, y.Deleted, y.Body)
		}
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	json.Unmarshal(a, &x)
	json.Unmarshal(b, &y)
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func TestPushPullPushAndPull(t *testing.T) {
	for _, typ := range []ReplicatorType{Push, Pull, PushAndPull} {
		t.Run(typ.String(), func(t *testing.T) {
			a, b := newPeer(t, "a"), newPeer(t, "b")
			_, url := b.listen(t, nil)
			if typ != Pull {
				a.putMany(t, 10000, "a")
			}
			if typ != Push {
				b.putMany(t, 10000, "b")
			}
			r := a.replicate(t, ReplicatorConfig{Target: url, Type: typ})
			sameDocs(t, a, b)
			st := r.Status()
			if st.Activity != Stopped || st.Error != nil {
				t.Errorf("final status %+v", st)
			}
			n, _ := a.coll().Count()
			want := 10000
			if typ == PushAndPull {
				want = 20000
			}
			if n != want {
				t.Errorf("count = %d, want %d", n, want)
			}
		})
	}
}

func TestContinuousReplication(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, nil)
	r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: url, Type: PushAndPull, Continuous: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	defer r.Stop()
	waitFor(t, "idle", func() bool { return r.Status().Activity == Idle })
	a.put(t, "from-a", `{"v":1}`)
	waitFor(t, "a→b", func() bool { _, err := b.coll().Get("from-a"); return err == nil })
	d := b.put(t, "from-b", `{"v":2}`)
	waitFor(t, "b→a", func() bool { _, err := a.coll().Get("from-b"); return err == nil })
	if _, err := b.coll().Delete("from-b", d.RevID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delete b→a", func() bool { _, err := a.coll().Get("from-b"); return IsNotFound(err) })
}

// waitForLimit only stops a test that would otherwise hang: no test may
// depend on it (a condition either comes true or is broken), so it is
// generous enough for -race on a loaded 2-core machine.
const waitForLimit = 5 * time.Minute

// waitFor polls cond until it holds; it is the one polling helper of this
// package's tests. It fails the test, naming what, after waitForLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > waitForLimit {
			t.Fatalf("timed out after %v waiting for %s", waitForLimit, what)
		}
		time.Sleep(5 * time.Millisecond) // poll interval inside waitFor
	}
}

func TestConflictsConverge(t *testing.T) {
	merge := func(c Conflict) (Revision, error) {
		var l, r map[string]any
		json.Unmarshal(c.Local.Body, &l)
		json.Unmarshal(c.Remote.Body, &r)
		for k, v := range r {
			l[k] = v
		}
		body, _ := json.Marshal(l)
		return Revision{Body: body}, nil
	}
	cases := []struct {
		name     string
		resolver ConflictResolver
		check    func(t *testing.T, body map[string]any)
	}{
		{"default", nil, func(t *testing.T, b map[string]any) {}},
		{"local wins", LocalWins, func(t *testing.T, b map[string]any) {
			if b["side"] != "a" {
				t.Errorf("local-wins body %v", b)
			}
		}},
		{"remote wins", RemoteWins, func(t *testing.T, b map[string]any) {
			if b["side"] != "b" {
				t.Errorf("remote-wins body %v", b)
			}
		}},
		{"merge", merge, func(t *testing.T, b map[string]any) {
			if b["a"] != true || b["b"] != true {
				t.Errorf("merged body %v", b)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newPeer(t, "a"), newPeer(t, "b")
			_, url := b.listen(t, nil)
			for i := range 20 {
				a.put(t, fmt.Sprintf("d%02d", i), `{"v":0}`)
			}
			a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull})
			// Both sides edit every document while disconnected; b edits twice.
			for i := range 20 {
				id := fmt.Sprintf("d%02d", i)
				a.put(t, id, `{"side":"a","a":true}`)
				b.put(t, id, `{"side":"b","b":true}`)
				if i%2 == 0 {
					b.put(t, id, `{"side":"b","b":true,"again":1}`)
				}
			}
			b.put(t, "deleted-on-a", `{}`)
			a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull, ConflictResolver: tc.resolver})
			a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull, ConflictResolver: tc.resolver})
			sameDocs(t, a, b)
			for _, p := range []*peer{a, b} {
				if ids, _ := p.coll().Conflicts(); len(ids) != 0 {
					t.Errorf("conflicts left: %v", ids)
				}
			}
			for i := range 20 {
				d, err := a.coll().Get(fmt.Sprintf("d%02d", i))
				if err != nil {
					t.Fatal(err)
				}
				var body map[string]any
				json.Unmarshal(d.Body, &body)
				tc.check(t, body)
			}
		})
	}
}

func TestBlobsReplicateBothWays(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, nil)
	blobA := []byte(strings.Repeat("A", 1<<20))
	blobB := []byte(strings.Repeat("B", 1<<20))
	for _, x := range []struct {
		p    *peer
		id   string
		data []byte
	}{{a, "pa", blobA}, {b, "pb", blobB}} {
		ref, err := x.p.coll().SaveBlob(x.data, "application/octet-stream")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"file": map[string]any{"@type": "blob", "digest": ref.Digest, "length": ref.Length, "content_type": ref.ContentType}})
		x.p.put(t, x.id, string(body))
	}
	a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull})
	sameDocs(t, a, b)
	for _, x := range []struct {
		p    *peer
		data []byte
	}{{b, blobA}, {a, blobB}} {
		got, err := x.p.coll().GetBlob(BlobDigestOf(x.data))
		if err != nil || len(got) != len(x.data) {
			t.Errorf("blob missing after replication: %v", err)
		}
	}
}

func TestFiltersAndDocIDs(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, nil)
	for _, id := range []string{"keep1", "keep2", "skip1"} {
		a.put(t, id, `{"x":1}`)
		b.put(t, "b-"+id, `{"x":1}`)
	}
	a.replicate(t, ReplicatorConfig{Target: url, Type: Push, DocumentIDs: []string{"keep1"}})
	a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull,
		PushFilter: func(_, id, _ string, _ bool, _ []byte) bool { return strings.HasPrefix(id, "keep") },
		PullFilter: func(_, id, _ string, _ bool, _ []byte) bool { return id == "b-keep2" }})
	var onB, onA []string
	for _, d := range must(b.coll().List(ListOptions{})) {
		onB = append(onB, d.ID)
	}
	for _, d := range must(a.coll().List(ListOptions{})) {
		onA = append(onA, d.ID)
	}
	if !slices.Equal(onB, []string{"b-keep1", "b-keep2", "b-skip1", "keep1", "keep2"}) {
		t.Errorf("on b: %v", onB)
	}
	if !slices.Equal(onA, []string{"b-keep2", "keep1", "keep2", "skip1"}) {
		t.Errorf("on a: %v", onA)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestResumeFromCheckpoint(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, nil)
	a.putMany(t, 2000, "d")
	r1 := a.replicate(t, ReplicatorConfig{Target: url, Type: Push})
	first := r1.Status().Pushed
	a.putMany(t, 2100, "d") // rewrites 2000 (new revisions) and adds 100
	r2 := a.replicate(t, ReplicatorConfig{Target: url, Type: Push})
	if first != 2000 || r2.Status().Pushed != 2100 {
		t.Errorf("pushed %d then %d; want 2000 then 2100 (resume, not restart)", first, r2.Status().Pushed)
	}
	r3 := a.replicate(t, ReplicatorConfig{Target: url, Type: Push})
	if r3.Status().Pushed != 0 {
		t.Errorf("third run pushed %d, want 0", r3.Status().Pushed)
	}
	sameDocs(t, a, b)
}

func TestReadOnlyListenerRefusesPush(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, func(c *ListenerConfig) { c.ReadOnly = true })
	a.put(t, "x", `{}`)
	r, _ := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: url, Type: Push})
	r.Start(false)
	err := r.Wait(context.Background())
	if err == nil || IsTransient(err) {
		t.Fatalf("push to read-only: %v (want a permanent error)", err)
	}
	if n, _ := b.coll().Count(); n != 0 {
		t.Errorf("read-only listener stored %d documents", n)
	}
	// Pulling from it works.
	b.put(t, "y", `{}`)
	a.replicate(t, ReplicatorConfig{Target: url, Type: Pull})
	if _, err := a.coll().Get("y"); err != nil {
		t.Errorf("pull from read-only listener: %v", err)
	}
}

func TestUnknownDatabaseIsPermanent(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, url := b.listen(t, nil)
	r, _ := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: strings.TrimSuffix(url, "/b") + "/nope", Type: Pull})
	r.Start(false)
	err := r.Wait(context.Background())
	if err == nil || IsTransient(err) {
		t.Fatalf("unknown database: %v (want permanent)", err)
	}
}

func TestTwoReplicatorsIntoOneListener(t *testing.T) {
	a, b, c := newPeer(t, "a"), newPeer(t, "b"), newPeer(t, "c")
	_, url := b.listen(t, nil)
	a.putMany(t, 500, "a")
	c.putMany(t, 500, "c")
	done := make(chan struct{})
	go func() { a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull}); close(done) }()
	c.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull})
	<-done
	a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull})
	c.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull})
	sameDocs(t, a, b)
	sameDocs(t, c, b)
}
