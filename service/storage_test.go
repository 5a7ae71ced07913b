package service

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"peersync/syncengine"
)

// [storage] keep_resolved_conflicts reaches every database, open or not.
func TestKeepResolvedConflictsApplies(t *testing.T) {
	path := filepath.Join(t.TempDir(), ConfigFileName)
	if err := os.WriteFile(path, []byte("[storage]\nkeep_resolved_conflicts = \"48h\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil || cfg.Storage.KeepResolvedConflicts.Duration != 48*time.Hour {
		t.Fatalf("loaded %+v, %v", cfg.Storage, err)
	}
	e, err := syncengine.New(syncengine.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	open, err := e.CreateDatabase("open")
	if err != nil {
		t.Fatal(err)
	}
	if got := open.Store().KeepResolved(); got != syncengine.DefaultKeepResolved {
		t.Fatalf("before the configuration: %v", got)
	}
	rn := NewRunner(e)
	defer rn.Stop()
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	later, err := e.CreateDatabase("later")
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []*syncengine.Database{open, later} {
		if got := db.Store().KeepResolved(); got != 48*time.Hour {
			t.Errorf("%s keeps resolutions for %v, want 48h", db.Name(), got)
		}
	}
}
