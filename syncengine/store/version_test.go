package store

import (
	"errors"
	"path/filepath"
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
