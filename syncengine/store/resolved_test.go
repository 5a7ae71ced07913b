package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// resolveRecorded resolves a conflict for winner as replication does, and
// records it in the same transaction.
func resolveRecorded(t *testing.T, db *DB, id, winner, loser string) Resolution {
	t.Helper()
	var r Resolution
	err := db.Update(func(tx *Tx) error {
		before, err := tx.Get(DefaultCollection, id)
		if err != nil {
			return err
		}
		l, _ := before.Tree.Get(loser)
		d, err := tx.Resolve(DefaultCollection, id, winner, nil, false)
		if err != nil {
			return err
		}
		r = Resolution{Collection: DefaultCollection, DocID: id, Rule: "remote wins", Winner: d.RevID,
			Loser: loser, LoserDeleted: l.Deleted, LoserBody: l.Body}
		return tx.RecordResolution(&r)
	})
	if err != nil {
		t.Fatalf("resolve %s: %v", id, err)
	}
	return r
}

func resolutions(t *testing.T, db *DB) []Resolution {
	t.Helper()
	var rs []Resolution
	if err := db.View(func(tx *Tx) (err error) { rs, err = tx.Resolutions(0); return err }); err != nil {
		t.Fatal(err)
	}
	return rs
}

// rawResolutions counts the records in the file, expired or not.
func rawResolutions(t *testing.T, db *DB) int {
	t.Helper()
	n := 0
	db.View(func(tx *Tx) error {
		if b := tx.btx.Bucket(bucketResolved); b != nil {
			b.ForEach(func(k, _ []byte) error {
				if len(k) == 8 {
					n++
				}
				return nil
			})
		}
		return nil
	})
	return n
}

// openClosed opens a database for a test that closes or reopens it.
func openClosed(t *testing.T, opts Options) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "test.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestResolutionKeepsTheLoserAndRestoresIt(t *testing.T) {
	db := openClosed(t, Options{})
	defer func() { db.Close() }()
	local, remote := conflicted(t, db, "a")
	r := resolveRecorded(t, db, "a", remote, local.RevID)

	// The tree no longer has the losing body: only the record does.
	d := mustGet(t, db, "a")
	if lost, _ := d.Tree.Get(local.RevID); lost.Body != nil {
		t.Fatalf("the tree kept the loser's body %s; the test needs it pruned", lost.Body)
	}
	rs := resolutions(t, db)
	if len(rs) != 1 || rs[0].ID != r.ID || rs[0].DocID != "a" || rs[0].Rule != "remote wins" || rs[0].Winner != d.RevID ||
		rs[0].Loser != local.RevID || rs[0].LoserDeleted || rs[0].LoserBody != nil || rs[0].LoserSize != len(`{"side":"local"}`) || rs[0].At.IsZero() {
		t.Fatalf("listed %+v", rs)
	}
	var one Resolution
	db.View(func(tx *Tx) (err error) { one, err = tx.Resolution(r.ID); return err })
	if string(one.LoserBody) != `{"side":"local"}` {
		t.Fatalf("the record keeps the body %s", one.LoserBody)
	}
	// It survives a reopen, and Verify accepts it.
	db = reopen(t, db, Options{})
	if rep, err := db.Verify(nil); err != nil || rep.Damaged() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	var restored *Document
	if err := db.Update(func(tx *Tx) (err error) { restored, err = tx.RestoreResolution(r.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if string(restored.Body) != `{"side":"local"}` || restored.Conflicted || restored.RevID == d.RevID {
		t.Fatalf("restored: %s at %s", restored.Body, restored.RevID)
	}
	if p, _ := restored.Tree.Get(restored.RevID); p.Parent != d.RevID {
		t.Fatalf("the restore is not an edit on top of the winner %s: parent %s", d.RevID, p.Parent)
	}
	if rs := resolutions(t, db); len(rs) != 0 {
		t.Fatalf("a restored record is still listed: %+v", rs)
	}
	if err := db.Update(func(tx *Tx) error { _, err := tx.RestoreResolution(r.ID); return err }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore twice: %v", err)
	}
}

func TestDismissResolution(t *testing.T) {
	db := openTest(t)
	local, remote := conflicted(t, db, "a")
	r := resolveRecorded(t, db, "a", remote, local.RevID)
	before := mustGet(t, db, "a")
	if err := db.Update(func(tx *Tx) error { return tx.DismissResolution(r.ID) }); err != nil {
		t.Fatal(err)
	}
	if rs := resolutions(t, db); len(rs) != 0 {
		t.Fatalf("dismissed, still listed: %+v", rs)
	}
	if d := mustGet(t, db, "a"); d.RevID != before.RevID {
		t.Fatalf("dismiss changed the document: %s, was %s", d.RevID, before.RevID)
	}
}

func TestRestoreALosingDeletion(t *testing.T) {
	db := openTest(t)
	root := put(t, db, "a", `{"n":1}`, PutOptions{})
	del := put(t, db, "a", "", PutOptions{ParentRev: root.RevID, Deleted: true})
	remote := "2-" + fmt.Sprintf("%040d", 0)
	putRevision(t, db, "a", []string{remote, root.RevID}, `{"side":"remote"}`)
	r := resolveRecorded(t, db, "a", remote, del.RevID)
	if !r.LoserDeleted || r.LoserBody != nil {
		t.Fatalf("recorded %+v", r)
	}
	if err := db.Update(func(tx *Tx) error { _, err := tx.RestoreResolution(r.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if d := mustGet(t, db, "a"); !d.Deleted {
		t.Fatalf("restoring a losing deletion left %s live", d.RevID)
	}
}

func TestResolutionsExpire(t *testing.T) {
	w := &wallClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "e.db")
	db, err := Open(path, Options{Wall: w.Now, KeepResolved: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	local, remote := conflicted(t, db, "old")
	resolveRecorded(t, db, "old", remote, local.RevID)
	w.Set(w.Now().Add(23 * time.Hour))
	local, remote = conflicted(t, db, "new")
	resolveRecorded(t, db, "new", remote, local.RevID)

	w.Set(w.Now().Add(2 * time.Hour)) // "old" is 25 hours old, "new" 2
	if rs := resolutions(t, db); len(rs) != 1 || rs[0].DocID != "new" {
		t.Fatalf("listed after a day: %+v", rs)
	}
	if n := rawResolutions(t, db); n != 2 {
		t.Fatalf("%d records before the purge", n)
	}
	db.Close()
	// Opening purges.
	db, err = Open(path, Options{Wall: w.Now, KeepResolved: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := rawResolutions(t, db); n != 1 {
		t.Fatalf("%d records after a reopen, want 1", n)
	}
	// A shorter time applies at once, and a purge deletes the rest.
	db.SetKeepResolved(time.Hour)
	if rs := resolutions(t, db); len(rs) != 0 {
		t.Fatalf("listed with an hour's keep: %+v", rs)
	}
	if n, err := db.PurgeResolutions(); n != 1 || err != nil {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if rep, err := db.Verify(nil); err != nil || rep.Damaged() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

func TestResolutionsPurgeInBoundedTransactions(t *testing.T) {
	w := &wallClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	db, err := Open(filepath.Join(t.TempDir(), "p.db"), Options{Wall: w.Now, KeepResolved: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := purgeBatch*2 + 3
	err = db.Update(func(tx *Tx) error {
		for i := range n {
			if err := tx.RecordResolution(&Resolution{Collection: DefaultCollection, DocID: fmt.Sprint(i), Rule: "r", Winner: "1-a", Loser: "1-b"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Set(w.Now().Add(2 * time.Hour))
	got, err := db.PurgeResolutions()
	if got != n || err != nil || rawResolutions(t, db) != 0 {
		t.Fatalf("purged %d of %d (%v), %d left", got, n, err, rawResolutions(t, db))
	}
	if rep, err := db.Verify(nil); err != nil || rep.Damaged() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

func TestResolutionsBounded(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "b.db"), Options{MaxResolved: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 12 {
		err := db.Update(func(tx *Tx) error {
			return tx.RecordResolution(&Resolution{Collection: DefaultCollection, DocID: fmt.Sprint("d", i), Rule: "r",
				Winner: "1-a", Loser: "1-b", LoserBody: bytes.Repeat([]byte("x"), 100)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rs := resolutions(t, db)
	if len(rs) != 5 || rs[0].DocID != "d11" || rs[4].DocID != "d7" || rawResolutions(t, db) != 5 {
		t.Fatalf("kept %d (%d in the file), newest %q, oldest %q", len(rs), rawResolutions(t, db), rs[0].DocID, rs[len(rs)-1].DocID)
	}
	if rep, err := db.Verify(nil); err != nil || rep.Damaged() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

func TestResolutionsInAnUpgradedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.peersync")
	writeFormat1(t, path)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if rs := resolutions(t, db); len(rs) != 0 {
		t.Fatalf("an old file lists %+v", rs)
	}
	local, remote := conflicted(t, db, "b")
	resolveRecorded(t, db, "b", remote, local.RevID)
	if rs := resolutions(t, db); len(rs) != 1 {
		t.Fatalf("listed %+v", rs)
	}
	if rep, err := db.Verify(nil); err != nil || rep.Damaged() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

// Records that are not yet due leave the file untouched on open.
func TestOpenDoesNotWriteFreshResolutions(t *testing.T) {
	db := openClosed(t, Options{})
	local, remote := conflicted(t, db, "a")
	resolveRecorded(t, db, "a", remote, local.RevID)
	path := db.Path()
	db.Close()
	before, _ := os.ReadFile(path)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("opening a file with fresh resolution records wrote to it")
	}
}

func TestVerifyFindsADamagedResolution(t *testing.T) {
	db := openTest(t)
	local, remote := conflicted(t, db, "a")
	r := resolveRecorded(t, db, "a", remote, local.RevID)
	db.Update(func(tx *Tx) error {
		return tx.btx.Bucket(bucketResolved).Put(seqKey(r.ID), []byte{resolutionVersion, 1})
	})
	rep, err := db.Verify(nil)
	if err != nil || !rep.Damaged() {
		t.Fatalf("verify a truncated record: %+v, %v", rep, err)
	}
	if _, err := func() ([]Resolution, error) {
		var rs []Resolution
		err := db.View(func(tx *Tx) (err error) { rs, err = tx.Resolutions(0); return err })
		return rs, err
	}(); !errors.Is(err, ErrDamaged) {
		t.Fatalf("listing a truncated record: %v", err)
	}
	db.Update(func(tx *Tx) error { return tx.DismissResolution(r.ID) }) // for openTest's check
	db.Update(func(tx *Tx) error {
		b := tx.btx.Bucket(bucketResolved)
		b.Delete(seqKey(r.ID))
		return setResolvedCount(b, 0)
	})
}

// Compact keeps the blobs a kept losing body references, so restoring it
// works.
func TestCompactKeepsBlobsOfLosers(t *testing.T) {
	db := openTest(t)
	var digest string
	if err := db.Update(func(tx *Tx) (err error) { digest, err = tx.PutBlob([]byte("photo")); return err }); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"photo":{"@type":"blob","digest":%q,"length":5,"content_type":"image/jpeg"}}`, digest)
	root := put(t, db, "a", `{"n":1}`, PutOptions{})
	local := put(t, db, "a", body, PutOptions{ParentRev: root.RevID})
	remote := "2-" + fmt.Sprintf("%040d", 0)
	putRevision(t, db, "a", []string{remote, root.RevID}, `{"side":"remote"}`)
	r := resolveRecorded(t, db, "a", remote, local.RevID)
	if n, err := db.Compact(); err != nil || n != 0 {
		t.Fatalf("compact removed %d blobs (%v): the loser's blob must stay", n, err)
	}
	if err := db.Update(func(tx *Tx) error { _, err := tx.RestoreResolution(r.ID); return err }); err != nil {
		t.Fatalf("restore after compact: %v", err)
	}
}

func FuzzDecodeResolution(f *testing.F) {
	f.Add(encodeResolution(&Resolution{Collection: DefaultCollection, DocID: "a", At: time.Unix(1, 0), Rule: "newer edit wins",
		Winner: "2-a", Loser: "2-b", LoserBody: []byte(`{"x":1}`)}))
	f.Add(encodeResolution(&Resolution{Collection: "c", DocID: "d", At: time.Unix(5, 0), LoserDeleted: true, WinnerDeleted: true}))
	f.Add([]byte{resolutionVersion})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeResolution(7, v)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("decode: %v, want ErrDamaged", err)
			}
			return
		}
		// What decodes encodes back to the same record.
		again, err := decodeResolution(7, encodeResolution(&r))
		if err != nil || again.DocID != r.DocID || again.Rule != r.Rule || !again.At.Equal(r.At) ||
			again.LoserDeleted != r.LoserDeleted || !bytes.Equal(again.LoserBody, r.LoserBody) {
			t.Fatalf("round trip: %+v, %v; was %+v", again, err, r)
		}
	})
}
