package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"peersync/syncengine/internal/procmem"
)

// mappedRSS is how many bytes of the file at path are resident here.
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	n, err := procmem.MappedRSS(path)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readAll reads every document fill wrote, checking its body.
func readAll(tx *Tx, n int) error {
	for i := range n {
		d, err := tx.Get(DefaultCollection, fmt.Sprintf("doc-%09d", i))
		if err != nil {
			return err
		}
		if w, _ := d.Tree.Winner(); !bytes.Equal(w.Body, body1KB) {
			return fmt.Errorf("doc %d reads %q", i, w.Body)
		}
	}
	return nil
}

// Reading the whole database makes its file resident in the process;
// releasing the mapping gives those pages back, and the data reads the
// same after.
func TestReleaseMappedGivesBackReadPages(t *testing.T) {
	db := openTest(t)
	const n = 20_000
	fill(t, db, n)
	err := db.View(func(tx *Tx) error {
		if err := readAll(tx, n); err != nil {
			return err
		}
		read := mappedRSS(t, db.Path())
		if read < n*1000 {
			t.Fatalf("after reading %d documents of 1 KB only %d bytes of the file are resident: the test measures the wrong thing", n, read)
		}
		if err := releaseMapped(tx.btx); err != nil {
			return err
		}
		if after := mappedRSS(t, db.Path()); after > read/10 {
			t.Errorf("%d bytes of the file resident after the release, %d before", after, read)
		}
		return readAll(tx, n)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A transaction that reads much more than releaseMappedEvery leaves little
// of the file resident when it ends.
func TestTransactionsGiveBackWhatTheyRead(t *testing.T) {
	db := openTest(t)
	const n = 20_000 // 20 MB of documents
	fill(t, db, n)
	fi, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *Tx) error { return readAll(tx, n) }); err != nil {
		t.Fatal(err)
	}
	if resident := mappedRSS(t, db.Path()); resident > fi.Size()/10 {
		t.Errorf("after reading: %d of the file's %d bytes resident", resident, fi.Size())
	}
}

// bbolt walks every page to rebuild its free list when it opens a file;
// the store gives those pages back, so opening a large database does not
// make it resident.
func TestOpenLeavesTheFileOutOfMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, db, 20_000)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if resident := mappedRSS(t, path); resident > fi.Size()/10 {
		t.Fatalf("%d of the file's %d bytes resident after opening it", resident, fi.Size())
	}
}
