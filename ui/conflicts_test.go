package ui

import (
	"fyne.io/fyne/v2/test"

	"reflect"
	"testing"

	"peersync/syncengine"
	"peersync/syncengine/revtree"
	"peersync/syncengine/store"
)

// conflict makes "doc" in db conflicted: a local edit and a revision from
// a "peer" both on top of the first revision.
func conflict(t *testing.T, db *syncengine.Database) (local, remote string) {
	t.Helper()
	first := save(t, db, "doc", "", `{"name":"x","count":1,"same":true}`)
	local = save(t, db, "doc", first, `{"name":"local","count":1,"same":true}`)
	remoteBody := []byte(`{"name":"remote","count":2,"same":true,"extra":"e"}`)
	remote = revtree.NewRevID(first, false, remoteBody)
	err := db.Store().Update(func(tx *store.Tx) error {
		_, _, err := tx.PutRevision(syncengine.DefaultCollection, "doc", []string{remote, first}, false, remoteBody)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.DefaultCollection().Get("doc")
	if err != nil || !d.Conflicted {
		t.Fatalf("setup: doc not conflicted: %v %v", d, err)
	}
	return local, remote
}

func TestConflictCenterPicksAWinner(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	local, remote := conflict(t, db)
	s := h.u.conflicts
	h.u.show(navConflicts)
	h.settle()
	if want := []conflictRef{{"notes", syncengine.DefaultCollection, "doc"}}; !reflect.DeepEqual(s.refs, want) {
		t.Fatalf("conflicts = %v, want %v", s.refs, want)
	}
	s.list.Select(0)
	h.settle()
	if len(s.leaves) != 2 || len(s.keepBtns) != 2 {
		t.Fatalf("%d leaves, %d buttons", len(s.leaves), len(s.keepBtns))
	}
	winner := s.leaves[0].Rev
	if !s.leaves[0].Winner || (winner != local && winner != remote) {
		t.Fatalf("leaves %+v", s.leaves)
	}
	if !hasText(s.detail, `"name": "local"`) || !hasText(s.detail, `"name": "remote"`) {
		t.Errorf("side by side view shows %q", texts(s.detail))
	}
	// The local edit has a version vector; the revision from the peer,
	// saved with a revision-tree history, has none of its own.
	d, _ := db.DefaultCollection().Get("doc")
	if v := "Version " + d.VectorOf(local).Current.String(); !hasText(s.detail, v) || hasText(s.detail, "Version "+d.VectorOf(remote).Current.String()) {
		t.Errorf("versions shown: %q, want only the local one (%s)", texts(s.detail), v)
	}
	assertMarkupWithVersions(t, "conflicts.xml", h.u.win.Canvas())

	loser := s.leaves[1]
	test.Tap(s.keepBtns[1])
	if s.confirm == nil {
		t.Fatal("no confirmation")
	}
	s.confirm.Confirm()
	h.settle()
	if len(s.refs) != 0 || s.empty.Text != "Resolved notes › doc." || s.status.Text != "No conflicts" {
		t.Errorf("after resolving: refs %v, detail %q, status %q", s.refs, s.empty.Text, s.status.Text)
	}
	d, err := db.DefaultCollection().Get("doc")
	if err != nil || d.Conflicted || d.RevID != loser.Rev || string(d.Body) != string(loser.Body) {
		t.Errorf("doc after picking %s: %v (%v)", loser.Rev, d, err)
	}
}

func TestConflictCenterSavesAMerge(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	conflict(t, db)
	s := h.u.conflicts
	h.u.show(navConflicts)
	h.settle()
	s.list.Select(0)
	h.settle()
	winner := s.leaves[0].Rev

	s.merge.SetText(`{"name": `)
	if !s.problem.Visible() || !s.mergeBtn.Disabled() {
		t.Error("an invalid merge can be saved")
	}
	s.merge.SetText(`{"name": "merged", "count": 3}`)
	test.Tap(s.mergeBtn)
	h.settle()
	if len(s.refs) != 0 {
		t.Errorf("still listed: %v", s.refs)
	}
	d, err := db.DefaultCollection().Get("doc")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := d.Tree.Get(d.RevID)
	if d.Conflicted || string(d.Body) != `{"name":"merged","count":3}` || r.Parent != winner {
		t.Errorf("after merge: %s on %s (conflicted %v), want the merge on %s", d.Body, r.Parent, d.Conflicted, winner)
	}
}

func TestConflictCenterFollowsResolutionsElsewhere(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	local, _ := conflict(t, db)
	s := h.u.conflicts
	h.u.show(navConflicts)
	h.settle()
	s.list.Select(0)
	h.settle()
	if _, err := db.DefaultCollection().Resolve("doc", local, nil); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if len(s.refs) != 0 || s.selected != nil || !s.empty.Visible() {
		t.Errorf("after an outside resolution: refs %v, selected %v", s.refs, s.selected)
	}
}

func TestDifferingKeys(t *testing.T) {
	got := differingKeys([][]byte{
		[]byte(`{"a":1,"b":{"x":[1,2]},"c":"same","d":null}`),
		[]byte(`{"a":2,"b":{ "x" : [1, 2] },"c":"same","e":true}`),
	})
	want := map[string]bool{"a": true, "d": true, "e": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("differingKeys = %v, want %v", got, want)
	}
}
