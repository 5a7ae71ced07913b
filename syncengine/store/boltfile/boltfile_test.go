package boltfile_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"peersync/syncengine/store"
	"peersync/syncengine/store/boltfile"
)

func soundFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.peersync")
	update(t, path, func(tx *store.Tx) error {
		for i := range 400 {
			if _, err := tx.Put(store.DefaultCollection, fmt.Sprintf("d%04d", i), []byte(fmt.Sprintf(`{"n":%d,"pad":"%0200d"}`, i, i)), store.PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	return path
}

// update opens the database at path, runs fn in one transaction and closes it.
func update(t testing.TB, path string, fn func(*store.Tx) error) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestCheckAndForEachOnASoundFile(t *testing.T) {
	bf, err := boltfile.Open(soundFile(t))
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	if rep := bf.Check(0, nil); !rep.Sound() || rep.Pages < 10 {
		t.Fatalf("check: %+v", rep)
	}
	var roots []string
	if _, err := bf.ForEach(nil, func(k, _ []byte, bucket bool) error {
		if bucket {
			roots = append(roots, string(k))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(roots, []string{"blobs", "coll", "local", "meta"}) {
		t.Errorf("root buckets %v", roots)
	}
	n := 0
	path := [][]byte{[]byte("coll"), []byte(store.DefaultCollection), []byte("docs")}
	rep, err := bf.ForEach(path, func(_, _ []byte, _ bool) error { n++; return nil })
	if err != nil || !rep.Sound() || n != 400 {
		t.Errorf("documents: %d, %+v, %v", n, rep, err)
	}
}

// FuzzFile: any bytes at all open, check and walk without a panic.
func FuzzFile(f *testing.F) {
	data, err := os.ReadFile(soundFile(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		bf, err := boltfile.Open(path)
		if err != nil {
			return
		}
		defer bf.Close()
		bf.Check(0, func(int64, int64) {})
		var visit func(path [][]byte, depth int)
		visit = func(path [][]byte, depth int) {
			bf.ForEach(path, func(k, _ []byte, bucket bool) error {
				if bucket && depth < 4 {
					visit(append(slices.Clone(path), k), depth+1)
				}
				return nil
			})
		}
		visit(nil, 0)
		bf.ScanLeaves(func(_, _ []byte) error { return nil })
	})
}

// fileWithFreePages is a sound file whose free list lists pages: documents
// were written, then half of them purged.
func fileWithFreePages(t *testing.T) string {
	t.Helper()
	path := soundFile(t)
	update(t, path, func(tx *store.Tx) error {
		for i := 0; i < 400; i += 2 {
			if err := tx.Purge(store.DefaultCollection, fmt.Sprintf("d%04d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	return path
}

// freeListOf reads the current meta page (bbolt's layout: page size at 8,
// root at 16, free list at 32, transaction ID at 48, after the page
// header) and returns the free list's page, the root's and the page size.
func freeListOf(t *testing.T, data []byte) (freelist, root uint64, pageSize int) {
	t.Helper()
	le := binary.LittleEndian
	meta := func(off int) (txid, freelist, root uint64, ps int) {
		b := data[off+16:]
		return le.Uint64(b[48:]), le.Uint64(b[32:]), le.Uint64(b[16:]), int(le.Uint32(b[8:]))
	}
	tx0, fl, root, ps := meta(0)
	if tx1, fl1, root1, _ := meta(ps); tx1 > tx0 {
		fl, root = fl1, root1
	}
	return fl, root, ps
}

func TestCheckFindsADamagedFreeList(t *testing.T) {
	path := fileWithFreePages(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fl, root, ps := freeListOf(t, data)
	page := data[int(fl)*ps:]
	if fl == ^uint64(0) || binary.LittleEndian.Uint16(page[8:]) != 0x10 || binary.LittleEndian.Uint16(page[10:]) < 2 {
		t.Fatalf("page %d is not a free list with entries: the test checks nothing", fl)
	}
	bf, err := boltfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if rep := bf.Check(0, nil); !rep.Sound() {
		t.Fatalf("the sound file fails: %v", rep.Problems)
	}
	bf.Close()

	le := binary.LittleEndian
	for name, damage := range map[string]func(page []byte){
		"the root page listed as free": func(p []byte) { le.PutUint16(p[10:], 1); le.PutUint64(p[16:], root) },
		"a page past the end":          func(p []byte) { le.PutUint64(p[24:], 1<<40) },
		"out of order":                 func(p []byte) { copy(p[16:], p[24:32]) },
	} {
		damaged := slices.Clone(data)
		damage(damaged[int(fl)*ps:])
		dpath := filepath.Join(t.TempDir(), "damaged.peersync")
		if err := os.WriteFile(dpath, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		bf, err := boltfile.Open(dpath)
		if err != nil {
			t.Fatal(err)
		}
		rep := bf.Check(0, nil)
		bf.Close()
		if rep.Sound() {
			t.Errorf("%s: Check passed the file", name)
		}
		if _, err := store.Open(dpath, store.Options{}); !errors.Is(err, store.ErrDamaged) {
			t.Errorf("%s: store.Open = %v, want ErrDamaged", name, err)
		}
	}
}
