package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// newPeerEngine is a second engine, in its own temporary directory.
func newPeerEngine(t *testing.T) *syncengine.Engine {
	t.Helper()
	dir := t.TempDir()
	e, err := syncengine.New(syncengine.Options{DataDir: dir,
		Identities: tlsid.NewStore(dir+"/identities", tlsid.NewMemoryKeyStore())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// peerListener serves a new database of a second engine on 127.0.0.1,
// with anonymous TLS or none, until the test ends.
func peerListener(t *testing.T, db string, tls bool) *syncengine.Listener {
	t.Helper()
	peer := newPeerEngine(t)
	d, err := peer.CreateDatabase(db)
	if err != nil {
		t.Fatal(err)
	}
	l, err := peer.NewListener(syncengine.ListenerConfig{Database: d, DisableTLS: !tls, NetworkInterface: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l
}

// waitFor settles the UI until cond holds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
		h.settle()
	}
}

func selectOption(s *widget.Select, v string) { s.SetSelected(v) }

// TestTapThroughListenAndReplicate creates a database and a document in
// the GUI, shares it with a listener that a second engine pulls from, and
// pushes a second document to that engine through a replication made in
// the form, watching progress and the documents arrive.
func TestTapThroughListenAndReplicate(t *testing.T) {
	h := newHarness(t)
	peer := newPeerEngine(t)

	// Create a database and add a document.
	test.Type(h.u.databases.nameEntry, "notes")
	test.Tap(h.u.databases.createBtn)
	h.settle()
	b := h.openBrowser("notes")
	b.newDocument()
	test.Type(b.editor.idEntry, "ada")
	b.editor.body.SetText(`{"name": "Ada"}`)
	test.Tap(b.editor.saveBtn)
	h.settle()

	// Start a listener with anonymous TLS on an automatic port.
	ls := h.u.listeners
	h.u.show(navListeners)
	h.settle()
	test.Tap(button(ls.content, "New listener…"))
	h.settle()
	f := ls.openForm
	f.port.SetText("0") // the offered stable port may be taken by another test by the time it binds
	test.Type(f.name, "share")
	selectOption(f.database, "notes")
	selectOption(f.iface, interfaceLabel("lo"))
	ls.form.Submit()
	h.settle()
	if len(ls.rows) != 1 || !ls.rows[0].Running || len(ls.rows[0].URLs) == 0 {
		t.Fatalf("listener rows %+v", ls.rows)
	}
	if ls.selected != "share" || !hasText(ls.detail, "Certificate SHA-256 "+tlsid.FormatFingerprint(ls.rows[0].Fingerprint)) {
		t.Fatalf("detail shows %q", texts(ls.detail))
	}
	test.Tap(button(ls.urls, "Copy"))
	url := h.u.app.Clipboard().Content()
	if !strings.HasPrefix(url, "wss://127.0.0.1:") || !strings.HasSuffix(url, "/notes") || strings.Contains(url, "_blipsync") {
		t.Fatalf("copied %q", url)
	}

	// The second engine pulls from it, pinning the shown fingerprint.
	dest, err := peer.CreateDatabase("notes")
	if err != nil {
		t.Fatal(err)
	}
	pull, err := peer.NewReplicator(syncengine.ReplicatorConfig{Database: dest, Target: url,
		Type: syncengine.Pull, Continuous: true, PinnedServerFingerprint: ls.rows[0].Fingerprint})
	if err != nil {
		t.Fatal(err)
	}
	pull.Start(false)
	h.waitFor("the connection to show", func() bool { return hasText(ls.detail, "1 connections") })
	h.waitFor("ada to arrive", func() bool {
		_, err := dest.DefaultCollection().Get("ada")
		return err == nil
	})

	pull.Stop()
	h.waitFor("the connection to close", func() bool { return hasText(ls.detail, "0 connections") })

	// A listener on the second engine takes a push made in the form.
	l, err := peer.NewListener(syncengine.ListenerConfig{Database: dest, DisableTLS: true, NetworkInterface: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	save(t, mustOpen(t, h.e, "notes"), "grace", "", `{"name":"Grace"}`)
	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	test.Tap(button(rs.content, "New replication…"))
	h.settle()
	rf := rs.openForm
	test.Type(rf.name, "to-peer")
	selectOption(rf.database, "notes")
	test.Type(rf.target, l.URLs()[0])
	selectOption(rf.typ, "Push only")
	rf.continuous.SetChecked(false)
	rf.auto.SetChecked(true)
	rs.form.Submit()
	h.settle()
	h.waitFor("the push to finish", func() bool {
		st := rs.status("to-peer")
		return st.Activity == syncengine.Stopped && st.Pushed == 1
	})
	// The status can report the push before the document event has passed
	// through the event pump and the throttled redraw.
	h.waitFor("the document log", func() bool { return hasText(rs.docs, "pushed grace") })
	h.settle()
	if rs.selected != "to-peer" || !hasText(rs.list, "· 1 pushed · 0 pulled") {
		t.Errorf("list shows %q", texts(rs.list))
	}
	if bar := progressBar(rs.list); bar == nil || bar.Value != bar.Max || bar.Max < 1 {
		t.Errorf("progress bar %+v", bar)
	}
	if !hasText(rs.docs, "pushed grace") {
		t.Errorf("document log shows %q", texts(rs.docs))
	}
	if _, err := dest.DefaultCollection().Get("grace"); err != nil {
		t.Errorf("grace did not arrive: %v", err)
	}
	if rs.startBtn.Disabled() || !rs.stopBtn.Disabled() {
		t.Errorf("a finished replication: Start disabled=%v, Stop disabled=%v", rs.startBtn.Disabled(), rs.stopBtn.Disabled())
	}
}

func mustOpen(t *testing.T, e *syncengine.Engine, name string) *syncengine.Database {
	t.Helper()
	db, err := e.OpenDatabase(name)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func progressBar(o fyne.CanvasObject) *widget.ProgressBar {
	var found *widget.ProgressBar
	walk(o, func(c fyne.CanvasObject) {
		if b, ok := c.(*widget.ProgressBar); ok && found == nil {
			found = b
		}
	})
	return found
}

// TestListenersAndReplicationsScreens checks the saved-but-stopped state
// of both screens, which renders the same on every run.
func TestListenersAndReplicationsScreens(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	if err := h.ws.SaveListener("", ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share", Database: "notes", Port: 0, TLS: service.TLSOff, ReadOnly: true}, Auth: AuthNone}); err != nil {
		t.Fatal(err)
	}
	h.ws.StopListener("share")
	ls := h.u.listeners
	h.u.show(navListeners)
	h.settle()
	ls.list.Select(0)
	if ls.startBtn.Disabled() || !ls.stopBtn.Disabled() || !hasText(ls.detail, "Not running.") {
		t.Errorf("stopped listener: start disabled=%v stop disabled=%v, detail %q", ls.startBtn.Disabled(), ls.stopBtn.Disabled(), texts(ls.detail))
	}
	test.AssertRendersToMarkup(t, "listeners.xml", h.u.win.Canvas())

	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "to-desk", Database: "notes", Target: "ws://127.0.0.1:1/notes",
		Type: service.TypePull, Conflicts: service.ConflictsRemote}}); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	rs.list.Select(0)
	if rs.startBtn.Disabled() || !rs.stopBtn.Disabled() || !rs.retryBtn.Disabled() {
		t.Error("a replication never started: only Start should be on")
	}
	test.AssertRendersToMarkup(t, "replications.xml", h.u.win.Canvas())

	// Starting it against a closed port fails and says it will retry.
	test.Tap(rs.startBtn)
	h.waitFor("the retry notice", func() bool { return strings.Contains(rs.errLabel.Text, "Will retry") })
	if rs.retryBtn.Disabled() {
		t.Error("Retry now is off while the replication waits to retry")
	}
	test.Tap(rs.stopBtn)
	h.waitFor("the stop", func() bool { return rs.status("to-desk").Activity == syncengine.Stopped })
}
