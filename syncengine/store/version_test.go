package store

import (
	"path/filepath"
	"testing"

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
