package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"peersync/syncengine/hlv"
	"peersync/syncengine/revtree"
)

// remoteVersion is a version by another database, at a time the clock accepts.
func remoteVersion(t *testing.T, src string) hlv.Version {
	t.Helper()
	s, err := hlv.ParseSourceID(src)
	if err != nil {
		t.Fatal(err)
	}
	return hlv.Version{Time: uint64(time.Now().UnixNano()) &^ 0xFFFF, Source: s}
}

const peerB = "BBBBBBBBBBBBBBBBBBBBBA"

func legacy(t *testing.T, rev string) hlv.Vector {
	t.Helper()
	v, err := hlv.LegacyVersion(rev)
	if err != nil {
		t.Fatal(err)
	}
	return hlv.Vector{Current: v}
}

func compare(t *testing.T, db *DB, id string, in hlv.Vector, legacyIDs ...string) Relation {
	t.Helper()
	var rel Relation
	if err := db.View(func(tx *Tx) error {
		var err error
		rel, err = tx.CompareVersion(DefaultCollection, id, in, legacyIDs...)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestCompareVersion(t *testing.T) {
	db := openTest(t)
	var first, second *Document
	if err := db.Update(func(tx *Tx) error {
		var err error
		if first, err = tx.Put(DefaultCollection, "a", []byte(`{"n":1}`), PutOptions{}); err != nil {
			return err
		}
		second, err = tx.Put(DefaultCollection, "a", []byte(`{"n":2}`), PutOptions{ParentRev: first.RevID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b := remoteVersion(t, peerB)
	for _, c := range []struct {
		name string
		id   string
		in   hlv.Vector
		want Relation
	}{
		{"unknown document", "nope", hlv.Vector{Current: b}, Unknown},
		{"same vector", "a", second.Vector, HaveIt},
		{"older revision", "a", first.Vector, HaveIt},
		{"edit on top of the winner", "a", second.Vector.Add(b), FastForward},
		{"edit on top of an older revision", "a", first.Vector.Add(b), Concurrent},
		{"unrelated version", "a", hlv.Vector{Current: b}, Concurrent},
	} {
		if got := compare(t, db, c.id, c.in); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if err := db.View(func(tx *Tx) error {
		_, err := tx.CompareVersion("no.such", "a", hlv.Vector{Current: b})
		return err
	}); err == nil {
		t.Error("compare in a missing collection: no error")
	}
}

// A document received with a revision-tree history compares through the
// legacy versions of its revision IDs.
func TestCompareVersionLegacy(t *testing.T) {
	db := openTest(t)
	if err := db.Update(func(tx *Tx) error {
		_, _, err := tx.PutRevision(DefaultCollection, "l", []string{"2-bbbb2222", "1-aaaa1111"}, false, []byte(`{"v":2}`))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b := hlv.Vector{Current: remoteVersion(t, peerB)}
	for _, c := range []struct {
		name   string
		in     hlv.Vector
		legacy []string
		want   Relation
	}{
		{"winner's legacy version", legacy(t, "2-bbbb2222"), nil, HaveIt},
		{"ancestor's legacy version", legacy(t, "1-aaaa1111"), nil, HaveIt},
		{"same generation, other digest", legacy(t, "2-cccc3333"), nil, Concurrent},
		{"version after the winner's revision ID", b, []string{"2-bbbb2222", "1-aaaa1111"}, FastForward},
		{"version after an ancestor's revision ID", b, []string{"1-aaaa1111"}, Concurrent},
		{"version without legacy history", b, nil, Concurrent},
	} {
		if got := compare(t, db, "l", c.in, c.legacy...); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func putVersioned(t *testing.T, db *DB, id, body string, deleted bool, vec hlv.Vector, legacyIDs ...string) (bool, *Document, error) {
	t.Helper()
	var added bool
	var d *Document
	err := db.Update(func(tx *Tx) error {
		var err error
		added, d, err = tx.PutVersioned(DefaultCollection, id, []byte(body), deleted, vec, legacyIDs)
		return err
	})
	return added, d, err
}

func mustGet(t *testing.T, db *DB, id string) *Document {
	t.Helper()
	var d *Document
	if err := db.View(func(tx *Tx) (err error) { d, err = tx.Get(DefaultCollection, id); return err }); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPutVersionedNewDocument(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "n.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := hlv.Vector{Current: remoteVersion(t, peerB)}
	added, d, err := putVersioned(t, db, "n", `{"a":1}`, false, in)
	if err != nil || !added {
		t.Fatalf("added %v, %v", added, err)
	}
	if want := revtree.NewRevID("", false, []byte(`{"a":1}`)); d.RevID != want {
		t.Errorf("revision %s, want %s", d.RevID, want)
	}
	// Identical content under an identical parent: the identical revision ID.
	if _, other, err := putVersioned(t, db, "m", `{"a":1}`, false, in); err != nil || other.RevID != d.RevID {
		t.Errorf("second document: %v, revision %s, want %s", err, other.RevID, d.RevID)
	}
	db = reopen(t, db, Options{})
	got := mustGet(t, db, "n")
	if got.Vector.String() != in.String() || string(got.Body) != `{"a":1}` {
		t.Errorf("after reopen: vector %s body %s, want %s", got.Vector, got.Body, in)
	}
	// The clock saw the received version: a local edit is newer.
	var local *Document
	if err := db.Update(func(tx *Tx) (err error) {
		local, err = tx.Put(DefaultCollection, "n", []byte(`{"a":2}`), PutOptions{ParentRev: got.RevID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if local.Vector.Current.Time <= in.Current.Time {
		t.Errorf("local version %s is not after the received %s", local.Vector.Current, in.Current)
	}
}

func TestPutVersionedFastForward(t *testing.T) {
	db := openTest(t)
	c := hlv.Vector{Current: remoteVersion(t, "CCCCCCCCCCCCCCCCCCCCCA")}
	if _, _, err := putVersioned(t, db, "a", `{"from":"c"}`, false, c); err != nil {
		t.Fatal(err)
	}
	var mine *Document
	if err := db.Update(func(tx *Tx) (err error) {
		mine, err = tx.Put(DefaultCollection, "a", []byte(`{"from":"me"}`), PutOptions{ParentRev: mustGet(t, db, "a").RevID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// B edited on top of this database's version without having heard of C:
	// C stays in the stored vector's previous versions.
	in := hlv.Vector{Current: remoteVersion(t, peerB), Previous: []hlv.Version{mine.Vector.Current}}
	if in.Current.Time <= mine.Vector.Current.Time {
		in.Current.Time = mine.Vector.Current.Time + 1
	}
	added, d, err := putVersioned(t, db, "a", `{"from":"b"}`, false, in)
	if err != nil || !added {
		t.Fatalf("added %v, %v", added, err)
	}
	if r, _ := d.Tree.Get(d.RevID); r.Parent != mine.RevID {
		t.Errorf("parent %s, want the old winner %s", r.Parent, mine.RevID)
	}
	if want := hlv.FastForward(in, mine.Vector); d.Vector.String() != want.String() || d.Vector.TimeOf(c.Current.Source) != c.Current.Time {
		t.Errorf("vector %s, want %s (keeping %s)", d.Vector, want, c.Current)
	}
	// The same revision again is known: nothing is written.
	seq := mustGet(t, db, "a").Sequence
	if added, _, err := putVersioned(t, db, "a", `{"from":"b"}`, false, in); err != nil || added {
		t.Errorf("again: added %v, %v", added, err)
	}
	if got := mustGet(t, db, "a"); got.Sequence != seq {
		t.Errorf("sequence moved from %d to %d", seq, got.Sequence)
	}
}

func TestPutVersionedConflictWritesNothing(t *testing.T) {
	db := openTest(t)
	var mine *Document
	if err := db.Update(func(tx *Tx) (err error) {
		mine, err = tx.Put(DefaultCollection, "a", []byte(`{"v":1}`), PutOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	in := hlv.Vector{Current: remoteVersion(t, peerB)}
	_, _, err := putVersioned(t, db, "a", `{"v":"b"}`, false, in)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("concurrent revision: %v, want ErrConflict", err)
	}
	got := mustGet(t, db, "a")
	if got.Sequence != mine.Sequence || got.RevID != mine.RevID || got.Tree.Len() != 1 {
		t.Errorf("conflict wrote: sequence %d→%d, revision %s→%s", mine.Sequence, got.Sequence, mine.RevID, got.RevID)
	}
	// A time too far ahead is refused before anything is written.
	ahead := mine.Vector.Add(hlv.Version{Time: uint64(time.Now().Add(time.Hour).UnixNano()), Source: in.Current.Source})
	if _, _, err := putVersioned(t, db, "a", `{"v":"b"}`, false, ahead); !errors.Is(err, hlv.ErrInvalid) {
		t.Errorf("time an hour ahead: %v, want hlv.ErrInvalid", err)
	}
	if got := mustGet(t, db, "a"); got.Sequence != mine.Sequence {
		t.Errorf("refused time wrote sequence %d", got.Sequence)
	}
}

// A v3-era document meets v4: the revision IDs after the versions name the
// parent.
func TestPutVersionedOnLegacyParent(t *testing.T) {
	db := openTest(t)
	if err := db.Update(func(tx *Tx) error {
		_, _, err := tx.PutRevision(DefaultCollection, "l", []string{"2-bbbb2222", "1-aaaa1111"}, false, []byte(`{"v":2}`))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	in := hlv.Vector{Current: remoteVersion(t, peerB)}
	if _, _, err := putVersioned(t, db, "l", `{"v":3}`, false, in); !errors.Is(err, ErrConflict) {
		t.Errorf("without legacy history: %v, want ErrConflict", err)
	}
	added, d, err := putVersioned(t, db, "l", `{"v":3}`, false, in, "2-bbbb2222", "1-aaaa1111")
	if err != nil || !added {
		t.Fatalf("added %v, %v", added, err)
	}
	if want := revtree.NewRevID("2-bbbb2222", false, []byte(`{"v":3}`)); d.RevID != want {
		t.Errorf("revision %s, want %s", d.RevID, want)
	}
	if d.Vector.String() != in.String() {
		t.Errorf("vector %s, want %s", d.Vector, in)
	}
}

func TestPutVersionedTombstone(t *testing.T) {
	db := openTest(t)
	first := hlv.Vector{Current: remoteVersion(t, peerB)}
	if _, _, err := putVersioned(t, db, "t", `{"v":1}`, false, first); err != nil {
		t.Fatal(err)
	}
	del := hlv.Vector{Current: hlv.Version{Time: first.Current.Time + 1, Source: first.Current.Source}}
	added, d, err := putVersioned(t, db, "t", "", true, del)
	if err != nil || !added {
		t.Fatalf("added %v, %v", added, err)
	}
	if !d.Deleted || string(d.Body) != "{}" {
		t.Errorf("deleted %v body %s", d.Deleted, d.Body)
	}
	var n int
	if err := db.View(func(tx *Tx) (err error) { n, err = tx.Count(DefaultCollection); return err }); err != nil || n != 0 {
		t.Errorf("count %d, %v; want 0", n, err)
	}
}

// What a v4 sender reads to build a changes row and a rev's history: the
// change feed names the document, and its Vector gives the current version
// and the rest of the vector; a legacy document gives its legacy version.
func TestVectorForSender(t *testing.T) {
	db := openTest(t)
	b := remoteVersion(t, peerB)
	c := remoteVersion(t, "CCCCCCCCCCCCCCCCCCCCCA")
	c.Time--
	in := hlv.Vector{Current: b, Previous: []hlv.Version{c}}
	if _, _, err := putVersioned(t, db, "v", `{"v":1}`, false, in); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *Tx) error {
		_, _, err := tx.PutRevision(DefaultCollection, "l", []string{"3-cccc3333", "2-cccc2222"}, false, []byte(`{}`))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var changes []Change
	if err := db.View(func(tx *Tx) (err error) { changes, err = tx.ChangesSince(DefaultCollection, 0, 0); return err }); err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 {
		t.Fatalf("%d changes, want 2", len(changes))
	}
	want := map[string][2]string{
		"v": {b.String(), c.String()},
		"l": {"3cccc333300@Revision+Tree+Encoding", ""},
	}
	for _, ch := range changes {
		d := mustGet(t, db, ch.DocID)
		if got := [2]string{d.Vector.Current.String(), d.Vector.History()}; got != want[ch.DocID] {
			t.Errorf("%s: cv and history %q, want %q", ch.DocID, got, want[ch.DocID])
		}
	}
}

// A peer's legacy history may name an ancestor of the winner when its vector
// includes the winner: the new revision continues the winner.
func TestPutVersionedLegacyAncestorParent(t *testing.T) {
	db := openTest(t)
	var mine *Document
	if err := db.Update(func(tx *Tx) error {
		if _, _, err := tx.PutRevision(DefaultCollection, "l", []string{"2-bbbb2222", "1-aaaa1111"}, false, []byte(`{"v":2}`)); err != nil {
			return err
		}
		var err error
		mine, err = tx.Put(DefaultCollection, "l", []byte(`{"v":3}`), PutOptions{ParentRev: "2-bbbb2222"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	in := mine.Vector.Add(remoteVersion(t, peerB))
	if in.Current.Time <= mine.Vector.Current.Time {
		in.Current.Time = mine.Vector.Current.Time + 1
	}
	added, d, err := putVersioned(t, db, "l", `{"v":4}`, false, in, "2-bbbb2222", "1-aaaa1111")
	if err != nil || !added {
		t.Fatalf("added %v, %v", added, err)
	}
	if r, _ := d.Tree.Get(d.RevID); r.Parent != mine.RevID {
		t.Errorf("parent %s, want the winner %s", r.Parent, mine.RevID)
	}
}

// A conflicting revision is kept beside the winner, with its vector, until
// Resolve settles it; both sides are found by their versions.
func TestPutConflictingThenResolve(t *testing.T) {
	db := openTest(t)
	var first, second *Document
	if err := db.Update(func(tx *Tx) error {
		var err error
		if first, err = tx.Put(DefaultCollection, "a", []byte(`{"n":1}`), PutOptions{}); err != nil {
			return err
		}
		second, err = tx.Put(DefaultCollection, "a", []byte(`{"n":2}`), PutOptions{ParentRev: first.RevID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	remote := first.Vector.Add(remoteVersion(t, peerB))
	var rev string
	if err := db.Update(func(tx *Tx) error {
		if _, _, err := tx.PutVersioned(DefaultCollection, "a", []byte(`{"n":"b"}`), false, remote, nil); !errors.Is(err, ErrConflict) {
			t.Fatalf("PutVersioned of a conflict: %v", err)
		}
		var err error
		rev, err = tx.PutConflicting(DefaultCollection, "a", []byte(`{"n":"b"}`), false, remote)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *Tx) error {
		d, err := tx.Get(DefaultCollection, "a")
		if err != nil {
			return err
		}
		if !d.Conflicted || !d.Tree.IsLeaf(rev) || !d.Tree.IsLeaf(second.RevID) {
			t.Fatalf("after PutConflicting: conflicted=%v leaves=%v", d.Conflicted, d.Tree.Leaves())
		}
		if got, ok := d.RevOfVersion(remote.Current); !ok || got != rev {
			t.Fatalf("RevOfVersion(remote) = %q %v, want %q", got, ok, rev)
		}
		if got, ok := d.RevOfVersion(second.Vector.Current); !ok || got != second.RevID {
			t.Fatalf("RevOfVersion(local) = %q %v, want %q", got, ok, second.RevID)
		}
		d, err = tx.Resolve(DefaultCollection, "a", rev, nil, false)
		if err != nil {
			return err
		}
		if d.Conflicted || d.RevID != rev || d.Vector.Current != remote.Current || !d.Vector.Dominates(second.Vector.Current) {
			t.Fatalf("after Resolve: rev %s vector %v conflicted %v", d.RevID, d.Vector, d.Conflicted)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
