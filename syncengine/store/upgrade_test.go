package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"peersync/syncengine/revtree"
)

// writeFormat1 writes, with bbolt directly, a file in the layout used
// before version vectors: meta holds only the UUID; a record is
// uvarint(sequence) | flags | tree. It holds a document of two revisions, a
// local document and a blob.
func writeFormat1(t *testing.T, path string) (rev string) {
	t.Helper()
	var tree revtree.Tree
	r1, err := tree.AddChild("", false, []byte(`{"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := tree.AddChild(r1.ID, false, []byte(`{"n":2}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.Update(func(btx *bolt.Tx) error {
		meta, _ := btx.CreateBucket([]byte("meta"))
		meta.Put([]byte("uuid"), []byte("old-uuid"))
		local, _ := btx.CreateBucket([]byte("local"))
		local.Put([]byte("checkpoint/x"), append([]byte{4}, `1-cc{"seq":7}`...))
		blobs, _ := btx.CreateBucket([]byte("blobs"))
		blobs.Put([]byte(BlobDigest([]byte("blob bytes"))), []byte("blob bytes"))
		colls, _ := btx.CreateBucket([]byte("coll"))
		coll, _ := colls.CreateBucket([]byte(DefaultCollection))
		docs, _ := coll.CreateBucket([]byte("docs"))
		seqs, _ := coll.CreateBucket([]byte("seqs"))
		seqs.SetSequence(2)
		record := tree.AppendBinary(append(binary.AppendUvarint(nil, 2), 0))
		docs.Put([]byte("a"), record)
		change := append([]byte{0, 1, 'a', byte(len(r2.ID))}, r2.ID...)
		seqs.Put(seqKey(2), binary.AppendUvarint(change, 7))
		return coll.Put([]byte("count"), binary.BigEndian.AppendUint64(nil, 1))
	})
	if err != nil {
		t.Fatal(err)
	}
	return r2.ID
}

func TestOpenUpgradesAFormat1File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.peersync")
	rev := writeFormat1(t, path)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if db.UUID() != "old-uuid" || db.SourceID().IsZero() {
		t.Fatalf("upgraded: UUID %q, source %s", db.UUID(), db.SourceID())
	}
	// Nothing lost: the document with its history, its change, the count,
	// the local document and the blob.
	d, err := get(t, db, "a")
	if err != nil || d.RevID != rev || string(d.Body) != `{"n":2}` || d.Tree.Len() != 2 {
		t.Fatalf("document after upgrade: %+v, %v", d, err)
	}
	if d.Vector.String() != legacyOf(t, rev).String() {
		t.Fatalf("an old record's vector %s, want its legacy version", d.Vector)
	}
	db.View(func(tx *Tx) error {
		cs, _ := tx.ChangesSince(DefaultCollection, 0, 0)
		n, _ := tx.Count(DefaultCollection)
		lrev, lbody, lerr := tx.GetLocal("checkpoint/x")
		blob, berr := tx.GetBlob(BlobDigest([]byte("blob bytes")))
		if len(cs) != 1 || cs[0].RevID != rev || n != 1 || lerr != nil || lrev != "1-cc" || string(lbody) != `{"seq":7}` ||
			berr != nil || string(blob) != "blob bytes" {
			t.Fatalf("after upgrade: changes %+v, count %d, local %q %s %v, blob %q %v", cs, n, lrev, lbody, lerr, blob, berr)
		}
		return nil
	})
	if rep, err := db.Verify(nil); err != nil || rep.Damaged() {
		t.Fatalf("verify after upgrade: %+v, %v", rep, err)
	}
	// The upgrade was written: meta has the format, the source and the clock,
	// and a reopen finds the same source.
	source := db.SourceID()
	e := put(t, db, "a", `{"n":3}`, PutOptions{ParentRev: rev})
	db = reopen(t, db, Options{})
	if db.SourceID() != source {
		t.Fatalf("source ID changed across reopen of an upgraded file: %s then %s", source, db.SourceID())
	}
	db.View(func(tx *Tx) error {
		meta := tx.btx.Bucket(bucketMeta)
		if f, _ := binary.Uvarint(meta.Get(keyFormat)); f != Format || len(meta.Get(keyClock)) != 8 {
			t.Errorf("meta after upgrade: format %x, clock %x", meta.Get(keyFormat), meta.Get(keyClock))
		}
		return nil
	})
	if got, _ := get(t, db, "a"); got.Vector.String() != e.Vector.String() || got.VectorOf(rev).String() != legacyOf(t, rev).String() {
		t.Fatalf("after an edit and a reopen: %s, parent %s", got.Vector, got.VectorOf(rev))
	}
	if len(e.Vector.Previous) != 1 || e.Vector.Previous[0] != legacyOf(t, rev).Current {
		t.Fatalf("edit of an upgraded document: %s", e.Vector)
	}
}

func TestOpenRefusesANewerFormat(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "new.peersync"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := db.Path()
	db.Update(func(tx *Tx) error {
		return tx.btx.Bucket(bucketMeta).Put(keyFormat, binary.AppendUvarint(nil, Format+1))
	})
	db.Close()
	before, _ := os.ReadFile(path)
	if db, err := Open(path, Options{}); !errors.Is(err, ErrNewerFormat) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("open a newer format: %v, want ErrNewerFormat", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("refusing a newer format changed the file")
	}
}

// A complete file is opened without a write, as before version vectors.
func TestOpenDoesNotWriteACompleteFile(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "c.peersync"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := db.Path()
	db.Close()
	before, _ := os.ReadFile(path)
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("opening a complete file wrote to it")
	}
}
