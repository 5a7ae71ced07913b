package syncengine

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// damageFile flips 4 KiB in the middle of a database file.
func damageFile(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mid := len(data) / 2 &^ 4095
	for i := mid; i < mid+4096; i++ {
		data[i] ^= 0xff
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// badDatabase makes a database of 3000 documents in e and damages it.
func badDatabase(t testing.TB, e *Engine, name string) {
	t.Helper()
	db, err := e.CreateDatabase(name)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{e: e, db: db}
	p.putMany(t, 3000, "d")
	path := db.Store().Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damageFile(t, path)
}

// TestDamagedDatabaseAffectsNothingElse: a damaged database is one clear
// error, and a listener and replication on other databases of the same
// engine carry on.
func TestDamagedDatabaseAffectsNothingElse(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	badDatabase(t, a.e, "bad")
	_, err := a.e.OpenDatabase("bad")
	var de *DamagedError
	if !errors.Is(err, ErrDamaged) || !errors.As(err, &de) || de.Database != "bad" ||
		!strings.HasPrefix(err.Error(), "database bad is damaged: ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("opening the damaged database: %v", err)
	}
	a.putMany(t, 100, "a")
	_, url := a.listen(t, nil)
	b.replicate(t, ReplicatorConfig{Target: url, Type: Pull})
	sameDocs(t, a, b)
	if _, err := a.e.OpenDatabase("bad"); !errors.Is(err, ErrDamaged) {
		t.Errorf("second open: %v", err)
	}
	names, err := a.e.DatabaseNames()
	if err != nil || fmt.Sprint(names) != "[a bad]" {
		t.Errorf("names %v, %v", names, err)
	}
}

func TestCheckAndSalvageDatabase(t *testing.T) {
	p := newPeer(t, "good")
	p.putMany(t, 50, "g")
	rep, err := p.e.CheckDatabase("good", nil)
	if err != nil || rep.Damaged() || rep.Documents != 50 {
		t.Fatalf("check of an open, sound database: %+v, %v", rep, err)
	}
	badDatabase(t, p.e, "bad")
	var phases []string
	rep, err = p.e.CheckDatabase("bad", func(phase string, done, total int64) { phases = append(phases, phase) })
	if err != nil || !rep.Damaged() || len(phases) == 0 {
		t.Fatalf("check of a damaged database: %+v, %v (progress %v)", rep, err, phases)
	}
	sub := p.e.Subscribe(16)
	defer sub.Close()
	srep, err := p.e.SalvageDatabase("bad", "")
	if err != nil || srep.Documents == 0 || len(srep.Problems) == 0 || srep.Documents+len(srep.LostDocuments) != 3000 {
		t.Fatalf("salvage: %d copied, %d lost, problems %v, %v", srep.Documents, len(srep.LostDocuments), srep.Problems, err)
	}
	copyDB, err := p.e.OpenDatabase("bad-salvaged")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := copyDB.DefaultCollection().Count(); n != srep.Documents {
		t.Errorf("the copy holds %d documents, the report says %d", n, srep.Documents)
	}
	waitFor(t, "DatabasesChanged after the salvage", func() bool {
		select {
		case ev := <-sub.C:
			_, ok := ev.(DatabasesChanged)
			return ok
		default:
			return false
		}
	})
	if _, err := p.e.SalvageDatabase("bad", ""); !errors.Is(err, ErrDatabaseExists) {
		t.Errorf("salvage over an existing copy: %v", err)
	}
	if err := p.e.DeleteDatabase("bad"); err != nil {
		t.Errorf("deleting the damaged database: %v", err)
	}
}

// TestZeroLengthDatabaseIsDamaged: what a full disk used to leave behind
// is not an empty database.
func TestZeroLengthDatabaseIsDamaged(t *testing.T) {
	e, err := New(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := os.WriteFile(filepath.Join(e.DataDir(), "empty.peersync"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.OpenDatabase("empty"); !errors.Is(err, ErrDamaged) {
		t.Fatalf("open of a 0-byte file: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(e.DataDir(), "empty.peersync")); fi.Size() != 0 {
		t.Error("opening the 0-byte file wrote to it")
	}
}

// TestDiskFullCreateAndCompactLeaveNothingHalfMade fills a small tmpfs.
func TestDiskFullCreateAndCompactLeaveNothingHalfMade(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	e, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	db, err := e.CreateDatabase("big")
	if err != nil {
		t.Fatal(err)
	}
	// Fill the disk with documents until a save fails.
	filler := strings.Repeat("x", 2000)
	for i := 0; ; i++ {
		if _, err := db.DefaultCollection().Save(fmt.Sprintf("d%05d", i), []byte(`{"f":"`+filler+`"}`), SaveOptions{}); err != nil {
			t.Logf("disk full after %d documents: %v", i, err)
			break
		}
	}
	// Take what space is left.
	pad, _ := os.Create(filepath.Join(dir, "pad"))
	pad.Write(make([]byte, 1<<20))
	pad.Close()
	before, _ := db.DefaultCollection().Count()

	if _, err := e.CreateDatabase("new"); err == nil {
		t.Fatal("create succeeded on a full disk")
	}
	if _, err := db.Compact(); err == nil {
		t.Fatal("compact succeeded on a full disk")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, ent := range entries {
		names = append(names, ent.Name())
	}
	if fmt.Sprint(names) != "[big.peersync pad]" {
		t.Errorf("after failures on a full disk the directory holds %v", names)
	}
	if n, err := db.DefaultCollection().Count(); err != nil || n != before {
		t.Errorf("after a failed compact: %d documents (%v), want %d", n, err, before)
	}
	os.Remove(filepath.Join(dir, "pad"))
	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	if _, err := e.CreateDatabase("new"); err != nil {
		t.Errorf("create once space is back: %v", err)
	}
}
