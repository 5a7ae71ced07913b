package ui

import (
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"peersync/service"
)

// savedReplication and savedListener are what the test workspace holds
// for name.
func (w *testWorkspace) savedReplication(t *testing.T, name string) ReplicationSettings {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	return saved(t, w.repls, func(s ReplicationSettings) string { return s.Name }, name)
}

func (w *testWorkspace) savedListener(t *testing.T, name string) ListenerSettings {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	return saved(t, w.listeners, func(s ListenerSettings) string { return s.Name }, name)
}

func saved[T any](t *testing.T, items []T, nameOf func(T) string, name string) T {
	t.Helper()
	i := slices.IndexFunc(items, func(x T) bool { return nameOf(x) == name })
	if i < 0 {
		t.Fatalf("no %q saved", name)
	}
	return items[i]
}

// Editing a replication and saving without a change keeps it as it was,
// the database and what the form does not show included.
func TestEditReplicationOpensWithEverySavedValue(t *testing.T) {
	h := newHarness(t)
	h.database("other")
	h.database("notes")
	saved := ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "to-desk", Database: "notes",
		Target: "ws://127.0.0.1:1/notes", Type: service.TypePull, Conflicts: service.ConflictsRemote, DocIDs: []string{"a", "b"},
		DeltaSync: true, MaxAttempts: 7, Collections: []string{"app.notes"}, Heartbeat: service.Duration{Duration: 42e9}, Protocol: "v3"}}
	if err := h.ws.SaveReplication("", saved); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	rs.list.Select(0)
	test.Tap(rs.editBtn)
	h.settle()
	f := rs.openForm
	if f == nil || f.database.Selected != "notes" || f.typ.Selected != "Pull only" || f.conflicts.Selected != "Remote wins" ||
		f.docIDs.Text != "a, b" || !f.delta.Checked || f.protocol.Selected != "Revision trees only (CBMobile_3)" {
		t.Fatalf("the form opened with database %q, type %q, conflicts %q, documents %q, protocol %q", f.database.Selected, f.typ.Selected,
			f.conflicts.Selected, f.docIDs.Text, f.protocol.Selected)
	}
	rs.form.Submit()
	h.settle()
	if rs.form != nil {
		t.Fatalf("the form stayed open: %q", rs.form.Error())
	}
	if got := h.ws.savedReplication(t, "to-desk"); !reflect.DeepEqual(got, saved) {
		t.Errorf("saved unchanged form as\n%+v\nwant\n%+v", got, saved)
	}
}

// A save the workspace refuses keeps the form open with everything typed
// and says why inside it.
func TestRefusedListenerSaveKeepsTheForm(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	ls := h.u.listeners
	h.u.show(navListeners)
	h.settle()
	test.Tap(button(ls.content, "New listener…"))
	h.settle()
	f := ls.openForm
	test.Type(f.name, "share")
	selectOption(f.database, "notes")
	selectOption(f.iface, interfaceLabel("lo"))
	f.port.SetText(port)
	selectOption(f.auth, "Users and passwords")
	test.Type(f.logins[0].name, "ada")
	test.Type(f.logins[0].password, "lovelace")
	ls.form.Submit()
	h.settle()
	if ls.form == nil || ls.openForm != f {
		t.Fatal("a refused save closed the form")
	}
	if msg := ls.form.Error(); !strings.Contains(msg, "saved, but it could not start") || !strings.Contains(msg, "address already in use") {
		t.Errorf("the form says %q, want that it was saved and why it cannot listen", msg)
	}
	if f.name.Text != "share" || f.database.Selected != "notes" || f.port.Text != port || f.logins[0].name.Text != "ada" ||
		f.logins[0].password.Text != "lovelace" {
		t.Errorf("the form lost what was typed: name %q database %q port %q", f.name.Text, f.database.Selected, f.port.Text)
	}
	if strings.Contains(ls.form.Error(), "disk space") {
		t.Errorf("unrelated advice: %q", ls.form.Error())
	}

	// Fixing the port saves the same listener again and closes the form.
	f.port.SetText("0")
	ls.form.Submit()
	h.settle()
	if ls.form != nil {
		t.Fatalf("the form stayed open after a good save: %q", ls.form.Error())
	}
	if got := h.ws.savedListener(t, "share"); got.Port != 0 || len(got.Logins) != 1 || got.Logins[0].Name != "ada" {
		t.Errorf("saved %+v", got)
	}
	if ls, _ := h.ws.Listeners(); len(ls) != 1 || !ls[0].Running {
		t.Errorf("listeners %+v, want the one, running", ls)
	}
}

// The listener form edits every user, not only the first.
func TestListenerFormEditsEveryUser(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	saved := ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share", Database: "notes", Interface: "127.0.0.1",
		TLS: service.TLSOff, MaxConnections: 3, IdleTimeout: service.Duration{Duration: 60e9}},
		Auth: AuthPassword, Logins: []ListenerUser{{Name: "ada"}, {Name: "grace"}}}
	if err := h.ws.SaveListener("", saved); err != nil {
		t.Fatal(err)
	}
	ls := h.u.listeners
	h.u.show(navListeners)
	h.settle()
	ls.list.Select(0)
	test.Tap(ls.editBtn)
	h.settle()
	f := ls.openForm
	if len(f.logins) != 2 || f.logins[0].name.Text != "ada" || f.logins[1].name.Text != "grace" || f.database.Selected != "notes" {
		t.Fatalf("the form opened with %d users, database %q", len(f.logins), f.database.Selected)
	}
	test.Tap(button(h.topDialog(), "Add user"))
	h.settle()
	test.Type(f.logins[2].name, "linus")
	test.Type(f.logins[2].password, "torvalds")
	ls.form.Submit()
	h.settle()
	if ls.form != nil {
		t.Fatalf("the form stayed open: %q", ls.form.Error())
	}
	got := h.ws.savedListener(t, "share")
	want := saved
	want.Logins = []ListenerUser{{Name: "ada"}, {Name: "grace"}, {Name: "linus", Password: "torvalds"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("saved\n%+v\nwant\n%+v", got, want)
	}
}

// A new listener is offered a fixed port, 4984 or the next one free, so
// its URL stays the same across restarts; a new replication keeps running
// and starts with the app.
func TestNewFormsOfferStableDefaults(t *testing.T) {
	held, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	p := held.Addr().(*net.TCPAddr).Port
	if got := freePort(p, []int{p + 1}); got < p+2 || got >= p+100 {
		t.Errorf("freePort(%d) with %d held and %d saved = %d", p, p, p+1, got)
	}

	h := newHarness(t)
	ls := h.u.listeners
	h.u.show(navListeners)
	h.settle()
	test.Tap(button(ls.content, "New listener…"))
	h.settle()
	if port, _ := strconv.Atoi(ls.openForm.port.Text); port < DefaultPort || port >= DefaultPort+100 {
		t.Errorf("a new listener is offered port %q", ls.openForm.port.Text)
	}
	ls.form.Hide()

	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	test.Tap(button(rs.content, "New replication…"))
	h.settle()
	if f := rs.openForm; !f.continuous.Checked || !f.auto.Checked {
		t.Errorf("a new replication: continuous %v, starts with the app %v", f.continuous.Checked, f.auto.Checked)
	}
}

// The interface choice shows each interface's addresses and saves its name.
func TestInterfaceChoiceShowsAddresses(t *testing.T) {
	if l := interfaceLabel("lo"); !strings.HasPrefix(l, "lo (") || !strings.Contains(l, "127.0.0.1") {
		t.Errorf("loopback is shown as %q", l)
	}
	if l := interfaceLabel("192.0.2.7"); l != "192.0.2.7" {
		t.Errorf("an address is shown as %q", l)
	}
}
