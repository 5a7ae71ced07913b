package boltfile_test

import (
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
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *store.Tx) error {
		for i := range 400 {
			if _, err := tx.Put(store.DefaultCollection, fmt.Sprintf("d%04d", i), []byte(fmt.Sprintf(`{"n":%d,"pad":"%0200d"}`, i, i)), store.PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return path
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
