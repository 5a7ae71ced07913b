//go:build !headless

package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"peersync/service"
	"peersync/syncengine"
	"peersync/ui"
)

func TestWorkspaceSavesSettingsAndSecretsApart(t *testing.T) {
	dir := t.TempDir()
	e, err := syncengine.New(syncengine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateDatabase("notes"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, service.ConfigFileName)
	rn := service.NewRunner(e)
	defer rn.Stop()
	ws := newWorkspace(path, dir, service.DefaultConfig(), rn, nil)
	if err := ws.SaveListener("", ui.ListenerSettings{Name: "share", Database: "notes", Interface: "127.0.0.1", TLS: ui.TLSOff,
		Auth: ui.AuthPassword, Users: []ui.ListenerUser{{Name: "ada", Password: "lovelace"}}}); err != nil {
		t.Fatal(err)
	}
	ls, _ := ws.Listeners()
	if len(ls) != 1 || !ls[0].Running || ls[0].Settings.Users[0].Password != "" {
		t.Fatalf("listeners %+v", ls)
	}
	if err := ws.SaveReplication("", ui.ReplicationSettings{Name: "to desk", Database: "notes", Target: "ws://127.0.0.1:1/notes",
		User: "ada", Password: "s3cret", Pin: strings.Repeat("AB:", 31) + "AB"}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "lovelace") || strings.Contains(string(raw), "s3cret") || !strings.Contains(string(raw), "$2") {
		t.Errorf("configuration holds a password or lacks the hash:\n%s", raw)
	}
	cfg, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	pf := cfg.Replications[0].PasswordFile
	if fi, err := os.Stat(pf); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file %s: %v %v", pf, fi, err)
	}
	if pw, _ := readPassword(pf); pw != "s3cret" {
		t.Errorf("password file holds %q", pw)
	}
	if cfg.Replications[0].Pin != strings.Repeat("ab", 32) {
		t.Errorf("pin saved as %q", cfg.Replications[0].Pin)
	}
	// A target is stored in the shown form; the same peer spelt another
	// way is not a second replication of the database.
	if err := ws.SaveReplication("to desk", ui.ReplicationSettings{Name: "to desk", Database: "notes",
		Target: "WS://127.0.0.1:1/notes/_blipsync", User: "ada"}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := ws.Replications(); len(rs) != 1 || rs[0].Settings.Target != "ws://127.0.0.1:1/notes" {
		t.Errorf("replications %+v, want the target as ws://127.0.0.1:1/notes", rs)
	}
	if err := ws.SaveReplication("", ui.ReplicationSettings{Name: "again", Database: "notes", Target: "ws://127.0.0.1:1/notes/"}); err == nil ||
		!strings.Contains(err.Error(), `replication "to desk" already replicates "notes"`) {
		t.Errorf("a second replication of the same peer: %v", err)
	}
	// A bad change is refused and leaves the file alone.
	if err := ws.SaveListener("", ui.ListenerSettings{Name: "share", Database: "notes"}); err == nil {
		t.Error("a second listener named share was accepted")
	}
	if err := ws.StopListener("share"); err != nil || rn.Listener("share") != nil {
		t.Error("StopListener left it running")
	}
}
