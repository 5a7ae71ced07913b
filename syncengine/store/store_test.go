package store

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// openTest opens a database in t.TempDir() that is consistency-checked and
// closed when the test ends.
func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "test.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("consistency check: %v", err)
		}
		db.Close()
	})
	return db
}

func put(t testing.TB, db *DB, id, body string, opts PutOptions) *Document {
	t.Helper()
	var d *Document
	err := db.Update(func(tx *Tx) (err error) {
		d, err = tx.Put(DefaultCollection, id, []byte(body), opts)
		return err
	})
	if err != nil {
		t.Fatalf("put %s: %v", id, err)
	}
	return d
}

func get(t testing.TB, db *DB, id string) (*Document, error) {
	t.Helper()
	var d *Document
	err := db.View(func(tx *Tx) (err error) {
		d, err = tx.Get(DefaultCollection, id)
		return err
	})
	return d, err
}

func TestPutGetUpdateDelete(t *testing.T) {
	db := openTest(t)
	d1 := put(t, db, "a", `{ "n": 1 }`, PutOptions{})
	if !strings.HasPrefix(d1.RevID, "1-") || d1.Sequence != 1 || string(d1.Body) != `{"n":1}` {
		t.Fatalf("first save = %+v", d1)
	}
	d2 := put(t, db, "a", `{"n":2}`, PutOptions{ParentRev: d1.RevID})
	if !strings.HasPrefix(d2.RevID, "2-") || d2.Sequence != 2 {
		t.Fatalf("update = %+v", d2)
	}
	// A save against the stale revision is a conflict and writes nothing.
	err := db.Update(func(tx *Tx) error {
		_, err := tx.Put(DefaultCollection, "a", []byte(`{"n":3}`), PutOptions{ParentRev: d1.RevID})
		return err
	})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale save: %v, want ErrConflict", err)
	}
	// Last write wins saves on top of the current revision instead.
	d3 := put(t, db, "a", `{"n":3}`, PutOptions{ParentRev: d1.RevID, LastWriteWins: true})
	if !strings.HasPrefix(d3.RevID, "3-") {
		t.Fatalf("last write wins = %+v", d3)
	}
	del := put(t, db, "a", "", PutOptions{ParentRev: d3.RevID, Deleted: true})
	if !del.Deleted || !strings.HasPrefix(del.RevID, "4-") {
		t.Fatalf("delete = %+v", del)
	}
	// Re-creating a deleted document continues its history.
	again := put(t, db, "a", `{"n":5}`, PutOptions{})
	if !strings.HasPrefix(again.RevID, "5-") || again.Deleted {
		t.Fatalf("re-create = %+v", again)
	}
	got, err := get(t, db, "a")
	if err != nil || got.RevID != again.RevID || string(got.Body) != `{"n":5}` {
		t.Fatalf("get = %+v, %v", got, err)
	}
	var count int
	db.View(func(tx *Tx) error { count, _ = tx.Count(DefaultCollection); return nil })
	if count != 1 {
		t.Errorf("count = %d, want 1", count)
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "small.db"), Options{MaxBodySize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cases := []struct {
		id, body string
		want     error
	}{
		{"a", `[1,2]`, ErrInvalidBody},
		{"a", `"text"`, ErrInvalidBody},
		{"a", `{"x":`, ErrInvalidBody},
		{"a", "{\"x\":\"\xff\"}", ErrInvalidBody},
		{"a", `{"_id":"x"}`, ErrInvalidBody},
		{"a", `{"_rev":"1-a"}`, ErrInvalidBody},
		{"a", `{"x":"` + strings.Repeat("y", 100) + `"}`, ErrBodyTooLarge},
		{"a", `{"b":{"@type":"blob","digest":"sha1-nope","length":1}}`, ErrMissingBlob},
		{"", `{}`, ErrInvalidID},
		{"_design", `{}`, ErrInvalidID},
		{strings.Repeat("x", 251), `{}`, ErrInvalidID},
		{"a\x00b", `{}`, ErrInvalidID},
	}
	for _, c := range cases {
		// A good write in the same batch must roll back with the bad one.
		err := db.Update(func(tx *Tx) error {
			if _, err := tx.Put(DefaultCollection, "good", []byte(`{}`), PutOptions{}); err != nil {
				return err
			}
			_, err := tx.Put(DefaultCollection, c.id, []byte(c.body), PutOptions{})
			return err
		})
		if !errors.Is(err, c.want) {
			t.Errorf("Put(%q, %.20q) = %v, want %v", c.id, c.body, err, c.want)
		}
	}
	db.View(func(tx *Tx) error {
		seq, _ := tx.LastSequence(DefaultCollection)
		docs, _ := tx.List(DefaultCollection, ListOptions{IncludeDeleted: true})
		if seq != 0 || len(docs) != 0 {
			t.Errorf("bad input wrote: seq %d, docs %d", seq, len(docs))
		}
		return nil
	})
}

func TestReplicatedRevisionsAndConflicts(t *testing.T) {
	db := openTest(t)
	putRev := func(id string, hist []string, deleted bool, body string) (bool, *Document) {
		t.Helper()
		var added bool
		var d *Document
		err := db.Update(func(tx *Tx) (err error) {
			added, d, err = tx.PutRevision(DefaultCollection, id, hist, deleted, []byte(body))
			return err
		})
		if err != nil {
			t.Fatalf("PutRevision %v: %v", hist, err)
		}
		return added, d
	}
	putRev("doc", []string{"2-b", "1-a"}, false, `{"side":"one"}`)
	added, d := putRev("doc", []string{"3-c", "2-x", "1-a"}, false, `{"side":"two"}`)
	if !added || !d.Conflicted || d.RevID != "3-c" || string(d.Body) != `{"side":"two"}` {
		t.Fatalf("after conflicting insert: %+v", d)
	}
	if added, _ := putRev("doc", []string{"3-c", "2-x"}, false, `{}`); added {
		t.Error("re-inserting a known revision reported added")
	}
	var ids []string
	db.View(func(tx *Tx) error { ids, _ = tx.ConflictedIDs(DefaultCollection); return nil })
	if len(ids) != 1 || ids[0] != "doc" {
		t.Fatalf("ConflictedIDs = %v", ids)
	}
	// Resolve in favour of the shorter branch with a merged body.
	err := db.Update(func(tx *Tx) (err error) {
		d, err = tx.Resolve(DefaultCollection, "doc", "2-b", []byte(`{"side":"merged"}`), false)
		return err
	})
	if err != nil || d.Conflicted || !strings.HasPrefix(d.RevID, "4-") && !strings.HasPrefix(d.RevID, "3-") {
		t.Fatalf("resolve = %+v, %v", d, err)
	}
	if string(d.Body) != `{"side":"merged"}` {
		t.Errorf("resolved body = %s", d.Body)
	}
	// The losing branch ends in a tombstone.
	var loserClosed bool
	for _, l := range d.Tree.Leaves() {
		if l.Deleted && l.Parent == "3-c" {
			loserClosed = true
		}
	}
	if !loserClosed {
		t.Errorf("losing branch not tombstoned: %+v", d.Tree.Revs())
	}
	// A replicated body may carry _attachments but no other reserved key.
	err = db.Update(func(tx *Tx) error {
		_, _, err := tx.PutRevision(DefaultCollection, "x", []string{"1-a"}, false, []byte(`{"_rev":"1-a"}`))
		return err
	})
	if !errors.Is(err, ErrInvalidBody) {
		t.Errorf("reserved key in replicated body: %v", err)
	}
}

func TestChangeFeed(t *testing.T) {
	db := openTest(t)
	a := put(t, db, "a", `{}`, PutOptions{})
	put(t, db, "b", `{}`, PutOptions{})
	put(t, db, "a", `{"v":2}`, PutOptions{ParentRev: a.RevID})
	put(t, db, "c", `{}`, PutOptions{})
	var all, page []Change
	db.View(func(tx *Tx) error {
		all, _ = tx.ChangesSince(DefaultCollection, 0, 0)
		page, _ = tx.ChangesSince(DefaultCollection, 2, 1)
		return nil
	})
	var got []string
	for _, c := range all {
		got = append(got, fmt.Sprintf("%d:%s", c.Sequence, c.DocID))
	}
	if strings.Join(got, " ") != "2:b 3:a 4:c" {
		t.Errorf("changes = %v, want one entry per document in sequence order", got)
	}
	if len(page) != 1 || page[0].DocID != "a" {
		t.Errorf("page after 2 = %+v", page)
	}
	// Purge removes the document and its feed entry.
	db.Update(func(tx *Tx) error { return tx.Purge(DefaultCollection, "b") })
	if _, err := get(t, db, "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("purged doc: %v", err)
	}
	db.View(func(tx *Tx) error { all, _ = tx.ChangesSince(DefaultCollection, 0, 0); return nil })
	if len(all) != 2 {
		t.Errorf("changes after purge = %d, want 2", len(all))
	}
}

func TestObserversHearAfterCommit(t *testing.T) {
	db := openTest(t)
	var mu sync.Mutex
	var heard []string
	cancel := db.Observe(func(cs []Change) {
		for _, c := range cs {
			// The change must already be readable: it was committed.
			_, err := get(t, db, c.DocID)
			mu.Lock()
			heard = append(heard, fmt.Sprintf("%s:%v", c.DocID, err == nil))
			mu.Unlock()
		}
	})
	put(t, db, "a", `{}`, PutOptions{})
	db.Update(func(tx *Tx) error {
		tx.Put(DefaultCollection, "rolled-back", []byte(`{}`), PutOptions{})
		return errors.New("abort")
	})
	cancel()
	put(t, db, "after-cancel", `{}`, PutOptions{})
	if strings.Join(heard, ",") != "a:true" {
		t.Errorf("heard %v, want only the committed change", heard)
	}
}

func TestLocalDocuments(t *testing.T) {
	db := openTest(t)
	var rev1, rev2 string
	err := db.Update(func(tx *Tx) (err error) {
		if rev1, err = tx.PutLocal("checkpoint/x", []byte(`{"seq":1}`), ""); err != nil {
			return err
		}
		rev2, err = tx.PutLocal("checkpoint/x", []byte(`{"seq":2}`), rev1)
		return err
	})
	if err != nil || rev1 != "1-cc" || rev2 != "2-cc" {
		t.Fatalf("revs %q %q, %v", rev1, rev2, err)
	}
	err = db.Update(func(tx *Tx) error { _, err := tx.PutLocal("checkpoint/x", []byte(`{}`), rev1); return err })
	if !errors.Is(err, ErrConflict) {
		t.Errorf("stale local put: %v", err)
	}
	err = db.Update(func(tx *Tx) error { _, err := tx.PutLocal("checkpoint/x", []byte(`{}`), ""); return err })
	if !errors.Is(err, ErrConflict) {
		t.Errorf("create over existing local: %v", err)
	}
	db.View(func(tx *Tx) error {
		rev, body, err := tx.GetLocal("checkpoint/x")
		if rev != "2-cc" || string(body) != `{"seq":2}` || err != nil {
			t.Errorf("GetLocal = %q %s %v", rev, body, err)
		}
		if _, _, err := tx.GetLocal("nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing local: %v", err)
		}
		return nil
	})
}

func TestBlobsAndCompact(t *testing.T) {
	db := openTest(t)
	data := bytes.Repeat([]byte("blob!"), 1000)
	var digest, orphan string
	db.Update(func(tx *Tx) (err error) {
		digest, _ = tx.PutBlob(data)
		orphan, err = tx.PutBlob([]byte("nobody uses me"))
		return err
	})
	if digest != BlobDigest(data) || !strings.HasPrefix(digest, "sha1-") {
		t.Fatalf("digest %q", digest)
	}
	put(t, db, "pic", `{"img":{"@type":"blob","digest":"`+digest+`","length":5000,"content_type":"image/png"}}`, PutOptions{})
	refs := BlobRefs([]byte(`{"a":[{"@type":"blob","digest":"d1"}],"_attachments":{"x":{"digest":"d2"}}}`))
	if len(refs) != 2 {
		t.Errorf("BlobRefs found %+v", refs)
	}
	removed, err := db.Compact()
	if err != nil || removed != 1 {
		t.Fatalf("Compact = %d, %v; want 1 removed", removed, err)
	}
	db.View(func(tx *Tx) error {
		if got, err := tx.GetBlob(digest); err != nil || !bytes.Equal(got, data) {
			t.Errorf("referenced blob after compact: %v", err)
		}
		if tx.HasBlob(orphan) {
			t.Error("orphan blob survived compact")
		}
		return nil
	})
	if _, err := get(t, db, "pic"); err != nil {
		t.Errorf("doc after compact: %v", err)
	}
}

func TestCollections(t *testing.T) {
	db := openTest(t)
	err := db.Update(func(tx *Tx) error {
		if err := tx.CreateCollection("app.notes"); err != nil {
			return err
		}
		_, err := tx.Put("app.notes", "n1", []byte(`{}`), PutOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *Tx) error {
		for _, bad := range []string{"nodot", "a.b.c", ".x", "x.", "a/b.c", "a.b c"} {
			if err := tx.CreateCollection(bad); !errors.Is(err, ErrInvalidName) {
				t.Errorf("CreateCollection(%q) = %v", bad, err)
			}
		}
		if err := tx.CreateCollection("app.notes"); !errors.Is(err, ErrCollectionExist) {
			t.Errorf("duplicate collection: %v", err)
		}
		if err := tx.DeleteCollection(DefaultCollection); !errors.Is(err, ErrDefaultColl) {
			t.Errorf("delete default: %v", err)
		}
		if got := strings.Join(tx.Collections(), ","); got != "_default._default,app.notes" {
			t.Errorf("collections = %s", got)
		}
		return tx.DeleteCollection("app.notes")
	})
	db.View(func(tx *Tx) error {
		if _, err := tx.Get("app.notes", "n1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("doc in deleted collection: %v", err)
		}
		return nil
	})
}

func TestListPaging(t *testing.T) {
	db := openTest(t)
	for i := range 10 {
		put(t, db, fmt.Sprintf("k%02d", i), `{}`, PutOptions{})
	}
	put(t, db, "other", `{}`, PutOptions{})
	var ids []string
	after := ""
	for {
		var page []*Document
		db.View(func(tx *Tx) (err error) {
			page, err = tx.List(DefaultCollection, ListOptions{Prefix: "k", StartAfter: after, Limit: 3})
			return err
		})
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			ids = append(ids, d.ID)
		}
		after = page[len(page)-1].ID
	}
	if len(ids) != 10 || ids[0] != "k00" || ids[9] != "k09" {
		t.Errorf("paged ids = %v", ids)
	}
}

func TestOpenInUseFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	_, err = Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second open: %v, want ErrInUse", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("second open hung for %v", time.Since(start))
	}
}

func TestUUIDStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.db")
	db, _ := Open(path, Options{})
	id := db.UUID()
	db.Close()
	db, _ = Open(path, Options{})
	defer db.Close()
	if id == "" || db.UUID() != id {
		t.Errorf("uuid %q then %q", id, db.UUID())
	}
}

func TestConcurrentReadersAndWriters(t *testing.T) {
	db := openTest(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				put(t, db, fmt.Sprintf("w%d-%d", w, i), `{"i":1}`, PutOptions{})
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				db.View(func(tx *Tx) error {
					cs, err := tx.ChangesSince(DefaultCollection, 0, 0)
					for i := 1; i < len(cs); i++ {
						if cs[i].Sequence <= cs[i-1].Sequence {
							t.Errorf("feed out of order")
						}
					}
					return err
				})
			}
		}()
	}
	wg.Wait()
	var n int
	db.View(func(tx *Tx) error { n, _ = tx.Count(DefaultCollection); return nil })
	if n != 200 {
		t.Errorf("count = %d, want 200", n)
	}
}

func TestRevTreeDepthBounded(t *testing.T) {
	db := openTest(t)
	d := put(t, db, "deep", `{"v":0}`, PutOptions{})
	for i := 1; i < 50; i++ {
		d = put(t, db, "deep", fmt.Sprintf(`{"v":%d}`, i), PutOptions{ParentRev: d.RevID})
	}
	if d.Tree.Len() != DefaultMaxRevTreeDepth {
		t.Errorf("tree has %d revisions, want %d", d.Tree.Len(), DefaultMaxRevTreeDepth)
	}
}

func TestParentBodyKeptForDeltas(t *testing.T) {
	db := openTest(t)
	d1 := put(t, db, "doc", `{"v":1}`, PutOptions{})
	d2 := put(t, db, "doc", `{"v":2}`, PutOptions{ParentRev: d1.RevID})
	d3 := put(t, db, "doc", `{"v":3}`, PutOptions{ParentRev: d2.RevID})
	if r, _ := d3.Tree.Get(d2.RevID); string(r.Body) != `{"v":2}` {
		t.Errorf("parent body = %s, want kept", r.Body)
	}
	if r, _ := d3.Tree.Get(d1.RevID); r.Body != nil {
		t.Errorf("grandparent body kept: %s", r.Body)
	}
}

// TestAttachmentsKeptOnEdit: a document that came with legacy
// "_attachments" (from Sync Gateway) can be edited without losing them.
func TestAttachmentsKeptOnEdit(t *testing.T) {
	db := openTest(t)
	var digest string
	db.Update(func(tx *Tx) (err error) { digest, err = tx.PutBlob([]byte("att")); return err })
	body := `{"title":"x","_attachments":{"a.txt":{"digest":"` + digest + `","length":3,"stub":true,"revpos":1}}}`
	d := put(t, db, "doc", body, PutOptions{})
	d = put(t, db, "doc", strings.Replace(body, `"x"`, `"y"`, 1), PutOptions{ParentRev: d.RevID})
	if !strings.Contains(string(d.Body), "_attachments") || !strings.Contains(string(d.Body), `"y"`) {
		t.Errorf("edited body = %s", d.Body)
	}
}

// InUse counts what the pages hold, so it grows with what is written and
// stays below the file's size (which includes bbolt's free space).
func TestInUseGrowsWithTheData(t *testing.T) {
	db := openTest(t)
	before, err := db.InUse()
	if err != nil || before <= 0 {
		t.Fatalf("InUse of a new database = %d, %v", before, err)
	}
	body := []byte(`{"text":"` + strings.Repeat("x", 1000) + `"}`)
	err = db.Update(func(tx *Tx) error {
		for i := range 100 {
			if _, err := tx.Put(DefaultCollection, fmt.Sprintf("d%03d", i), body, PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := db.InUse()
	if err != nil {
		t.Fatal(err)
	}
	if grew := after - before; grew < 100*int64(len(body)) || after > db.Size() {
		t.Errorf("100 documents of %d bytes: InUse grew by %d to %d (file %d)", len(body), grew, after, db.Size())
	}
}

// Tx.VectorOf reads what Get's document says, and ErrNotFound for none.
func TestTxVectorOfMatchesGet(t *testing.T) {
	db := openTest(t)
	err := db.Update(func(tx *Tx) error {
		d, err := tx.Put(DefaultCollection, "a", []byte(`{"n":1}`), PutOptions{})
		if err != nil {
			return err
		}
		if _, err = tx.Put(DefaultCollection, "a", []byte(`{"n":2}`), PutOptions{ParentRev: d.RevID}); err != nil {
			return err
		}
		got, err := tx.Get(DefaultCollection, "a")
		if err != nil {
			return err
		}
		for _, rev := range []string{got.RevID, d.RevID} {
			v, err := tx.VectorOf(DefaultCollection, "a", rev)
			if err != nil || v.String() != got.VectorOf(rev).String() || v.IsZero() {
				t.Errorf("VectorOf(%s) = %v, %v; Get says %v", rev, v, err, got.VectorOf(rev))
			}
		}
		if _, err := tx.VectorOf(DefaultCollection, "missing", "1-abc"); !errors.Is(err, ErrNotFound) {
			t.Errorf("VectorOf of a missing document: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
