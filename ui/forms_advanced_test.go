package ui

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"peersync/service"
	"peersync/syncengine/tlsid"
)

// roundTrip writes cfg as peersync.toml and reads it back, as the app and
// --headless do.
func roundTrip(t *testing.T, cfg *service.Config) *service.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), service.ConfigFileName)
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// configRefuses is the error loading the configuration src gives; it
// must mention want.
func configRefuses(t *testing.T, src, want string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), service.ConfigFileName)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := service.LoadConfig(path); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("the configuration file says %v, want it to say %q", err, want)
	}
}

// typeAndLeave types text into e and moves the focus away, as the user
// does before the form shows a field's error.
func (h *harness) typeAndLeave(e *widget.Entry, text string) {
	c := h.u.win.Canvas()
	c.Focus(e)
	e.SetText("")
	test.Type(e, text)
	c.Unfocus()
	h.settle()
}

// showsError reports whether the form under o shows msg as a field's error.
func showsError(o fyne.CanvasObject, msg string) bool {
	found := false
	walk(o, func(o fyne.CanvasObject) {
		if t, ok := o.(*canvas.Text); ok && t.Text == msg {
			found = true
		}
	})
	return found
}

func minutes(m float64) service.Duration {
	return service.Duration{Duration: time.Duration(m * float64(time.Minute))}
}

// newReplicationForm opens the form for a new replication of notes that
// does not start when saved.
func (h *harness) newReplicationForm() *replicationForm {
	h.t.Helper()
	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	test.Tap(button(rs.content, "New replication…"))
	h.settle()
	f := rs.openForm
	test.Type(f.name, "to-desk")
	selectOption(f.database, "notes")
	test.Type(f.target, "ws://127.0.0.1:1/notes")
	f.auto.SetChecked(false)
	return f
}

// editReplication opens the form of the first replication.
func (h *harness) editReplication() *replicationForm {
	rs := h.u.replications
	rs.list.Select(0)
	test.Tap(rs.editBtn)
	h.settle()
	return rs.openForm
}

// The replication form's Advanced section saves collections, the password
// file, retries and timeouts, and shows them when the form opens again.
func TestReplicationFormAdvancedSettings(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	pw := filepath.Join(t.TempDir(), "password")
	f := h.newReplicationForm()
	if f.heartbeat.PlaceHolder != "default 5m" || f.noProgress.PlaceHolder != "default 3m" || f.maxAttemptWait.PlaceHolder != "default 5m" {
		t.Errorf("placeholders %q %q %q, want the defaults", f.heartbeat.PlaceHolder, f.noProgress.PlaceHolder, f.maxAttemptWait.PlaceHolder)
	}
	test.Type(f.user, "ada")
	f.advanced.acc.Open(0)
	h.settle()
	test.Type(f.collections, "app.notes, app.todo")
	test.Type(f.passwordFile, pw)
	test.Type(f.maxAttempts, "4")
	test.Type(f.maxAttemptWait, "1m")
	test.Type(f.heartbeat, "45s")
	test.Type(f.noProgress, "2m30s")
	rs := h.u.replications
	rs.form.Submit()
	h.settle()
	if rs.form != nil {
		t.Fatalf("the form stayed open: %q", rs.form.Error())
	}
	got := h.ws.savedReplication(t, "to-desk").ReplicationConfig
	loaded := roundTrip(t, &service.Config{Replications: []service.ReplicationConfig{got}}).Replications[0]
	for _, rc := range []service.ReplicationConfig{got, loaded} {
		if !reflect.DeepEqual(rc.Collections, []string{"app.notes", "app.todo"}) || rc.PasswordFile != pw || rc.MaxAttempts != 4 ||
			rc.MaxAttemptWait != minutes(1) || rc.Heartbeat != minutes(0.75) || rc.NoProgress != minutes(2.5) {
			t.Errorf("saved collections %q, password file %q, max attempts %d, wait %v, heartbeat %v, no progress %v", rc.Collections,
				rc.PasswordFile, rc.MaxAttempts, rc.MaxAttemptWait, rc.Heartbeat, rc.NoProgress)
		}
	}

	f = h.editReplication()
	if f.collections.Text != "app.notes, app.todo" || f.passwordFile.Text != pw || f.maxAttempts.Text != "4" ||
		f.maxAttemptWait.Text != "1m" || f.heartbeat.Text != "45s" || f.noProgress.Text != "2m30s" {
		t.Errorf("the form opened with collections %q, password file %q, max attempts %q, wait %q, heartbeat %q, no progress %q",
			f.collections.Text, f.passwordFile.Text, f.maxAttempts.Text, f.maxAttemptWait.Text, f.heartbeat.Text, f.noProgress.Text)
	}

	// Emptied, they save as the defaults.
	for _, e := range []*widget.Entry{f.collections, f.maxAttempts, f.maxAttemptWait, f.heartbeat, f.noProgress} {
		e.SetText("")
	}
	rs.form.Submit()
	h.settle()
	if rc := h.ws.savedReplication(t, "to-desk"); rc.Collections != nil || rc.MaxAttempts != 0 || rc.MaxAttemptWait.Duration != 0 ||
		rc.Heartbeat.Duration != 0 || rc.NoProgress.Duration != 0 {
		t.Errorf("emptied fields saved as %+v", rc.ReplicationConfig)
	}
}

// A duration the configuration would refuse is refused in the form, in
// the configuration's words, and the form stays open with every field.
func TestReplicationFormRefusesABadDuration(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	const want = `"soon" is not a duration like "30s" or "5m"`
	configRefuses(t, "[[replication]]\nname = \"r\"\ndatabase = \"notes\"\ntarget = \"ws://h:1/notes\"\nheartbeat = \"soon\"\n", want)

	f := h.newReplicationForm()
	f.advanced.acc.Open(0)
	h.settle()
	test.Type(f.maxAttempts, "3")
	h.typeAndLeave(f.heartbeat, "soon")
	rs := h.u.replications
	if !showsError(h.topDialog(), want) {
		t.Errorf("the form does not show %q", want)
	}
	if b := button(h.topDialog(), "Save"); b == nil || !b.Disabled() {
		t.Error("Save is on with a bad heartbeat")
	}
	rs.form.Submit()
	h.settle()
	if rs.form == nil || rs.openForm != f {
		t.Fatal("the form closed")
	}
	if st, _ := h.ws.Replications(); len(st) != 0 {
		t.Errorf("saved %+v", st)
	}
	if f.name.Text != "to-desk" || f.database.Selected != "notes" || f.target.Text != "ws://127.0.0.1:1/notes" ||
		f.maxAttempts.Text != "3" || f.heartbeat.Text != "soon" {
		t.Errorf("the form lost what was typed: %q %q %q %q %q", f.name.Text, f.database.Selected, f.target.Text, f.maxAttempts.Text, f.heartbeat.Text)
	}

	// Fixed, it saves.
	h.typeAndLeave(f.heartbeat, "90s")
	rs.form.Submit()
	h.settle()
	if rs.form != nil {
		t.Fatalf("the form stayed open: %q", rs.form.Error())
	}
	if rc := h.ws.savedReplication(t, "to-desk"); rc.Heartbeat != minutes(1.5) || rc.MaxAttempts != 3 {
		t.Errorf("saved heartbeat %v, max attempts %d", rc.Heartbeat, rc.MaxAttempts)
	}
}

// The client-certificate choice lists the stored identities, saves the
// one chosen, opens with it, and "(none)" saves none.
func TestReplicationFormClientCertificate(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	ids, err := h.e.Identities()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.CreateSelfSigned(tlsid.CreateOptions{Label: "laptop", Attributes: tlsid.Attributes{CommonName: "laptop"},
		Usage: tlsid.UsageClient}); err != nil {
		t.Fatal(err)
	}
	f := h.newReplicationForm()
	if !reflect.DeepEqual(f.clientCert.Options, []string{noIdentity, "laptop"}) || f.clientCert.Selected != noIdentity {
		t.Fatalf("client certificates %q, %q chosen", f.clientCert.Options, f.clientCert.Selected)
	}
	selectOption(f.clientCert, "laptop")
	rs := h.u.replications
	rs.form.Submit()
	h.settle()
	if rs.form != nil {
		t.Fatalf("the form stayed open: %q", rs.form.Error())
	}
	got := h.ws.savedReplication(t, "to-desk").ReplicationConfig
	if loaded := roundTrip(t, &service.Config{Replications: []service.ReplicationConfig{got}}); got.ClientCert != "laptop" ||
		loaded.Replications[0].ClientCert != "laptop" {
		t.Errorf("saved client_cert %q, read back %q", got.ClientCert, loaded.Replications[0].ClientCert)
	}

	f = h.editReplication()
	if f.clientCert.Selected != "laptop" {
		t.Errorf("the form opened with client certificate %q", f.clientCert.Selected)
	}
	selectOption(f.clientCert, noIdentity)
	rs.form.Submit()
	h.settle()
	if c := h.ws.savedReplication(t, "to-desk").ClientCert; c != "" {
		t.Errorf("(none) saved client_cert %q", c)
	}
}

// newListenerForm opens the form for a new listener of notes on a free
// loopback port, without authentication.
func (h *harness) newListenerForm() *listenerForm {
	h.t.Helper()
	ls := h.u.listeners
	h.u.show(navListeners)
	h.settle()
	test.Tap(button(ls.content, "New listener…"))
	h.settle()
	f := ls.openForm
	test.Type(f.name, "share")
	selectOption(f.database, "notes")
	selectOption(f.iface, interfaceLabel("lo"))
	f.port.SetText("0")
	return f
}

// The listener form's Advanced section saves collections, the connection
// limit and the timeouts, and shows them when the form opens again.
func TestListenerFormAdvancedSettings(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	f := h.newListenerForm()
	if f.maxConnections.PlaceHolder != "default 100" || f.idle.PlaceHolder != "default 15m" ||
		f.handshake.PlaceHolder != "default 10s" || f.start.PlaceHolder != "default 30s" {
		t.Errorf("placeholders %q %q %q %q, want the defaults", f.maxConnections.PlaceHolder, f.idle.PlaceHolder,
			f.handshake.PlaceHolder, f.start.PlaceHolder)
	}
	f.advanced.acc.Open(0)
	h.settle()
	test.Type(f.collections, "_default._default")
	test.Type(f.maxConnections, "5")
	test.Type(f.idle, "20m")
	test.Type(f.handshake, "5s")
	test.Type(f.start, "1m")
	ls := h.u.listeners
	ls.form.Submit()
	h.settle()
	if ls.form != nil {
		t.Fatalf("the form stayed open: %q", ls.form.Error())
	}
	got := h.ws.savedListener(t, "share").ListenerConfig
	loaded := roundTrip(t, &service.Config{Listeners: []service.ListenerConfig{got}}).Listeners[0]
	for _, lc := range []service.ListenerConfig{got, loaded} {
		if !reflect.DeepEqual(lc.Collections, []string{"_default._default"}) || lc.MaxConnections != 5 || lc.IdleTimeout != minutes(20) ||
			lc.HandshakeTimeout != minutes(5.0/60) || lc.StartTimeout != minutes(1) {
			t.Errorf("saved collections %q, max connections %d, idle %v, handshake %v, start %v", lc.Collections, lc.MaxConnections,
				lc.IdleTimeout, lc.HandshakeTimeout, lc.StartTimeout)
		}
	}

	ls.list.Select(0)
	test.Tap(ls.editBtn)
	h.settle()
	f = ls.openForm
	if f.collections.Text != "_default._default" || f.maxConnections.Text != "5" || f.idle.Text != "20m" || f.handshake.Text != "5s" ||
		f.start.Text != "1m" {
		t.Errorf("the form opened with collections %q, max connections %q, idle %q, handshake %q, start %q", f.collections.Text,
			f.maxConnections.Text, f.idle.Text, f.handshake.Text, f.start.Text)
	}
}

// A negative connection limit or a bad timeout is refused in the form, in
// the configuration's words, and the form stays open with every field.
func TestListenerFormRefusesBadLimits(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	const negative, badTime = "must not be negative", `"10" is not a duration like "30s" or "5m"`
	configRefuses(t, "[[listener]]\nname = \"l\"\ndatabase = \"notes\"\nport = 0\nmax_connections = -1\n", "max_connections: "+negative)
	configRefuses(t, "[[listener]]\nname = \"l\"\ndatabase = \"notes\"\nport = 0\nidle_timeout = \"10\"\n", badTime)

	f := h.newListenerForm()
	f.advanced.acc.Open(0)
	h.settle()
	h.typeAndLeave(f.maxConnections, "-1")
	h.typeAndLeave(f.idle, "10")
	ls := h.u.listeners
	for _, want := range []string{negative, badTime} {
		if !showsError(h.topDialog(), want) {
			t.Errorf("the form does not show %q", want)
		}
	}
	ls.form.Submit()
	h.settle()
	if ls.form == nil || ls.openForm != f {
		t.Fatal("the form closed")
	}
	if st, _ := h.ws.Listeners(); len(st) != 0 {
		t.Errorf("saved %+v", st)
	}
	if f.name.Text != "share" || f.database.Selected != "notes" || f.port.Text != "0" || f.maxConnections.Text != "-1" || f.idle.Text != "10" {
		t.Errorf("the form lost what was typed: %q %q %q %q %q", f.name.Text, f.database.Selected, f.port.Text, f.maxConnections.Text, f.idle.Text)
	}
}

// openSettings opens the Settings dialog from the File menu, as a click does.
func (h *harness) openSettings() *settingsForm {
	h.t.Helper()
	for _, m := range h.u.win.MainMenu().Items {
		for _, it := range m.Items {
			if it.Label == "Settings…" {
				it.Action()
			}
		}
	}
	h.settle()
	if h.u.settingsForm == nil {
		h.t.Fatal("no Settings… on the menu, or it opened nothing")
	}
	return h.u.settingsForm
}

// The Settings dialog opens with [discovery], [log] and [metrics] as saved,
// saves what is changed, and keeps the hand-added peers.
func TestSettingsFormSavesDiscoveryLogAndMetrics(t *testing.T) {
	h := newHarness(t)
	peers := []service.ManualPeer{{Host: "192.0.2.1", Port: 4984, Database: "notes"}}
	h.ws.settings = AppSettings{Discovery: service.DiscoveryConfig{Announce: false, Browse: true, Name: "Alice's laptop", Peers: peers},
		Log: service.LogConfig{Format: "json", Level: "debug"}, Metrics: service.MetricsConfig{Address: "9100"}}
	f := h.openSettings()
	if f.announce.Checked || !f.browse.Checked || f.name.Text != "Alice's laptop" || f.metrics.Text != "9100" ||
		f.logFormat.Selected != "json" || f.logLevel.Selected != "debug" {
		t.Errorf("the dialog opened with announce %v, browse %v, name %q, metrics %q, log %q %q", f.announce.Checked, f.browse.Checked,
			f.name.Text, f.metrics.Text, f.logFormat.Selected, f.logLevel.Selected)
	}
	if !hasText(h.topDialog(), "after a restart") {
		t.Error("the dialog does not say what takes effect only after a restart")
	}
	f.announce.SetChecked(true)
	f.browse.SetChecked(false)
	h.typeAndLeave(f.name, "desk")
	h.typeAndLeave(f.metrics, "127.0.0.1:9200")
	selectOption(f.logFormat, "text")
	selectOption(f.logLevel, "warn")
	h.u.settingsDlg.Submit()
	h.settle()
	if h.u.settingsDlg != nil {
		t.Fatalf("the dialog stayed open: %q", h.u.settingsDlg.Error())
	}
	want := AppSettings{Discovery: service.DiscoveryConfig{Announce: true, Browse: false, Name: "desk", Peers: peers},
		Log: service.LogConfig{Format: "text", Level: "warn"}, Metrics: service.MetricsConfig{Address: "127.0.0.1:9200"}}
	got, _ := h.ws.Settings()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("saved\n%+v\nwant\n%+v", got, want)
	}
	loaded := roundTrip(t, &service.Config{Discovery: got.Discovery, Log: got.Log, Metrics: got.Metrics})
	if back := (AppSettings{Discovery: loaded.Discovery, Log: loaded.Log, Metrics: loaded.Metrics}); !reflect.DeepEqual(back, want) {
		t.Errorf("read back from the file as\n%+v\nwant\n%+v", back, want)
	}

	f = h.openSettings()
	if !f.announce.Checked || f.browse.Checked || f.name.Text != "desk" || f.metrics.Text != "127.0.0.1:9200" || f.logLevel.Selected != "warn" {
		t.Errorf("the dialog opened again with announce %v, browse %v, name %q, metrics %q, level %q", f.announce.Checked, f.browse.Checked,
			f.name.Text, f.metrics.Text, f.logLevel.Selected)
	}
}

// A metrics address the configuration would refuse is refused in the
// dialog, in the configuration's words, and the dialog keeps every field.
func TestSettingsFormRefusesABadMetricsAddress(t *testing.T) {
	h := newHarness(t)
	const want = `"nine" is not host:port or a port`
	configRefuses(t, "[metrics]\naddress = \"nine\"\n", want)
	f := h.openSettings()
	h.typeAndLeave(f.name, "desk")
	f.browse.SetChecked(false)
	h.typeAndLeave(f.metrics, "nine")
	if !showsError(h.topDialog(), want) {
		t.Errorf("the dialog does not show %q", want)
	}
	h.u.settingsDlg.Submit()
	h.settle()
	if h.u.settingsDlg == nil || h.u.settingsForm != f {
		t.Fatal("the dialog closed")
	}
	if got, _ := h.ws.Settings(); got.Discovery.Name != "" || got.Metrics.Address != "" || !got.Discovery.Browse {
		t.Errorf("saved %+v", got)
	}
	if f.name.Text != "desk" || f.browse.Checked || f.metrics.Text != "nine" {
		t.Errorf("the dialog lost what was typed: name %q, browse %v, metrics %q", f.name.Text, f.browse.Checked, f.metrics.Text)
	}
}
