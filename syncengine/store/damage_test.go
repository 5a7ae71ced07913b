package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// filledFile writes a closed database of n documents (with a blob and a
// local document) big enough to span many pages, and returns its path.
func filledFile(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bad.peersync")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < n; start += 500 {
		err := db.Update(func(tx *Tx) error {
			for i := start; i < min(start+500, n); i++ {
				body := fmt.Sprintf(`{"n":%d,"pad":"%0300d"}`, i, i)
				if _, err := tx.Put(DefaultCollection, fmt.Sprintf("d%06d", i), []byte(body), PutOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err = db.Update(func(tx *Tx) error {
		if _, err := tx.PutBlob([]byte("blob bytes")); err != nil {
			return err
		}
		_, err := tx.PutLocal("checkpoint/x", []byte(`{"seq":1}`), "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// The ways a file gets damaged that the tests reproduce.
var damages = map[string]func(data []byte) []byte{
	"4 KiB flipped in the middle": func(data []byte) []byte {
		mid := len(data) / 2 &^ 4095
		for i := mid; i < mid+4096; i++ {
			data[i] ^= 0xff
		}
		return data
	},
	"4 KiB flipped across two pages": func(data []byte) []byte {
		mid := len(data)/2&^4095 + 1000
		for i := mid; i < mid+4096; i++ {
			data[i] ^= 0xff
		}
		return data
	},
	"truncated to half": func(data []byte) []byte { return data[:len(data)/2] },
	"zero length":       func([]byte) []byte { return nil },
}

func damage(t testing.TB, path string, how func([]byte) []byte) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = how(data)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(data)
}

func TestOpenDamagedFileFailsWithErrDamaged(t *testing.T) {
	for name, how := range damages {
		t.Run(name, func(t *testing.T) {
			path := filledFile(t, 3000)
			before := damage(t, path, how)
			db, err := Open(path, Options{})
			if err == nil {
				db.Close()
				t.Fatal("a damaged file opened")
			}
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("error %v, want ErrDamaged", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("opening the damaged file changed it")
			}
			t.Logf("%v", err)
		})
	}
}

// TestDamageWhileOpenIsAnError damages the file under an open database:
// reads report ErrDamaged instead of crashing the process.
func TestDamageWhileOpenIsAnError(t *testing.T) {
	for name, how := range damages {
		t.Run(name, func(t *testing.T) {
			path := filledFile(t, 3000)
			db, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			damage(t, path, how)
			err = db.View(func(tx *Tx) error {
				_, err := tx.List(DefaultCollection, ListOptions{})
				return err
			})
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("listing a damaged file: %v, want ErrDamaged", err)
			}
		})
	}
}

// TestGuardLetsOtherPanicsThrough: only bbolt's panics mean damage.
func TestGuardLetsOtherPanicsThrough(t *testing.T) {
	db := openTest(t)
	defer func() {
		if r := recover(); r != "a bug" {
			t.Errorf("recovered %v, want the callback's own panic", r)
		}
	}()
	db.View(func(*Tx) error { panic("a bug") })
}

func TestCreateLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.peersync")
	db, err := Create(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Create(path, Options{}); !errors.Is(err, os.ErrExist) {
		t.Errorf("creating over an existing file: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "new.peersync" {
		t.Errorf("directory holds %v", entries)
	}
}

// FuzzOpenDamagedFile patches and cuts a real database file: opening it
// either fails with ErrDamaged or gives a database that reads and checks
// without a panic (a panic on bbolt's own goroutine would kill the test).
func FuzzOpenDamagedFile(f *testing.F) {
	seed, err := os.ReadFile(filledFile(f, 300))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint32(len(seed)/2), []byte{0xff, 0xff, 0xff, 0xff}, uint32(0))
	f.Add(uint32(4096*3), []byte{1}, uint32(0))
	f.Add(uint32(0), []byte{}, uint32(len(seed)/2))
	f.Add(uint32(4096*2+16), []byte{0, 0, 0, 0, 0, 0, 0, 0}, uint32(0))
	f.Fuzz(func(t *testing.T, at uint32, patch []byte, cut uint32) {
		data := bytes.Clone(seed)
		if int(at) < len(data) {
			copy(data[at:], patch)
		}
		if cut > 0 && int(cut) < len(data) {
			data = data[:cut]
		}
		path := filepath.Join(t.TempDir(), "f.peersync")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := Open(path, Options{})
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("open: %v, want ErrDamaged", err)
			}
			return
		}
		defer db.Close()
		db.View(func(tx *Tx) error {
			for _, c := range tx.Collections() {
				tx.List(c, ListOptions{IncludeDeleted: true})
				tx.ChangesSince(c, 0, 0)
			}
			return nil
		})
		db.Check()
	})
}

func TestVerifyFileReportsDamage(t *testing.T) {
	path := filledFile(t, 3000)
	rep, err := VerifyFile(path, Options{}, nil)
	if err != nil || rep.Damaged() || rep.Documents != 3000 || rep.Pages == 0 {
		t.Fatalf("a sound file: %+v, %v", rep, err)
	}
	for name, how := range damages {
		t.Run(name, func(t *testing.T) {
			path := filledFile(t, 3000)
			before := damage(t, path, how)
			rep, err := VerifyFile(path, Options{}, nil)
			if err != nil || !rep.Damaged() {
				t.Fatalf("report %+v, error %v; want problems", rep, err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("checking the damaged file changed it")
			}
			t.Logf("%d problems, first: %s", len(rep.Problems), rep.Problems[0])
		})
	}
}

func TestSalvageCopiesWhatCanBeRead(t *testing.T) {
	for name, how := range damages {
		t.Run(name, func(t *testing.T) {
			path := filledFile(t, 3000)
			orig, err := Open(filepath.Join(t.TempDir(), "orig.peersync"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			orig.Close()
			data, _ := os.ReadFile(path)
			os.WriteFile(orig.Path(), data, 0o600)
			before := damage(t, path, how)

			dst := filepath.Join(t.TempDir(), "copy.peersync")
			rep, err := Salvage(path, dst, Options{})
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("salvage changed the damaged file")
			}
			if len(before) == 0 {
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("salvaging an empty file: %v, want ErrDamaged", err)
				}
				if _, serr := os.Stat(dst); serr == nil {
					t.Error("a failed salvage left a file")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("copied %d documents, %d local, %d blobs; lost %d documents, %d blobs; %d problems",
				rep.Documents, rep.LocalDocuments, rep.Blobs, len(rep.LostDocuments), len(rep.LostBlobs), len(rep.Problems))
			// Cut in half, the file has lost its root page (bbolt writes the
			// tree's new pages at the end): what is copied comes from leaf
			// pages found by scanning the file.
			if rep.Documents == 0 || rep.Documents == 3000 || len(rep.Problems) == 0 {
				t.Errorf("report %+v: want some documents copied and some lost", rep)
			}
			if cut := len(before) < len(data); cut != (rep.Recovered > 0) {
				t.Errorf("recovered %d documents from pages cut off from the tree", rep.Recovered)
			}
			if rep.Documents+len(rep.LostDocuments) > 3000 {
				t.Errorf("%d copied + %d lost > 3000", rep.Documents, len(rep.LostDocuments))
			}
			out, err := Open(dst, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if vr, err := out.Verify(nil); err != nil || vr.Damaged() || vr.Documents != rep.Documents {
				t.Fatalf("the copy: %+v, %v", vr, err)
			}
			src, err := Open(orig.Path(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if out.UUID() == src.UUID() {
				t.Error("the copy kept the damaged database's UUID")
			}
			out.View(func(tx *Tx) error {
				docs, _ := tx.List(DefaultCollection, ListOptions{IncludeDeleted: true})
				for _, d := range docs {
					want, err := get(t, src, d.ID)
					if err != nil || want.RevID != d.RevID || !bytes.Equal(want.Body, d.Body) {
						t.Fatalf("copied %s %s %s differs from the original", d.ID, d.RevID, d.Body)
					}
				}
				if n, _ := tx.Count(DefaultCollection); n != rep.Documents {
					t.Errorf("count %d, copied %d", n, rep.Documents)
				}
				return nil
			})
		})
	}
}

// BenchmarkOpen100k opens and closes a database of 100,000 1 KB documents
// (about 140 MB): the page walk before bbolt maps the file is the cost of
// refusing a damaged one.
func BenchmarkOpen100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.peersync")
	db, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(fmt.Sprintf(`{"text":"%01000d"}`, 0))
	for start := 0; start < 100000; start += 1000 {
		err := db.Update(func(tx *Tx) error {
			for i := start; i < start+1000; i++ {
				if _, err := tx.Put(DefaultCollection, fmt.Sprintf("doc%06d", i), body, PutOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
	b.ResetTimer()
	for b.Loop() {
		db, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

// Damage inside a body leaves the record's lengths intact: the record still
// decodes, so salvage must check the body before copying it.
func TestSalvageSkipsADamagedBody(t *testing.T) {
	path := filepath.Join(t.TempDir(), "body.peersync")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	marker := strings.Repeat("Q", 64)
	err = db.Update(func(tx *Tx) error { // one commit: the body is on one page only
		if _, err := tx.Put(DefaultCollection, "hit", []byte(`{"pad":"`+marker+`"}`), PutOptions{}); err != nil {
			return err
		}
		_, err := tx.Put(DefaultCollection, "fine", []byte(`{"n":1}`), PutOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	data, _ := os.ReadFile(path)
	i := bytes.Index(data, []byte(marker))
	if i < 0 || bytes.Contains(data[i+1:], []byte(marker)) {
		t.Fatal("the body is not in the file exactly once")
	}
	for j := i + 10; j < i+20; j++ {
		data[j] ^= 0xff // no longer UTF-8
	}
	os.WriteFile(path, data, 0o600)

	dst := filepath.Join(t.TempDir(), "copy.peersync")
	rep, err := Salvage(path, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Documents != 1 || !slices.Equal(rep.LostDocuments, []string{DefaultCollection + "/hit"}) {
		t.Fatalf("report %+v: want fine copied and hit lost", rep)
	}
	out, err := Open(dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := get(t, out, "hit"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the damaged document was copied: %v", err)
	}
}
