//go:build !headless

package app

import (
	"fmt"
	"path/filepath"
	"testing"

	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/doctor"
	"peersync/ui"
)

// TestWorkspaceDiagnoses runs the GUI's Diagnose on a saved replication
// (with the password the GUI keeps in its file) and on a manual peer.
func TestWorkspaceDiagnoses(t *testing.T) {
	dir := t.TempDir()
	e, err := syncengine.New(syncengine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, n := range []string{"notes", "copy", "other"} {
		if _, err := e.CreateDatabase(n); err != nil {
			t.Fatal(err)
		}
	}
	rn := service.NewRunner(e)
	defer rn.Stop()
	b := discovery.NewBrowser(discovery.BrowserOptions{}) // never started: sends nothing
	defer b.Stop()
	ws := newWorkspace(filepath.Join(dir, service.ConfigFileName), dir, offlineConfig(), rn, b)
	if err := ws.SaveListener("", ui.ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share", Database: "notes", Interface: "127.0.0.1", TLS: service.TLSOff},
		Auth: ui.AuthPassword, Logins: []ui.ListenerUser{{Name: "ada", Password: "lovelace"}}}); err != nil {
		t.Fatal(err)
	}
	port := rn.Listener("share").Port()
	target := fmt.Sprintf("ws://127.0.0.1:%d/notes", port)
	// One database replicates with a peer at most once: the wrong password
	// goes with another database.
	for name, db := range map[string]string{"good": "copy", "bad": "other"} {
		pw := map[string]string{"good": "lovelace", "bad": "babbage"}[name]
		if err := ws.SaveReplication("", ui.ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: name, Database: db, Target: target,
			Type: service.TypePush, User: "ada"}, Password: pw}); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := ws.DiagnoseReplication("good"); err != nil || !rep.OK() {
		t.Errorf("good: %v\n%s", err, rep)
	}
	if rep, err := ws.DiagnoseReplication("bad"); err != nil || rep.Failed() == nil || rep.Failed().Name != doctor.StepHTTP {
		t.Errorf("bad: %v\n%s", err, rep)
	}
	if _, err := ws.DiagnoseReplication("nope"); err == nil {
		t.Error("an unknown replication was diagnosed")
	}
	p, err := b.AddManual("127.0.0.1", port, "notes", false)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ws.DiagnosePeer(p)
	if err != nil || rep.Failed() == nil || rep.Failed().Name != doctor.StepHTTP || rep.Step(doctor.StepMDNS) == nil {
		t.Errorf("peer without credentials: %v\n%s", err, rep)
	}
}
