//go:build !headless

package app

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine"
	"peersync/ui"
)

func TestWorkspaceSavesSettingsAndSecretsApart(t *testing.T) {
	dir := t.TempDir()
	e := engineWithNotes(t, dir)
	path := filepath.Join(dir, service.ConfigFileName)
	rn := service.NewRunner(e)
	defer rn.Stop()
	ws := newWorkspace(path, dir, offlineConfig(), rn, nil)
	if err := ws.SaveListener("", ui.ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share", Database: "notes", Interface: "127.0.0.1", TLS: service.TLSOff},
		Auth: ui.AuthPassword, Logins: []ui.ListenerUser{{Name: "ada", Password: "lovelace"}}}); err != nil {
		t.Fatal(err)
	}
	ls, _ := ws.Listeners()
	if len(ls) != 1 || !ls[0].Running || ls[0].Settings.Logins[0] != (ui.ListenerUser{Name: "ada"}) {
		t.Fatalf("listeners %+v", ls)
	}
	if err := ws.SaveReplication("", ui.ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "to desk", Database: "notes",
		Target: "ws://127.0.0.1:1/notes", User: "ada", Pin: strings.Repeat("AB:", 31) + "AB"}, Password: "s3cret"}); err != nil {
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
	// The password is in the engine's secrets (the OS keyring, or its
	// 0600 file fallback), not named by the configuration.
	secrets, err := e.Secrets()
	if err != nil {
		t.Fatal(err)
	}
	if pf := cfg.Replications[0].PasswordFile; pf != "" {
		t.Errorf("the configuration names a password file %q", pf)
	}
	if pw, err := secrets.Get(service.PasswordLabel("to desk")); err != nil || string(pw) != "s3cret" {
		t.Errorf("saved password %q, %v", pw, err)
	}
	if cfg.Replications[0].Pin != strings.Repeat("ab", 32) {
		t.Errorf("pin saved as %q", cfg.Replications[0].Pin)
	}
	// A target is stored in the shown form; the same peer spelt another
	// way is not a second replication of the database.
	if err := ws.SaveReplication("to desk", ui.ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "to desk", Database: "notes",
		Target: "WS://127.0.0.1:1/notes/_blipsync", User: "ada"}}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := ws.Replications(); len(rs) != 1 || rs[0].Settings.Target != "ws://127.0.0.1:1/notes" {
		t.Errorf("replications %+v, want the target as ws://127.0.0.1:1/notes", rs)
	}
	if err := ws.SaveReplication("", ui.ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "again", Database: "notes", Target: "ws://127.0.0.1:1/notes/"}}); err == nil ||
		!strings.Contains(err.Error(), `replication "to desk" already replicates "notes"`) {
		t.Errorf("a second replication of the same peer: %v", err)
	}
	// A bad change is refused and leaves the file alone.
	if err := ws.SaveListener("", ui.ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share", Database: "notes"}}); err == nil {
		t.Error("a second listener named share was accepted")
	}
	if err := ws.StopListener("share"); err != nil || rn.Listener("share") != nil {
		t.Error("StopListener left it running")
	}
	// Renamed, the replication keeps its password; deleted, it takes it along.
	rs, _ := ws.Replications()
	renamed := rs[0].Settings
	renamed.Name = "to the desk"
	if err := ws.SaveReplication("to desk", renamed); err != nil {
		t.Fatal(err)
	}
	if pw, err := secrets.Get(service.PasswordLabel("to the desk")); err != nil || string(pw) != "s3cret" {
		t.Errorf("after a rename the password is %q, %v", pw, err)
	}
	if _, err := secrets.Get(service.PasswordLabel("to desk")); err == nil {
		t.Error("the old name's password is still saved")
	}
	if err := ws.DeleteReplication("to the desk"); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Get(service.PasswordLabel("to the desk")); err == nil {
		t.Error("a deleted replication's password is still saved")
	}
}

// Saving what the forms open with, unchanged, leaves the configuration as
// it was: the settings the forms do not show are kept, not reset.
func TestWorkspaceEditKeepsWhatTheFormsDoNotShow(t *testing.T) {
	dir := t.TempDir()
	e := engineWithNotes(t, dir)
	hash, err := service.HashPassword("lovelace")
	if err != nil {
		t.Fatal(err)
	}
	minute := service.Duration{Duration: time.Minute}
	cfg := offlineConfig()
	cfg.Listeners = []service.ListenerConfig{{Name: "share", Database: "notes", Interface: "127.0.0.1", TLS: service.TLSOff,
		Users: []service.UserHash{{Name: "ada", PasswordHash: hash}}, MaxConnections: 3, IdleTimeout: minute,
		HandshakeTimeout: minute, StartTimeout: minute}}
	cfg.Replications = []service.ReplicationConfig{{Name: "to-desk", Database: "notes", Target: "ws://127.0.0.1:1/notes",
		Type: service.TypePull, Conflicts: service.ConflictsLocal, MaxAttempts: 4, MaxAttemptWait: minute, Heartbeat: minute,
		NoProgress: minute}}
	path := filepath.Join(dir, service.ConfigFileName)
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	want, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	rn := service.NewRunner(e)
	defer rn.Stop()
	ws := newWorkspace(path, dir, want, rn, nil)
	ls, _ := ws.Listeners()
	rs, _ := ws.Replications()
	if len(ls) != 1 || len(rs) != 1 {
		t.Fatalf("%d listeners, %d replications", len(ls), len(rs))
	}
	if err := ws.SaveListener("share", ls[0].Settings); err != nil {
		t.Fatal(err)
	}
	if err := ws.SaveReplication("to-desk", rs[0].Settings); err != nil {
		t.Fatal(err)
	}
	got, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Listeners, want.Listeners) {
		t.Errorf("listener saved as\n%+v\nwant\n%+v", got.Listeners, want.Listeners)
	}
	if !reflect.DeepEqual(got.Replications, want.Replications) {
		t.Errorf("replication saved as\n%+v\nwant\n%+v", got.Replications, want.Replications)
	}
}

// A change that is saved but cannot start says so, typed, so the form
// knows the item now exists.
func TestWorkspaceSavedButNotStarted(t *testing.T) {
	dir := t.TempDir()
	e := engineWithNotes(t, dir)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	rn := service.NewRunner(e)
	defer rn.Stop()
	path := filepath.Join(dir, service.ConfigFileName)
	ws := newWorkspace(path, dir, offlineConfig(), rn, nil)
	err = ws.SaveListener("", ui.ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share", Database: "notes",
		Interface: "127.0.0.1", Port: busy.Addr().(*net.TCPAddr).Port, TLS: service.TLSOff}})
	var notStarted *ui.NotStartedError
	if !errors.As(err, &notStarted) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("saving a listener on a busy port: %v", err)
	}
	if cfg, err := service.LoadConfig(path); err != nil || len(cfg.Listeners) != 1 {
		t.Fatalf("the listener was not saved: %v", err)
	}
}

// A peer added by hand is saved in the configuration and comes back after
// a restart; removed, it is gone from both. (The browsers here are never
// started: nothing is sent on the network.)
func TestManualPeersSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	e, err := syncengine.New(syncengine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	path := filepath.Join(dir, service.ConfigFileName)
	cfg := service.DefaultConfig()
	cfg.Discovery = service.DiscoveryConfig{Browse: true}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	start := func() (*service.Runner, *discovery.Browser) {
		loaded, err := service.LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		rn := service.NewRunner(e)
		b := discovery.NewBrowser(discovery.BrowserOptions{})
		rn.UseBrowser(b) // in place of one that would browse the network
		if err := rn.Apply(loaded); err != nil {
			t.Fatal(err)
		}
		return rn, b
	}
	rn, b := start()
	ws := newWorkspace(path, dir, mustLoad(t, path), rn, b)
	p, err := ws.Peers().AddManual("127.0.0.1", 4984, "notes", true)
	if err != nil {
		t.Fatal(err)
	}
	rn.Stop()

	rn2, b2 := start()
	defer rn2.Stop()
	if peers := b2.Peers(); len(peers) != 1 || peers[0].Key() != p.Key() || !peers[0].TLS || !peers[0].Manual {
		t.Fatalf("after a restart the peers are %+v, want %s", peers, p.Key())
	}
	ws2 := newWorkspace(path, dir, mustLoad(t, path), rn2, b2)
	ws2.Peers().RemoveManual(p.Key())
	if cfg := mustLoad(t, path); len(cfg.Discovery.Peers) != 0 || len(b2.Peers()) != 0 {
		t.Errorf("after removing it: saved %+v, listed %+v", cfg.Discovery.Peers, b2.Peers())
	}
}

func mustLoad(t *testing.T, path string) *service.Config {
	t.Helper()
	cfg, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// offlineConfig is the default configuration with LAN discovery off: a
// test outside a network namespace must not multicast on the machine's
// interfaces.
func offlineConfig() *service.Config {
	cfg := service.DefaultConfig()
	cfg.Discovery.Announce, cfg.Discovery.Browse = false, false
	return cfg
}

// engineWithNotes is an engine on dir with a database "notes", closed when
// the test ends.
func engineWithNotes(t *testing.T, dir string) *syncengine.Engine {
	t.Helper()
	e, err := syncengine.New(syncengine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if _, err := e.CreateDatabase("notes"); err != nil {
		t.Fatal(err)
	}
	return e
}

// The Settings dialog's save writes [discovery], [log] and [metrics] to the
// file, keeps the hand-added peers, and serves metrics at once; an address
// that cannot be served is saved and said.
func TestWorkspaceSavesAppSettings(t *testing.T) {
	dir := t.TempDir()
	e := engineWithNotes(t, dir)
	path := filepath.Join(dir, service.ConfigFileName)
	cfg := service.DefaultConfig()
	cfg.Discovery = service.DiscoveryConfig{Peers: []service.ManualPeer{{Host: "192.0.2.1", Port: 4984, Database: "notes"}}}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	rn := service.NewRunner(e)
	defer rn.Stop()
	ws := newWorkspace(path, dir, mustLoad(t, path), rn, nil)
	set, err := ws.Settings()
	if err != nil {
		t.Fatal(err)
	}
	set.Discovery.Name, set.Discovery.Peers = "desk", nil // the dialog does not edit the peers
	set.Log = service.LogConfig{Format: "json", Level: "warn"}
	set.Metrics.Address = "127.0.0.1:0"
	if err := ws.SaveSettings(set); err != nil {
		t.Fatal(err)
	}
	got := mustLoad(t, path)
	want := service.DiscoveryConfig{Name: "desk", Peers: cfg.Discovery.Peers}
	if !reflect.DeepEqual(got.Discovery, want) || got.Log != set.Log || got.Metrics != set.Metrics {
		t.Errorf("saved %+v %+v %+v", got.Discovery, got.Log, got.Metrics)
	}
	if rn.MetricsAddress() == "" {
		t.Error("metrics are not served after the save")
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	set.Metrics.Address = busy.Addr().String()
	var notStarted *ui.NotStartedError
	if err := ws.SaveSettings(set); !errors.As(err, &notStarted) || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("saving a busy metrics address: %v", err)
	}
	if got := mustLoad(t, path); got.Metrics.Address != set.Metrics.Address {
		t.Errorf("the busy address was not saved: %q", got.Metrics.Address)
	}
}
