package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

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

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 16384: "16.0 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
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
	if !hasText(s.list, "unavailable") {
		t.Errorf("list shows %q", texts(s.list))
	}
	s.list.Select(0)
	if !strings.HasPrefix(s.status.Text, "broken is unavailable: ") {
		t.Errorf("status %q", s.status.Text)
	}
}
