package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"peersync/syncengine/hlv"
)

// reopen closes db and opens its file again with opts.
func reopen(t *testing.T, db *DB, opts Options) *DB {
	t.Helper()
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSourceIDStableAndDistinct(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(filepath.Join(dir, "a.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := a.SourceID()
	if id.IsZero() {
		t.Fatal("new database has no source ID")
	}
	text := id.String()
	if parsed, err := hlv.ParseSourceID(text); err != nil || parsed != id || len(text) != 22 {
		t.Fatalf("source ID %q: parsed %v, %v", text, parsed, err)
	}
	a = reopen(t, a, Options{})
	if a.SourceID() != id {
		t.Fatalf("source ID changed across reopen: %s then %s", id, a.SourceID())
	}
	b := openTest(t)
	if b.SourceID() == id {
		t.Fatal("two databases share a source ID")
	}
}

// wallClock is a settable wall clock for Options.Wall.
type wallClock struct {
	mu  sync.Mutex
	now time.Time
}

func (w *wallClock) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *wallClock) Set(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = t
}

func newVersion(t *testing.T, db *DB) hlv.Version {
	t.Helper()
	var v hlv.Version
	if err := db.Update(func(tx *Tx) (err error) {
		v, err = tx.NewVersion()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestClockNeverGoesBackAcrossReopen(t *testing.T) {
	wall := &wallClock{now: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	opts := Options{Wall: wall.Now}
	db, err := Open(filepath.Join(t.TempDir(), "c.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	v1 := newVersion(t, db)
	if v1.Source != db.SourceID() || v1.Time != uint64(wall.Now().UnixNano())&^0xFFFF {
		t.Fatalf("first version %s: want this source at the wall clock's time", v1)
	}
	v2 := newVersion(t, db) // the wall clock has not moved: the counter does
	if v2.Time <= v1.Time {
		t.Fatalf("second version %s is not after %s", v2, v1)
	}

	// The wall clock steps back an hour while the database is closed.
	wall.Set(wall.Now().Add(-time.Hour))
	db = reopen(t, db, opts)
	if v3 := newVersion(t, db); v3.Time <= v2.Time {
		t.Fatalf("after reopen with the wall clock an hour back: %s is not after %s", v3, v2)
	}
}

func TestClockSavesWhatItSaw(t *testing.T) {
	wall := &wallClock{now: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	opts := Options{Wall: wall.Now}
	db, err := Open(filepath.Join(t.TempDir(), "c.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := hlv.NewSourceID()
	seen := hlv.Version{Time: uint64(wall.Now().Add(time.Minute).UnixNano()), Source: peer}
	if err := db.Update(func(tx *Tx) error { return tx.See(seen) }); err != nil {
		t.Fatal(err)
	}
	// Too far ahead: refused, and the clock keeps what it had.
	ahead := hlv.Version{Time: uint64(wall.Now().Add(time.Hour).UnixNano()), Source: peer}
	if err := db.Update(func(tx *Tx) error { return tx.See(ahead) }); !errors.Is(err, hlv.ErrInvalid) {
		t.Fatalf("see a time an hour ahead: %v, want hlv.ErrInvalid", err)
	}
	// The seen time was saved with its transaction: after a reopen with the
	// wall clock an hour back, new versions are still later than it.
	wall.Set(wall.Now().Add(-time.Hour))
	db = reopen(t, db, opts)
	v := newVersion(t, db)
	if v.Time <= seen.Time || v.Time >= ahead.Time {
		t.Fatalf("after reopen: %s; want after the seen %s and before the refused %s", v, seen, ahead)
	}
	if err := db.View(func(tx *Tx) error { _, err := tx.NewVersion(); return err }); err == nil {
		t.Fatal("a read-only transaction issued a version")
	}
}

func putRevision(t *testing.T, db *DB, id string, hist []string, body string) *Document {
	t.Helper()
	var d *Document
	if err := db.Update(func(tx *Tx) (err error) {
		_, d, err = tx.PutRevision(DefaultCollection, id, hist, false, []byte(body))
		return err
	}); err != nil {
		t.Fatalf("PutRevision %v: %v", hist, err)
	}
	return d
}

func resolve(t *testing.T, db *DB, id, winner string, merged []byte) *Document {
	t.Helper()
	var d *Document
	if err := db.Update(func(tx *Tx) (err error) {
		d, err = tx.Resolve(DefaultCollection, id, winner, merged, false)
		return err
	}); err != nil {
		t.Fatalf("resolve %s: %v", id, err)
	}
	return d
}

func legacyOf(t *testing.T, rev string) hlv.Vector {
	t.Helper()
	v, err := hlv.LegacyVersion(rev)
	if err != nil {
		t.Fatal(err)
	}
	return hlv.Vector{Current: v}
}

func TestLocalWritesRecordVectors(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "v.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	self := db.SourceID()
	d1 := put(t, db, "a", `{"n":1}`, PutOptions{})
	if d1.Vector.Current.Source != self || d1.Vector.Merges != nil || d1.Vector.Previous != nil {
		t.Fatalf("new document's vector %s: want one version of this database", d1.Vector)
	}
	d2 := put(t, db, "a", `{"n":2}`, PutOptions{ParentRev: d1.RevID})
	// Its own earlier version is dropped, not kept as a previous version.
	if d2.Vector.Current.Source != self || d2.Vector.Previous != nil || hlv.Compare(d2.Vector, d1.Vector) != hlv.Newer {
		t.Fatalf("update's vector %s after %s", d2.Vector, d1.Vector)
	}
	del := put(t, db, "a", "", PutOptions{ParentRev: d2.RevID, Deleted: true})
	if hlv.Compare(del.Vector, d2.Vector) != hlv.Newer {
		t.Fatalf("delete's vector %s after %s", del.Vector, d2.Vector)
	}
	// What was returned is what is stored, for the ancestors too.
	got, _ := get(t, db, "a")
	if got.Vector.String() != del.Vector.String() || got.VectorOf(d2.RevID).String() != d2.Vector.String() {
		t.Fatalf("read back %s (parent %s); wrote %s (parent %s)", got.Vector, got.VectorOf(d2.RevID), del.Vector, d2.Vector)
	}
	db = reopen(t, db, Options{})
	if got, _ := get(t, db, "a"); got.Vector.String() != del.Vector.String() {
		t.Fatalf("after reopen %s, wrote %s", got.Vector, del.Vector)
	}
}

func TestReceivedRevisionsGetLegacyVersions(t *testing.T) {
	db := openTest(t)
	// A peer's revision through the revision-tree path on top of a
	// revision with no vector keeps none: it reads as its legacy version.
	old := putRevision(t, db, "old", []string{"2-" + strings.Repeat("cd", 20), "1-" + strings.Repeat("ef", 20)}, `{"old":true}`)
	if old.Vector.String() != legacyOf(t, old.RevID).String() {
		t.Fatalf("received revision with legacy ancestors: vector %s, want its legacy version", old.Vector)
	}
	// On top of a local revision, it is its legacy version after the
	// parent's vector, and the local one it follows keeps its own.
	local := put(t, db, "a", `{"n":1}`, PutOptions{})
	hist := []string{"2-" + strings.Repeat("ab", 20), local.RevID}
	d := putRevision(t, db, "a", hist, `{"n":2}`)
	if want := local.Vector.Add(legacyOf(t, hist[0]).Current); d.RevID != hist[0] || d.Vector.String() != want.String() {
		t.Fatalf("received revision's vector %s, want %s", d.Vector, want)
	}
	if d.VectorOf(local.RevID).String() != local.Vector.String() {
		t.Fatalf("the local parent's vector became %s", d.VectorOf(local.RevID))
	}
	// A local edit on top: a version of this database, the legacy one previous.
	e := put(t, db, "a", `{"n":3}`, PutOptions{ParentRev: d.RevID})
	want := legacyOf(t, hist[0]).Current
	if e.Vector.Current.Source != db.SourceID() || len(e.Vector.Previous) != 1 || e.Vector.Previous[0] != want {
		t.Fatalf("edit on a received revision: %s, want previous %s", e.Vector, want)
	}
	if err := e.Vector.Validate(); err != nil {
		t.Fatal(err)
	}
}

// conflicted makes a document with a local leaf and a received one, and
// returns the local leaf's document and the received revision's ID.
func conflicted(t *testing.T, db *DB, id string) (local *Document, remote string) {
	t.Helper()
	root := put(t, db, id, `{"n":1}`, PutOptions{})
	local = put(t, db, id, `{"side":"local"}`, PutOptions{ParentRev: root.RevID})
	remote = "2-" + strings.Repeat("0", 40)
	if d := putRevision(t, db, id, []string{remote, root.RevID}, `{"side":"remote"}`); !d.Conflicted {
		t.Fatal("no conflict")
	}
	return local, remote
}

func TestResolveRecordsVectors(t *testing.T) {
	db := openTest(t)
	t.Run("merged body", func(t *testing.T) {
		local, remote := conflicted(t, db, "m")
		remoteVec := legacyOf(t, remote)
		d := resolve(t, db, "m", local.RevID, []byte(`{"side":"both"}`))
		v := d.Vector
		if v.Current.Source != db.SourceID() || len(v.Merges) != 2 || v.Validate() != nil {
			t.Fatalf("merged revision's vector %s: want a new version merging both sides", v)
		}
		if hlv.Compare(v, local.Vector) != hlv.Newer || hlv.Compare(v, remoteVec) != hlv.Newer {
			t.Fatalf("merge %s does not include %s and %s", v, local.Vector, remoteVec)
		}
	})
	t.Run("one side wins", func(t *testing.T) {
		local, remote := conflicted(t, db, "w")
		loser := local.Vector
		d := resolve(t, db, "w", remote, nil)
		// No new version on the winner, but it now includes the loser.
		if d.RevID != remote || d.Vector.Current != legacyOf(t, remote).Current {
			t.Fatalf("winner %s %s, want %s's legacy version unchanged", d.RevID, d.Vector, remote)
		}
		if hlv.Compare(d.Vector, loser) != hlv.Newer || d.Vector.Validate() != nil {
			t.Fatalf("winner's vector %s does not include the loser's %s", d.Vector, loser)
		}
		// The tombstone closing the loser's branch is a local write too.
		for _, l := range d.Tree.Leaves() {
			if l.Deleted && l.Parent == local.RevID {
				if tv := d.VectorOf(l.ID); tv.Current.Source != db.SourceID() || hlv.Compare(tv, loser) != hlv.Newer {
					t.Fatalf("tombstone's vector %s after %s", tv, loser)
				}
				return
			}
		}
		t.Fatal("losing branch not tombstoned")
	})
}

// A received revision ID whose digest is not hex has no legacy version:
// resolving against it still records valid vectors.
func TestResolveWithARevisionWithoutLegacyVersion(t *testing.T) {
	db := openTest(t)
	root := put(t, db, "x", `{"n":1}`, PutOptions{})
	local := put(t, db, "x", `{"side":"local"}`, PutOptions{ParentRev: root.RevID})
	odd := "2-ZZZZ"
	putRevision(t, db, "x", []string{odd, root.RevID}, `{"side":"odd"}`)
	d := resolve(t, db, "x", odd, []byte(`{"side":"both"}`))
	if err := d.Vector.Validate(); err != nil || d.Vector.Current.Source != db.SourceID() {
		t.Fatalf("merged vector %s: %v", d.Vector, err)
	}
	if hlv.Compare(d.Vector, local.Vector) != hlv.Newer {
		t.Fatalf("merged vector %s does not include the local side %s", d.Vector, local.Vector)
	}
	for _, rv := range d.vectors {
		if err := rv.vec.Validate(); err != nil {
			t.Errorf("revision %s: %v", rv.rev, err)
		}
		for _, v := range append(append([]hlv.Version{rv.vec.Current}, rv.vec.Merges...), rv.vec.Previous...) {
			if v.IsZero() {
				t.Errorf("revision %s: vector %s holds a zero version", rv.rev, rv.vec)
			}
		}
	}
}

func TestPrunedRevisionsDropTheirVectors(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "p.db"), Options{MaxRevTreeDepth: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := put(t, db, "a", `{"n":0}`, PutOptions{})
	first := d.RevID
	for i := 1; i < 10; i++ {
		d = put(t, db, "a", fmt.Sprintf(`{"n":%d}`, i), PutOptions{ParentRev: d.RevID})
	}
	got, _ := get(t, db, "a")
	if got.Tree.Contains(first) || len(got.vectors) != got.Tree.Len() {
		t.Fatalf("%d vectors for %d revisions", len(got.vectors), got.Tree.Len())
	}
	if got.Vector.String() != d.Vector.String() {
		t.Fatalf("read %s, wrote %s", got.Vector, d.Vector)
	}
}

// Every cut of a record with vectors is an error, never a panic or a
// silent success.
func TestTruncatedVectorsAreDamage(t *testing.T) {
	db := openTest(t)
	local, _ := conflicted(t, db, "c")
	d := resolve(t, db, "c", local.RevID, []byte(`{"x":1}`))
	rec := encodeRecord(d)
	if back, err := decodeRecord("c", rec); err != nil || back.Vector.String() != d.Vector.String() {
		t.Fatalf("round trip: %v, %v", back, err)
	}
	for n := range len(rec) {
		if _, err := decodeRecord("c", rec[:n]); !errors.Is(err, ErrDamaged) {
			t.Fatalf("record cut to %d of %d bytes: %v", n, len(rec), err)
		}
	}
}

func TestVerifyChecksVectorsAndMeta(t *testing.T) {
	db := openTest(t)
	d := put(t, db, "a", `{"n":1}`, PutOptions{})
	if rep, err := db.Verify(nil); err != nil || rep.Damaged() {
		t.Fatalf("sound file: %+v, %v", rep, err)
	}
	// A vector naming its own source twice, and a source ID that is not one.
	bad := d.Vector
	bad.Previous = []hlv.Version{{Time: 1 << 41, Source: bad.Current.Source}}
	d.setVector(d.RevID, bad)
	err := db.Update(func(tx *Tx) error {
		b, _ := tx.coll(DefaultCollection)
		if err := b.Bucket(bucketDocs).Put([]byte("a"), encodeRecord(d)); err != nil {
			return err
		}
		return tx.btx.Bucket(bucketMeta).Put(keySource, []byte("not a source"))
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := db.Verify(nil)
	if err != nil || len(rep.Problems) != 2 || !strings.Contains(rep.Problems[0], "source ID") || !strings.Contains(rep.Problems[1], "appears twice") {
		t.Fatalf("report %+v, %v: want the vector and the source ID", rep, err)
	}
	// Put it back, for openTest's checks.
	db.Update(func(tx *Tx) error {
		return tx.btx.Bucket(bucketMeta).Put(keySource, []byte(db.SourceID().String()))
	})
}

// ResolveOnto keeps the remote revision's body and version but continues
// the local branch.
func TestResolveOntoContinuesTheBase(t *testing.T) {
	db := openTest(t)
	local, remote := conflicted(t, db, "a")
	before, _ := get(t, db, "a")
	remoteVec := before.VectorOf(remote)
	var d *Document
	if err := db.Update(func(tx *Tx) (err error) {
		d, err = tx.ResolveOnto(DefaultCollection, "a", local.RevID, remote)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if d.Conflicted || string(d.Body) != `{"side":"remote"}` || d.Vector.Current != remoteVec.Current {
		t.Fatalf("after ResolveOnto: conflicted %v, body %s, vector %s (remote's %s)", d.Conflicted, d.Body, d.Vector, remoteVec)
	}
	if h := d.Tree.History(d.RevID, 2); len(h) != 2 || h[1] != local.RevID {
		t.Fatalf("outcome's history %v, want it on top of %s", h, local.RevID)
	}
	if !d.Vector.Dominates(local.Vector.Current) {
		t.Fatalf("outcome's vector %s leaves out the local version %s", d.Vector, local.Vector.Current)
	}
}
