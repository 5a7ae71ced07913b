package repl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/store"
)

// These tests join an active and a passive session over net.Pipe, each
// with its own real database, and run one-shot replications between them.

func openDB(t *testing.T, name string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), name+".db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func put(t *testing.T, db *store.DB, id, body string) string {
	t.Helper()
	var rev string
	err := db.Update(func(tx *store.Tx) error {
		parent := ""
		if d, err := tx.Get(store.DefaultCollection, id); err == nil {
			parent = d.RevID
		}
		d, err := tx.Put(store.DefaultCollection, id, []byte(body), store.PutOptions{ParentRev: parent})
		if err == nil {
			rev = d.RevID
		}
		return err
	})
	if err != nil {
		t.Fatalf("put %s: %v", id, err)
	}
	return rev
}

func get(t *testing.T, db *store.DB, id string) *store.Document {
	t.Helper()
	var d *store.Document
	err := db.View(func(tx *store.Tx) (err error) {
		d, err = tx.Get(store.DefaultCollection, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return d
}

// replicate runs one one-shot active session from active to passive over
// a pipe and returns its counters and Run's error.
func replicate(t *testing.T, active, passive *store.DB, aopts ActiveOptions, popts PassiveOptions) (Stats, error) {
	t.Helper()
	a, b := net.Pipe()
	ac := blip.NewConnOver(blip.NewStreamTransport(a), blip.Options{})
	pc := blip.NewConnOver(blip.NewStreamTransport(b), blip.Options{})
	aopts.DB, popts.DB = active, passive
	if aopts.RemoteID == "" {
		aopts.RemoteID = "passive-peer"
	}
	act, pas := NewActive(ac, aopts), NewPassive(pc, popts)
	pc.Start()
	ac.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // only stops a hung test
	defer cancel()
	err := act.Run(ctx)
	ac.Close()
	pc.Close()
	act.Close()
	pas.Close()
	return act.Stats(), err
}

func pushPull() RunConfig { return RunConfig{Push: true, Pull: true} }

func TestPipePushAndPull(t *testing.T) {
	a, b := openDB(t, "a"), openDB(t, "b")
	for i := range 3 {
		put(t, a, fmt.Sprintf("a%d", i), fmt.Sprintf(`{"n":%d}`, i))
	}
	put(t, b, "b0", `{"from":"b"}`)
	st, err := replicate(t, a, b, ActiveOptions{Run: pushPull()}, PassiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a0", "a1", "a2", "b0"} {
		da, db := get(t, a, id), get(t, b, id)
		if da == nil || db == nil || da.RevID != db.RevID || string(da.Body) != string(db.Body) {
			t.Errorf("%s: a has %+v, b has %+v", id, da, db)
		}
	}
	// b0, pulled, is offered back too; the peer has it, so no body goes.
	if st.Delta.SentFull != 3 || st.PushDone != st.PushTotal || st.PullTotal != 1 || st.PullDone != 1 {
		t.Errorf("stats %+v, want 3 bodies pushed and 1 pulled", st)
	}
}

func TestPipeConflictIsResolvedOnTheActiveSide(t *testing.T) {
	a, b := openDB(t, "a"), openDB(t, "b")
	put(t, a, "x", `{"v":0}`)
	if _, err := replicate(t, a, b, ActiveOptions{Run: pushPull()}, PassiveOptions{}); err != nil {
		t.Fatal(err)
	}
	put(t, a, "x", `{"v":"a"}`)
	put(t, b, "x", `{"v":"b"}`)
	var seen []Conflict
	remoteWins := func(c Conflict) (Revision, error) { seen = append(seen, c); return c.Remote, nil }
	if _, err := replicate(t, a, b, ActiveOptions{Run: pushPull(), ConflictResolver: remoteWins}, PassiveOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || string(seen[0].Local.Body) != `{"v":"a"}` || string(seen[0].Remote.Body) != `{"v":"b"}` {
		t.Fatalf("resolver saw %+v, want one conflict a/b", seen)
	}
	// The resolution is pushed in the next run; then both sides agree.
	if _, err := replicate(t, a, b, ActiveOptions{Run: pushPull(), ConflictResolver: remoteWins}, PassiveOptions{}); err != nil {
		t.Fatal(err)
	}
	da, db := get(t, a, "x"), get(t, b, "x")
	if da.Conflicted || string(da.Body) != `{"v":"b"}` {
		t.Errorf("a: conflicted=%v body %s, want the remote body and no conflict", da.Conflicted, da.Body)
	}
	if db.RevID != da.RevID || db.Conflicted {
		t.Errorf("b is at %s (conflicted=%v), a at %s", db.RevID, db.Conflicted, da.RevID)
	}
}

func TestPipeCheckpointResumes(t *testing.T) {
	a, b := openDB(t, "a"), openDB(t, "b")
	for i := range 3 {
		put(t, a, fmt.Sprintf("d%d", i), `{}`)
	}
	push := ActiveOptions{Run: RunConfig{Push: true}}
	if st, err := replicate(t, a, b, push, PassiveOptions{}); err != nil || st.PushTotal != 3 {
		t.Fatalf("first push: %+v, %v", st, err)
	}
	put(t, a, "d3", `{}`)
	put(t, a, "d4", `{}`)
	st, err := replicate(t, a, b, push, PassiveOptions{})
	if err != nil || st.PushTotal != 2 || st.PushDone != 2 {
		t.Fatalf("second push offered %d and finished %d (%v), want only the 2 new documents", st.PushTotal, st.PushDone, err)
	}
	// The passive peer lost its copy of the checkpoint: push from the older
	// of the two copies, the start, so nothing is skipped.
	id := checkpointID(a, "passive-peer", store.DefaultCollection, push.Run, nil)
	err = b.Update(func(tx *store.Tx) error { return tx.DeleteLocal(peerCheckpointKey(store.DefaultCollection, id)) })
	if err != nil {
		t.Fatal(err)
	}
	if st, err := replicate(t, a, b, push, PassiveOptions{}); err != nil || st.PushTotal != 5 {
		t.Fatalf("push after the peer lost its checkpoint offered %d (%v), want all 5", st.PushTotal, err)
	}
}

func TestPipeReadOnlyPassiveRefusesPush(t *testing.T) {
	a, b := openDB(t, "a"), openDB(t, "b")
	put(t, a, "x", `{}`)
	put(t, b, "y", `{}`)
	_, err := replicate(t, a, b, ActiveOptions{Run: RunConfig{Push: true}}, PassiveOptions{ReadOnly: true})
	var be *blip.Error
	if !errors.Is(err, ErrReadOnly) && !(errors.As(err, &be) && be.Code == 403) {
		t.Fatalf("push to a read-only peer: %v, want a 403 refusal", err)
	}
	if get(t, b, "x") != nil {
		t.Error("the read-only peer stored the pushed document")
	}
	if _, err := replicate(t, a, b, ActiveOptions{Run: RunConfig{Pull: true}}, PassiveOptions{ReadOnly: true}); err != nil {
		t.Fatalf("pull from a read-only peer: %v", err)
	}
	if get(t, a, "y") == nil {
		t.Error("pull from the read-only peer brought nothing")
	}
}

func TestPipeFilters(t *testing.T) {
	a, b := openDB(t, "a"), openDB(t, "b")
	put(t, a, "public-1", `{}`)
	put(t, a, "secret-1", `{}`)
	put(t, b, "public-2", `{}`)
	put(t, b, "secret-2", `{}`)
	public := func(_, id, _ string, _ bool, _ []byte) bool { return strings.HasPrefix(id, "public-") }
	_, err := replicate(t, a, b, ActiveOptions{Run: pushPull(), PushFilter: public, PullFilter: public}, PassiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if get(t, b, "public-1") == nil || get(t, a, "public-2") == nil {
		t.Error("a document the filters let through did not replicate")
	}
	if get(t, b, "secret-1") != nil || get(t, a, "secret-2") != nil {
		t.Error("a document the filters refuse replicated")
	}
}

// resolutions lists what db recorded of its automatic resolutions.
func resolutions(t *testing.T, db *store.DB) []store.Resolution {
	t.Helper()
	var rs []store.Resolution
	err := db.View(func(tx *store.Tx) (err error) {
		if rs, err = tx.Resolutions(0); err != nil {
			return err
		}
		for i := range rs { // with the bodies
			if rs[i], err = tx.Resolution(rs[i].ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Every automatic resolution is recorded on the resolving side with the
// rule and the losing body, over both protocols and for each kind of
// resolver.
func TestResolutionsAreRecorded(t *testing.T) {
	merge := func(Conflict) (Revision, error) { return Revision{Body: []byte(`{"v":"ab"}`)}, nil }
	for _, c := range []struct {
		name     string
		v4       bool
		resolver ConflictResolver
		rule     string
		loser    string
	}{
		{"v3 default", false, nil, RuleRevIDWins, ""},
		{"v3 remote wins", false, RemoteWins, RuleRemoteWins, `{"v":"a"}`},
		{"v3 local wins", false, LocalWins, RuleLocalWins, `{"v":"b"}`},
		{"v3 merge", false, merge, RuleCustomMerge, `{"v":"a"}`},
		{"v4 default", true, nil, RuleNewerEditWins, `{"v":"a"}`},
		{"v4 local wins", true, LocalWins, RuleLocalWins, `{"v":"b"}`},
		{"v4 merge", true, merge, RuleCustomMerge, `{"v":"a"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := openDB(t, "a"), openDB(t, "b")
			act, pas := ActiveOptions{Run: pushPull(), ConflictResolver: c.resolver}, PassiveOptions{}
			if c.v4 {
				act, pas = v4(act), v4Passive
			}
			conflictOn(t, a, b, "x", func(a, b *store.DB) {
				put(t, a, "x", `{"v":"a"}`)
				put(t, b, "x", `{"v":"b"}`) // b's edit is the newer
			})
			before := get(t, a, "x")
			if _, err := replicate(t, a, b, act, pas); err != nil {
				t.Fatal(err)
			}
			rs := resolutions(t, a)
			if len(rs) != 1 {
				t.Fatalf("a recorded %+v, want one resolution", rs)
			}
			r, d := rs[0], get(t, a, "x")
			if r.DocID != "x" || r.Collection != store.DefaultCollection || r.Rule != c.rule || r.Winner != d.RevID || r.LoserDeleted {
				t.Errorf("recorded %+v; document at %s", r, d.RevID)
			}
			want := c.loser
			if want == "" { // the default over CBMobile_3 picks by revision ID
				want = `{"v":"a"}`
				if string(d.Body) == want {
					want = `{"v":"b"}`
				}
			}
			if string(r.LoserBody) != want {
				t.Errorf("loser's body %s, want %s", r.LoserBody, want)
			}
			if want == `{"v":"a"}` && r.Loser != before.RevID {
				t.Errorf("loser %s, want the local revision %s", r.Loser, before.RevID)
			}
			if rs := resolutions(t, b); len(rs) != 0 {
				t.Errorf("the passive side recorded %+v", rs)
			}
		})
	}
}
