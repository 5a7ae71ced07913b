package store

import (
	"testing"
	"time"

	"peersync/syncengine/hlv"
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
