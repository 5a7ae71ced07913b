package ui

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"peersync/service"
	"peersync/syncengine"
)

func TestCreateDatabaseThroughTheForm(t *testing.T) {
	h := newHarness(t)
	s := h.u.databases
	if !s.createBtn.Disabled() {
		t.Error("Create is enabled with an empty name")
	}
	test.Type(s.nameEntry, "notes")
	if s.createBtn.Disabled() || s.nameError.Visible() {
		t.Fatalf("a valid name: Create disabled=%v, error shown %q", s.createBtn.Disabled(), s.nameError.Text)
	}
	test.Tap(s.createBtn)
	h.settle()

	if len(s.rows) != 1 || s.rows[0].Name != "notes" || s.rows[0].Count != 0 || s.rows[0].Err != nil {
		t.Fatalf("rows = %+v, want notes with 0 documents", s.rows)
	}
	if !hasText(s.list, "notes") || !hasText(s.list, "0 documents") {
		t.Errorf("list shows %q", texts(s.list))
	}
	if s.nameEntry.Text != "" {
		t.Errorf("name field still holds %q after creating", s.nameEntry.Text)
	}
	names, _ := h.e.DatabaseNames()
	if len(names) != 1 || names[0] != "notes" {
		t.Errorf("engine has %v", names)
	}
	test.AssertRendersToMarkup(t, "databases.xml", h.u.win.Canvas())
}

func TestInvalidDatabaseNameShowsErrorUnderTheField(t *testing.T) {
	h := newHarness(t)
	s := h.u.databases
	for _, name := range []string{"bad/name", ".hidden", "sp ace", strings.Repeat("x", 101)} {
		s.nameEntry.SetText("")
		test.Type(s.nameEntry, name)
		want := syncengine.ValidateDatabaseName(name).Error()
		if !s.nameError.Visible() || s.nameError.Text != want {
			t.Errorf("%q: error label visible=%v text %q, want %q", name, s.nameError.Visible(), s.nameError.Text, want)
		}
		if !s.createBtn.Disabled() {
			t.Errorf("%q: Create is enabled", name)
		}
	}
	test.AssertRendersToMarkup(t, "databases_invalid_name.xml", h.u.win.Canvas())

	s.nameEntry.SetText("")
	test.Type(s.nameEntry, "fine-name")
	if s.nameError.Visible() || s.createBtn.Disabled() {
		t.Errorf("a fixed name still shows %q", s.nameError.Text)
	}
}

func TestCreatingAnExistingDatabaseSaysWhatToDo(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	s := h.u.databases
	test.Type(s.nameEntry, "notes")
	test.Tap(s.createBtn)
	h.settle()
	d := h.topDialog()
	if d == nil || !hasText(d, "already exists") || !hasText(d, advice(syncengine.ErrDatabaseExists)) {
		t.Fatalf("dialog %v shows %q", d, texts(d))
	}
	if s.nameEntry.Text != "notes" || s.createBtn.Disabled() {
		t.Error("the name was lost or Create stayed disabled after the failure")
	}
}

func TestDeleteDatabaseAsksFirst(t *testing.T) {
	h := newHarness(t)
	h.database("a")
	h.database("b")
	s := h.u.databases
	s.list.Select(0)
	test.Tap(s.deleteBtn)
	h.settle()
	if s.confirm == nil {
		t.Fatal("no confirmation")
	}
	if d := h.topDialog(); !hasText(d, "“a”") {
		t.Errorf("confirmation says %q", texts(d))
	}
	test.Tap(button(h.topDialog(), "Delete"))
	h.settle()
	if len(s.rows) != 1 || s.rows[0].Name != "b" {
		t.Fatalf("rows after delete = %+v", s.rows)
	}
	if _, err := h.e.OpenDatabase("a"); !errors.Is(err, syncengine.ErrDatabaseNotFound) {
		t.Errorf("database a still opens: %v", err)
	}
}

func TestCountsFollowDocumentEvents(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	for _, id := range []string{"a", "b", "c"} {
		if _, err := db.DefaultCollection().Save(id, []byte(`{"n":1}`), syncengine.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	h.settle()
	if got := h.u.databases.rows[0].Count; got != 3 {
		t.Errorf("count = %d after three saves, want 3", got)
	}
}

func TestCompactReportsTheResult(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	coll := db.DefaultCollection()
	if _, err := coll.SaveBlob([]byte("unreferenced"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	s := h.u.databases
	s.list.Select(0)
	test.Tap(s.compactBtn)
	h.settle()
	if !strings.Contains(s.status.Text, "1 unused blobs removed") {
		t.Errorf("status = %q", s.status.Text)
	}
}

func TestBrokenDatabaseIsListedWithItsError(t *testing.T) {
	h := newHarness(t)
	if err := os.WriteFile(filepath.Join(h.e.DataDir(), "broken.peersync"), []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.database("good")
	s := h.u.databases
	if len(s.rows) != 2 || s.rows[0].Name != "broken" || s.rows[0].Err == nil || s.rows[1].Err != nil {
		t.Fatalf("rows %+v", s.rows)
	}
	if !hasText(s.list, "damaged") {
		t.Errorf("list shows %q", texts(s.list))
	}
	s.list.Select(0)
	if !strings.HasPrefix(s.status.Text, "database broken is damaged: ") {
		t.Errorf("status %q", s.status.Text)
	}
}

// TestDamagedDatabaseIsListedWithItsActions: the screen lists a damaged
// database as damaged, offers Check, Salvage and Delete (not Open or
// Compact), and each does what it says.
func TestDamagedDatabaseIsListedWithItsActions(t *testing.T) {
	h := newHarness(t)
	bad := h.database("bad")
	err := bad.Batch(func(b *syncengine.Batch) error {
		for i := range 3000 {
			if _, err := b.Save(bad.DefaultCollection(), fmt.Sprintf("d%05d", i), []byte(fmt.Sprintf(`{"n":%d,"pad":"%0300d"}`, i, i)), syncengine.SaveOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	path := bad.Store().Path()
	bad.Close()
	data, _ := os.ReadFile(path)
	mid := len(data) / 2 &^ 4095
	for i := mid; i < mid+4096; i++ {
		data[i] ^= 0xff
	}
	os.WriteFile(path, data, 0o600)
	h.database("good")

	s := h.u.databases
	if len(s.rows) != 2 || !s.rows[0].damaged() || s.rows[1].Err != nil {
		t.Fatalf("rows %+v", s.rows)
	}
	if !hasText(s.list, "damaged") {
		t.Errorf("list shows %q", texts(s.list))
	}
	s.list.Select(0)
	if !s.openBtn.Disabled() || !s.compactBtn.Disabled() || s.checkBtn.Disabled() || s.salvageBtn.Disabled() || s.deleteBtn.Disabled() {
		t.Errorf("damaged selected: open %v compact %v check %v salvage %v delete %v (disabled)",
			s.openBtn.Disabled(), s.compactBtn.Disabled(), s.checkBtn.Disabled(), s.salvageBtn.Disabled(), s.deleteBtn.Disabled())
	}
	if !strings.HasPrefix(s.status.Text, "database bad is damaged: ") || !strings.Contains(s.status.Text, "Salvage") {
		t.Errorf("status %q", s.status.Text)
	}
	test.Tap(s.checkBtn)
	h.settle()
	if !strings.HasPrefix(s.status.Text, "bad is damaged (") {
		t.Errorf("after Check: %q", s.status.Text)
	}
	test.Tap(s.salvageBtn)
	h.settle()
	if !strings.HasPrefix(s.status.Text, "Salvaged bad into bad-salvaged: ") {
		t.Errorf("after Salvage: %q", s.status.Text)
	}
	if len(s.rows) != 3 || s.rows[0].Name != "bad-salvaged" || s.rows[0].Err != nil || s.rows[0].Count == 0 {
		t.Fatalf("rows after salvage %+v", s.rows)
	}
	s.list.Select(1)
	test.Tap(s.deleteBtn)
	h.settle()
	test.Tap(button(h.topDialog(), "Delete"))
	h.settle()
	if len(s.rows) != 2 || s.rows[0].Name != "bad-salvaged" || s.rows[1].Name != "good" {
		t.Errorf("rows after deleting the damaged database %+v", s.rows)
	}
	// A sound database: Open and Compact, no Salvage.
	s.list.Select(0)
	if s.openBtn.Disabled() || s.compactBtn.Disabled() || !s.salvageBtn.Disabled() {
		t.Error("a sound database's actions are wrong")
	}
}

// Deleting a database a listener serves names the listener first, and the
// listener stops and says why.
func TestDeleteDatabaseStopsItsListener(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	if err := h.ws.SaveListener("", ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share", Database: "notes",
		Interface: "127.0.0.1", TLS: service.TLSOff}, Auth: AuthNone}); err != nil {
		t.Fatal(err)
	}
	ls, _ := h.ws.Listeners()
	if len(ls) != 1 || !ls[0].Running {
		t.Fatalf("listeners %+v", ls)
	}
	addr := strings.TrimPrefix(strings.TrimSuffix(ls[0].URLs[0], "/notes"), "ws://")
	s := h.u.databases
	h.u.show(navDatabases)
	h.settle()
	s.list.Select(0)
	test.Tap(s.deleteBtn)
	h.settle()
	if d := h.topDialog(); s.confirm == nil || !hasText(d, "listener “share”") {
		t.Fatalf("the confirmation does not name the listener: %q", texts(h.topDialog()))
	}
	test.Tap(button(h.topDialog(), "Delete"))
	h.settle()
	ls, _ = h.ws.Listeners()
	if len(ls) != 1 || ls[0].Running || !strings.Contains(ls[0].Error, `database "notes" was deleted`) {
		t.Fatalf("after the delete the listener is %+v", ls)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("the listener's port %s still accepts", addr)
	}
	h.u.show(navListeners)
	h.settle()
	h.u.listeners.list.Select(0)
	if !hasText(h.u.listeners.detail, `stopped: database "notes" was deleted`) {
		t.Errorf("the Listeners screen says %q", texts(h.u.listeners.detail))
	}
}
