package repl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/hlv"
	"peersync/syncengine/store"
)

// These tests run CBMobile_4 sessions (version vectors) over a pipe.

func v4(a ActiveOptions) ActiveOptions { a.VersionVectors = true; return a }

var v4Passive = PassiveOptions{Options: Options{VersionVectors: true}}

func del(t *testing.T, db *store.DB, id string) {
	t.Helper()
	err := db.Update(func(tx *store.Tx) error {
		d, err := tx.Get(store.DefaultCollection, id)
		if err != nil {
			return err
		}
		_, err = tx.Put(store.DefaultCollection, id, nil, store.PutOptions{ParentRev: d.RevID, Deleted: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// same checks that both databases hold id at the same version with body.
func same(t *testing.T, a, b *store.DB, id, body string) {
	t.Helper()
	da, db := get(t, a, id), get(t, b, id)
	switch {
	case da == nil || db == nil:
		t.Fatalf("%s: a has %v, b has %v", id, da, db)
	case da.Vector.Current != db.Vector.Current:
		t.Errorf("%s: a is at %v, b at %v", id, da.Vector, db.Vector)
	case da.Conflicted || db.Conflicted:
		t.Errorf("%s: still conflicted (a %v, b %v)", id, da.Conflicted, db.Conflicted)
	case body != "" && (string(da.Body) != body || string(db.Body) != body):
		t.Errorf("%s: a has %s, b has %s, want %s", id, da.Body, db.Body, body)
	}
}

func TestV4PushAndPull(t *testing.T) {
	a, b := openDB(t, "a"), openDB(t, "b")
	for i := range 3 {
		put(t, a, fmt.Sprintf("a%d", i), fmt.Sprintf(`{"n":%d}`, i))
	}
	put(t, b, "b0", `{"from":"b"}`)
	st, err := replicate(t, a, b, v4(ActiveOptions{Run: pushPull()}), v4Passive)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		same(t, a, b, fmt.Sprintf("a%d", i), fmt.Sprintf(`{"n":%d}`, i))
	}
	same(t, a, b, "b0", `{"from":"b"}`)
	if st.Delta.SentFull != 3 || st.PullDone != 1 {
		t.Errorf("stats %+v, want 3 bodies pushed and 1 pulled", st)
	}
	// Edits on both sides travel as fast-forwards; nothing comes back.
	put(t, a, "b0", `{"from":"a"}`)
	put(t, b, "a1", `{"from":"b"}`)
	if st, err = replicate(t, a, b, v4(ActiveOptions{Run: pushPull()}), v4Passive); err != nil {
		t.Fatal(err)
	}
	same(t, a, b, "b0", `{"from":"a"}`)
	same(t, a, b, "a1", `{"from":"b"}`)
	if st.Delta.SentFull != 1 || st.PullDone != 1 {
		t.Errorf("second run: %+v, want 1 body each way", st)
	}
	if st, err = replicate(t, a, b, v4(ActiveOptions{Run: pushPull()}), v4Passive); err != nil || st.Delta.SentFull != 0 || st.PullTotal != 0 {
		t.Errorf("third run moved %+v (%v), want nothing", st, err)
	}
}

// conflictOn syncs id, then edits it on a and then on b (or the reverse),
// so that the later edit has the newer clock.
func conflictOn(t *testing.T, a, b *store.DB, id string, edit func(first, second *store.DB)) {
	t.Helper()
	put(t, a, id, `{"v":0}`)
	if _, err := replicate(t, a, b, v4(ActiveOptions{Run: pushPull()}), v4Passive); err != nil {
		t.Fatal(err)
	}
	edit(a, b)
}

func TestV4ConflictLastWriteWins(t *testing.T) {
	for _, c := range []struct {
		name       string
		localFirst bool
		want       string
	}{
		{"remote edit is newer", true, `{"v":"b"}`},
		{"local edit is newer", false, `{"v":"a"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := openDB(t, "a"), openDB(t, "b")
			conflictOn(t, a, b, "x", func(a, b *store.DB) {
				if c.localFirst {
					put(t, a, "x", `{"v":"a"}`)
					put(t, b, "x", `{"v":"b"}`)
				} else {
					put(t, b, "x", `{"v":"b"}`)
					put(t, a, "x", `{"v":"a"}`)
				}
			})
			var seen []Conflict
			lww := func(cf Conflict) (Revision, error) { seen = append(seen, cf); return DefaultResolver(cf) }
			for range 2 { // the resolution reaches the passive peer on the next run at the latest
				if _, err := replicate(t, a, b, v4(ActiveOptions{Run: pushPull(), ConflictResolver: lww}), v4Passive); err != nil {
					t.Fatal(err)
				}
			}
			if len(seen) != 1 || seen[0].Local.Vector.IsZero() || seen[0].Remote.Vector.IsZero() {
				t.Fatalf("resolver saw %+v, want one conflict with vectors", seen)
			}
			same(t, a, b, "x", c.want)
			st, err := replicate(t, a, b, v4(ActiveOptions{Run: pushPull()}), v4Passive)
			if err != nil || st.Delta.SentFull != 0 || st.PullTotal != 0 {
				t.Errorf("after convergence a run moved %+v (%v), want nothing", st, err)
			}
		})
	}
}

func TestV4DeletionWinsConflict(t *testing.T) {
	a, b := openDB(t, "a"), openDB(t, "b")
	conflictOn(t, a, b, "x", func(a, b *store.DB) {
		del(t, a, "x")
		put(t, b, "x", `{"v":"later"}`)
	})
	for range 2 {
		if _, err := replicate(t, a, b, v4(ActiveOptions{Run: pushPull()}), v4Passive); err != nil {
			t.Fatal(err)
		}
	}
	same(t, a, b, "x", "")
	if d := get(t, b, "x"); !d.Deleted {
		t.Errorf("b kept %s, want the deletion to win", d.Body)
	}
}

func TestV4MergeRecordsBothVersions(t *testing.T) {
	a, b := openDB(t, "a"), openDB(t, "b")
	conflictOn(t, a, b, "x", func(a, b *store.DB) {
		put(t, a, "x", `{"v":"a"}`)
		put(t, b, "x", `{"v":"b"}`)
	})
	la, lb := get(t, a, "x").Vector.Current, get(t, b, "x").Vector.Current
	merge := func(Conflict) (Revision, error) { return Revision{Body: []byte(`{"v":"ab"}`)}, nil }
	for range 2 {
		if _, err := replicate(t, a, b, v4(ActiveOptions{Run: pushPull(), ConflictResolver: merge}), v4Passive); err != nil {
			t.Fatal(err)
		}
	}
	same(t, a, b, "x", `{"v":"ab"}`)
	v := get(t, b, "x").Vector
	if !v.Dominates(la) || !v.Dominates(lb) || len(v.Merges) != 2 {
		t.Errorf("merged vector %v, want merges of %v and %v", v, la, lb)
	}
}

// A revision with no vector of its own (received over CBMobile_3) keeps its
// revision ID over CBMobile_4, so both trees agree.
func TestV4LegacyRevisionKeepsItsID(t *testing.T) {
	a, b := openDB(t, "a"), openDB(t, "b")
	err := a.Update(func(tx *store.Tx) error {
		_, _, err := tx.PutRevision(store.DefaultCollection, "old", []string{"2-bbbb", "1-aaaa"}, false, []byte(`{"old":true}`))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replicate(t, a, b, v4(ActiveOptions{Run: RunConfig{Push: true}}), v4Passive); err != nil {
		t.Fatal(err)
	}
	if d := get(t, b, "old"); d == nil || d.RevID != "2-bbbb" {
		t.Fatalf("b has %+v, want revision 2-bbbb", d)
	}
	put(t, b, "old", `{"old":false}`)
	if _, err := replicate(t, a, b, v4(ActiveOptions{Run: RunConfig{Pull: true}}), v4Passive); err != nil {
		t.Fatal(err)
	}
	same(t, a, b, "old", `{"old":false}`)
}

// rawPeer is a CBMobile_4 client on a pipe to a passive session on db.
func rawPeer(t *testing.T, db *store.DB) *blip.Conn {
	t.Helper()
	a, b := net.Pipe()
	cli := blip.NewConnOver(blip.NewStreamTransport(a), blip.Options{})
	srv := blip.NewConnOver(blip.NewStreamTransport(b), blip.Options{})
	opts := v4Passive
	opts.DB = db
	sess := NewPassive(srv, opts)
	srv.Start()
	cli.Start()
	t.Cleanup(func() { cli.Close(); srv.Close(); sess.Close() })
	return cli
}

func send(t *testing.T, c *blip.Conn, props blip.Properties, body string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.Send(ctx, &blip.Message{Properties: props, Body: []byte(body)})
	return err
}

// Versions Couchbase Lite refuses are refused one document at a time.
func TestV4RefusesBadVersions(t *testing.T) {
	db := openDB(t, "p")
	c := rawPeer(t, db)
	src := "AAAAAAAAAAAAAAAAAAAAAA"
	now := uint64(time.Now().UnixNano()) &^ 0xFFFF
	future := uint64(time.Now().Add(time.Hour).UnixNano())
	for name, rev := range map[string]string{
		"star source":    fmt.Sprintf("%x@*", now),
		"short source":   fmt.Sprintf("%x@AAAA", now),
		"time too small": "1000@" + src,
		"time ahead":     fmt.Sprintf("%x@%s", future, src),
		"leading zeros":  fmt.Sprintf("0%x@%s", now, src),
	} {
		err := send(t, c, blip.Properties{"Profile": "rev", "id": "bad", "rev": rev, "sequence": "1"}, `{}`)
		var be *blip.Error
		if !errors.As(err, &be) || be.Code != 400 {
			t.Errorf("%s (%s): %v, want 400", name, rev, err)
		}
	}
	good := fmt.Sprintf("%x@%s", now, src)
	if err := send(t, c, blip.Properties{"Profile": "rev", "id": "good", "rev": good, "sequence": "2"}, `{"ok":1}`); err != nil {
		t.Fatal(err)
	}
	if d := get(t, db, "bad"); d != nil {
		t.Errorf("a refused revision was saved: %v", d.Vector)
	}
	if d := get(t, db, "good"); d == nil || d.Vector.Current.String() != good {
		t.Errorf("the good revision: %+v", d)
	}
	// A proposeChanges row with a bad version gets 400; the others go on.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := c.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "proposeChanges"},
		Body: []byte(fmt.Sprintf(`[["bad","%x@*",""],["good","%s",""],["new","%x@%s",""]]`, now, good, now+1, src))})
	if err != nil || string(resp.Body) != `[400,304]` {
		t.Errorf("proposeChanges answered %s (%v), want [400,304]", resp.Body, err)
	}
}

func TestV4SubChangesNeedsVersioning(t *testing.T) {
	c := rawPeer(t, openDB(t, "p"))
	err := send(t, c, blip.Properties{"Profile": "subChanges"}, "")
	var be *blip.Error
	if !errors.As(err, &be) || be.Code != 501 {
		t.Fatalf("subChanges without versioning: %v, want 501", err)
	}
	if err := send(t, c, blip.Properties{"Profile": "subChanges", "versioning": versioningVectors}, ""); err != nil {
		t.Fatalf("subChanges with versioning: %v", err)
	}
}

func TestV4ProposeChangesDecisions(t *testing.T) {
	db := openDB(t, "p")
	put(t, db, "x", `{"n":1}`)
	cur := get(t, db, "x").Vector
	other, _ := hlv.ParseSourceID("BBBBBBBBBBBBBBBBBBBBBA")
	later := cur.Add(hlv.Version{Time: cur.Current.Time + 1<<16, Source: other})
	unrelated := hlv.Vector{Current: hlv.Version{Time: cur.Current.Time + 1<<16, Source: other}}
	c := rawPeer(t, db)
	rows := fmt.Sprintf(`[["x","%s",""],["x","%s","%s"],["x","%s",""],["x","%s",""]]`, cur, later.Current, cur.Current, later, unrelated)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := c.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "proposeChanges", "conflictIncludesRev": "true"}, Body: []byte(rows)})
	want := fmt.Sprintf(`[304,0,0,{"rev":"%s","status":409}]`, cur)
	if err != nil || string(resp.Body) != want {
		t.Errorf("proposeChanges answered %s (%v), want %s", resp.Body, err, want)
	}
}

// A mixed network: v (speaks CBMobile_4) and t (CBMobile_3 only) sync
// through p. Edits made anywhere reach everyone; a revision learned over one
// protocol and forwarded over the other is never sent back as new; a
// conflict converges to one winner everywhere. p and t, which compare
// revision trees, agree on revision IDs; v compares vectors, so once p
// resolves a conflict on the branch t holds, v's IDs may differ while its
// versions agree.
func TestMixedNetworkConverges(t *testing.T) {
	v, p, t3 := openDB(t, "v"), openDB(t, "p"), openDB(t, "t")
	round := func() (moved int64) {
		t.Helper()
		for range 2 {
			st, err := replicate(t, p, t3, ActiveOptions{Run: pushPull(), RemoteID: "t"}, PassiveOptions{})
			if err != nil {
				t.Fatal(err)
			}
			moved += st.Delta.SentFull + st.PullTotal
			st, err = replicate(t, p, v, v4(ActiveOptions{Run: pushPull(), RemoteID: "v"}), v4Passive)
			if err != nil {
				t.Fatal(err)
			}
			moved += st.Delta.SentFull + st.PullTotal
		}
		return moved
	}
	agree := func(step, body string) {
		t.Helper()
		dv, dp, dt := get(t, v, "x"), get(t, p, "x"), get(t, t3, "x")
		if dv == nil || dp == nil || dt == nil {
			t.Fatalf("%s: v %v, p %v, t %v", step, dv, dp, dt)
		}
		if dp.RevID != dt.RevID || dv.Conflicted || dp.Conflicted || dt.Conflicted {
			t.Fatalf("%s: revisions p %s, t %s (conflicted %v %v %v)", step, dp.RevID, dt.RevID, dv.Conflicted, dp.Conflicted, dt.Conflicted)
		}
		if dv.Vector.Current != dp.Vector.Current {
			t.Fatalf("%s: v is at %v, p at %v", step, dv.Vector, dp.Vector)
		}
		if string(dv.Body) != string(dt.Body) || (body != "" && string(dv.Body) != body) {
			t.Fatalf("%s: v has %s, t has %s, want %s", step, dv.Body, dt.Body, body)
		}
		if moved := round(); moved != 0 {
			t.Fatalf("%s: a round after convergence moved %d revisions", step, moved)
		}
	}
	put(t, t3, "x", `{"by":"t"}`)
	round()
	agree("made on the CBMobile_3 peer", `{"by":"t"}`)
	if dv, dt := get(t, v, "x"), get(t, t3, "x"); dv.RevID != dt.RevID {
		t.Errorf("before any conflict v has %s, t %s: identical edits on identical parents should get identical IDs", dv.RevID, dt.RevID)
	}
	put(t, v, "x", `{"by":"v"}`)
	round()
	agree("edited on the CBMobile_4 peer", `{"by":"v"}`)
	put(t, t3, "x", `{"by":"t again"}`)
	round()
	agree("edited on the CBMobile_3 peer again", `{"by":"t again"}`)
	put(t, v, "x", `{"by":"v, concurrently"}`)
	put(t, t3, "x", `{"by":"t, concurrently"}`)
	round()
	agree("edited on both at once", `{"by":"v, concurrently"}`) // the later clock wins; t's legacy version has none
	put(t, t3, "x", `{"by":"t after the conflict"}`)
	round()
	agree("edited on the CBMobile_3 peer after the conflict", `{"by":"t after the conflict"}`)
	put(t, v, "x", `{"by":"v after the conflict"}`)
	round()
	agree("edited on the CBMobile_4 peer after the conflict", `{"by":"v after the conflict"}`)
}
