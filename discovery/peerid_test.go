package discovery

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

func TestLoadOrCreatePeerIDIsStable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	id, err := LoadOrCreatePeerID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("peer ID %q is not a UUID: %v", id, err)
	}
	for range 3 {
		again, err := LoadOrCreatePeerID(dir)
		if err != nil || again != id {
			t.Fatalf("second call = %q, %v; want %q", again, err, id)
		}
	}
	info, err := os.Stat(filepath.Join(dir, "peer-id"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("peer-id mode = %o, want 600", perm)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only peer-id (temporary files must go)", len(entries))
	}
}

func TestLoadOrCreatePeerIDTightensPermissions(t *testing.T) {
	dir := t.TempDir()
	want := uuid.NewString()
	path := filepath.Join(dir, "peer-id")
	if err := os.WriteFile(path, []byte(want+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadOrCreatePeerID(dir)
	if err != nil || got != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %o, want 600", info.Mode().Perm())
	}
}

func TestLoadOrCreatePeerIDRejectsDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "peer-id")
	if err := os.WriteFile(path, []byte("not a uuid"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreatePeerID(dir)
	if err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("damaged file: err = %v, want advice to delete it", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "not a uuid" {
		t.Error("damaged file was overwritten")
	}
	if _, err := LoadOrCreatePeerID(""); err == nil {
		t.Error("empty data dir accepted")
	}
}

func TestLoadOrCreatePeerIDConcurrentCallersAgree(t *testing.T) {
	dir := t.TempDir()
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := LoadOrCreatePeerID(dir)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("callers disagree: %q", ids)
		}
	}
}

func TestDefaultName(t *testing.T) {
	name := DefaultName()
	host, err := os.Hostname()
	if err == nil && host != "" {
		want, _, _ := strings.Cut(host, ".")
		if name != want {
			t.Errorf("DefaultName = %q, want %q", name, want)
		}
	}
	if name == "" || strings.Contains(name, ".") {
		t.Errorf("DefaultName = %q", name)
	}
}
