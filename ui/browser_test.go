package ui

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"peersync/syncengine"
)

func TestAddDocumentInTheBrowser(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	b := h.openBrowser("notes")

	h.press(fyne.KeyN)
	e := b.editor
	if !e.isNew || !e.idEntry.Visible() || e.idEntry.Disabled() {
		t.Fatal("Ctrl+N did not start a new document")
	}
	test.Type(e.idEntry, "ada")
	e.body.SetText(`{"name": "Ada", "born": 1815}`)
	test.Tap(e.saveBtn)
	h.settle()

	d, err := db.DefaultCollection().Get("ada")
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Body) != `{"name":"Ada","born":1815}` {
		t.Errorf("stored body %s", d.Body)
	}
	if e.isNew || e.docID() != "ada" || e.doc.RevID != d.RevID {
		t.Errorf("editor shows %q at %v, want the saved ada", e.docID(), e.doc)
	}
	want := "{\n  \"name\": \"Ada\",\n  \"born\": 1815\n}"
	if e.body.Text != want {
		t.Errorf("editor body %q, want pretty JSON %q", e.body.Text, want)
	}
	if len(b.docs) != 1 || b.docs[0].ID != "ada" || !hasText(b.list, "ada") {
		t.Errorf("list shows %q", texts(b.list))
	}
	test.AssertRendersToMarkup(t, "browser.xml", h.u.win.Canvas())

	b.close()
	h.settle()
	if got := h.u.databases.rows[0].Count; got != 1 {
		t.Errorf("Databases shows %d documents, want 1", got)
	}
}

func TestNewDocumentWithoutIDGetsOne(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	b := h.openBrowser("notes")
	b.newDocument()
	b.editor.body.SetText(`{"x": 1}`)
	h.u.save() // Ctrl+S
	h.settle()
	docs, err := db.DefaultCollection().List(syncengine.ListOptions{})
	if err != nil || len(docs) != 1 || b.editor.docID() != docs[0].ID {
		t.Fatalf("docs %v (%v), editor on %q", docs, err, b.editor.docID())
	}
}

func TestEditorValidatesJSONInline(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	save(t, db, "a", "", `{"v":1}`)
	b := h.openBrowser("notes")
	b.list.Select(0)
	h.settle()
	e := b.editor
	if e.docID() != "a" {
		t.Fatalf("editor on %q", e.docID())
	}
	if !e.saveBtn.Disabled() {
		t.Error("Save is enabled before any edit")
	}
	for text, want := range map[string]string{
		"{\n  \"v\": 1,\n}":  "line 3, column 1",
		`[1, 2]`:             "must be a JSON object",
		`{"_id": "x"}`:       `"_id" is reserved`,
		"{\n  \"v\": tru\n}": "line 2",
	} {
		e.body.SetText(text)
		if !e.problem.Visible() || !strings.Contains(e.problem.Text, want) {
			t.Errorf("%q: problem shown=%v %q, want it to mention %q", text, e.problem.Visible(), e.problem.Text, want)
		}
		if !e.saveBtn.Disabled() {
			t.Errorf("%q: Save is enabled", text)
		}
	}
	e.body.SetText(`{"v": 2}`)
	if e.problem.Visible() || e.saveBtn.Disabled() {
		t.Errorf("valid edit: problem %q, save disabled %v", e.problem.Text, e.saveBtn.Disabled())
	}
}

func TestEditAndSaveUsesTheCurrentRevision(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	first := save(t, db, "a", "", `{"v":1}`)
	b := h.openBrowser("notes")
	b.list.Select(0)
	h.settle()
	b.editor.body.SetText(`{"v": 2}`)
	h.press(fyne.KeyS)
	h.settle()
	d, err := db.DefaultCollection().Get("a")
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Body) != `{"v":2}` || d.Tree.Len() != 2 || d.Conflicted {
		t.Errorf("saved %s with %d revisions (conflicted %v)", d.Body, d.Tree.Len(), d.Conflicted)
	}
	if r, _ := d.Tree.Get(d.RevID); r.Parent != first {
		t.Errorf("new revision's parent = %q, want %q", r.Parent, first)
	}
	if b.editor.dirty() || !b.editor.saveBtn.Disabled() {
		t.Error("the editor still looks unsaved")
	}
}

func TestStaleSaveShowsConflictDialogAndKeepsTheEdit(t *testing.T) {
	for _, choice := range []string{"reload", "overwrite", "keep"} {
		t.Run(choice, func(t *testing.T) {
			h := newHarness(t)
			db := h.database("notes")
			first := save(t, db, "a", "", `{"v":1}`)
			b := h.openBrowser("notes")
			b.list.Select(0)
			h.settle()
			e := b.editor
			const mine = `{"v": "mine"}`
			e.body.SetText(mine)

			theirs := save(t, db, "a", first, `{"v":"theirs"}`) // someone else saves meanwhile
			h.settle()
			if e.body.Text != mine || !e.notice.Visible() {
				t.Fatalf("after a change elsewhere the editor shows %q (notice %v)", e.body.Text, e.notice.Visible())
			}
			h.u.save()
			h.settle()
			if e.conflict == nil || h.topDialog() == nil || !hasText(h.topDialog(), "changed elsewhere") {
				t.Fatal("no conflict dialog")
			}
			if e.body.Text != mine {
				t.Fatalf("the edit was lost: editor shows %q", e.body.Text)
			}
			test.AssertRendersToMarkup(t, "browser_conflict.xml", h.u.win.Canvas())

			switch choice {
			case "reload":
				test.Tap(e.conflictReload)
				h.settle()
				if e.doc.RevID != theirs || !strings.Contains(e.body.Text, "theirs") {
					t.Fatalf("reload shows %s %q", e.doc.RevID, e.body.Text)
				}
				if !e.restoreBtn.Visible() || h.u.app.Clipboard().Content() != mine {
					t.Fatal("the edit was not set aside")
				}
				test.Tap(e.restoreBtn)
				if e.body.Text != mine {
					t.Fatalf("put back gave %q", e.body.Text)
				}
				h.u.save()
				h.settle()
				assertWinner(t, db, "a", `{"v":"mine"}`, theirs)
			case "overwrite":
				test.Tap(e.conflictOverwrite)
				h.settle()
				assertWinner(t, db, "a", `{"v":"mine"}`, theirs)
			case "keep":
				test.Tap(e.conflictKeep)
				h.settle()
				if h.topDialog() != nil || e.body.Text != mine || !e.dirty() {
					t.Fatalf("keep editing: dialog %v, text %q", h.topDialog(), e.body.Text)
				}
			}
		})
	}
}

func TestPagingAndPrefixSearch(t *testing.T) {
	h := newHarness(t)
	db := h.database("big")
	err := db.Batch(func(bt *syncengine.Batch) error {
		for i := range 250 {
			if _, err := bt.Save(db.DefaultCollection(), fmt.Sprintf("doc%03d", i), []byte(`{}`), syncengine.SaveOptions{}); err != nil {
				return err
			}
		}
		_, err := bt.Save(db.DefaultCollection(), "other", []byte(`{}`), syncengine.SaveOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b := h.openBrowser("big")
	ids := func() []string {
		var out []string
		for _, d := range b.docs {
			out = append(out, d.ID)
		}
		return out
	}
	if len(b.docs) != pageSize || b.docs[0].ID != "doc000" || !b.prevBtn.Disabled() || b.nextBtn.Disabled() {
		t.Fatalf("first page: %d docs from %s, prev disabled %v, next disabled %v", len(b.docs), b.docs[0].ID, b.prevBtn.Disabled(), b.nextBtn.Disabled())
	}
	test.Tap(b.nextBtn)
	h.settle()
	test.Tap(b.nextBtn)
	h.settle()
	if got := ids(); len(got) != 51 || got[0] != "doc200" || got[50] != "other" || !b.nextBtn.Disabled() {
		t.Fatalf("third page = %d docs %v…, next disabled %v", len(got), got[:1], b.nextBtn.Disabled())
	}
	test.Tap(b.prevBtn)
	h.settle()
	if got := ids(); got[0] != "doc100" || got[99] != "doc199" {
		t.Fatalf("back to page two: %s…%s", got[0], got[99])
	}
	h.press(fyne.KeyF)
	if h.u.win.Canvas().Focused() != b.search {
		t.Error("Ctrl+F did not focus the search field")
	}
	test.Type(b.search, "doc12")
	h.settle()
	want := []string{"doc120", "doc121", "doc122", "doc123", "doc124", "doc125", "doc126", "doc127", "doc128", "doc129"}
	if got := ids(); !reflect.DeepEqual(got, want) || b.pager.page != 0 {
		t.Fatalf("search doc12 = %v (page %d)", got, b.pager.page)
	}
	if !strings.Contains(b.pageLabel.Text, "1–10") {
		t.Errorf("page label %q", b.pageLabel.Text)
	}
}

func TestDeleteDocumentAndHistory(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	first := save(t, db, "a", "", `{"v":1}`)
	second := save(t, db, "a", first, `{"v":2}`)
	b := h.openBrowser("notes")
	b.list.Select(0)
	h.settle()

	test.Tap(b.editor.historyBtn)
	h.settle()
	d := h.topDialog()
	if d == nil || !hasText(d, second) || !hasText(d, "parent "+first+"  winner") || !hasText(d, "parent (root)") {
		t.Fatalf("history shows %q", texts(d))
	}
	test.Tap(button(d, "Close"))

	test.Tap(b.editor.deleteBtn)
	test.Tap(button(h.topDialog(), "Delete"))
	h.settle()
	if _, err := db.DefaultCollection().Get("a"); !syncengine.IsNotFound(err) {
		t.Errorf("document still there: %v", err)
	}
	if len(b.docs) != 0 || b.editor.active() {
		t.Errorf("after delete: %d listed, editor active %v", len(b.docs), b.editor.active())
	}
}

func TestBlobsAreListedAndWritten(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	ref, err := db.DefaultCollection().SaveBlob([]byte("hello blob"), "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"file": map[string]any{"@type": "blob", "digest": ref.Digest, "length": ref.Length, "content_type": ref.ContentType}})
	save(t, db, "a", "", string(body))
	b := h.openBrowser("notes")
	b.list.Select(0)
	h.settle()
	test.Tap(b.editor.blobsBtn)
	d := h.topDialog()
	if d == nil || !hasText(d, ref.Digest) || !hasText(d, "10 B · text/plain") {
		t.Fatalf("blobs dialog shows %q", texts(d))
	}
	var out strings.Builder
	n, err := writeBlob(b.coll, blobRow{ref}, &out)
	if err != nil || n != 10 || out.String() != "hello blob" {
		t.Errorf("writeBlob = %d, %v, %q", n, err, out.String())
	}
}

// save writes a document revision directly through the engine.
func save(t *testing.T, db *syncengine.Database, id, parent, body string) string {
	t.Helper()
	d, err := db.DefaultCollection().Save(id, []byte(body), syncengine.SaveOptions{ParentRev: parent})
	if err != nil {
		t.Fatal(err)
	}
	return d.RevID
}

func assertWinner(t *testing.T, db *syncengine.Database, id, body, parent string) {
	t.Helper()
	d, err := db.DefaultCollection().Get(id)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := d.Tree.Get(d.RevID)
	if string(d.Body) != body || r.Parent != parent || d.Conflicted {
		t.Errorf("%s: winner %s (parent %s, conflicted %v), want %s on top of %s", id, d.Body, r.Parent, d.Conflicted, body, parent)
	}
}

func TestLeavingTheBrowserAsksAboutAnUnsavedEdit(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	save(t, db, "a", "", `{"v":1}`)
	save(t, db, "b", "", `{"v":2}`)
	b := h.openBrowser("notes")
	b.list.Select(0)
	h.settle()
	b.editor.body.SetText(`{"v": "edit"}`)

	b.list.Select(1) // another document
	if b.discard == nil {
		t.Fatal("no question before opening another document")
	}
	test.Tap(button(h.topDialog(), "Keep editing"))
	h.settle()
	if b.editor.docID() != "a" || b.editor.body.Text != `{"v": "edit"}` || b.list.Length() != 2 {
		t.Fatalf("keep editing: editor on %q with %q", b.editor.docID(), b.editor.body.Text)
	}

	test.Tap(button(b.view(), "Databases")) // back to the list
	if b.discard == nil || h.u.databases.browser == nil {
		t.Fatal("no question before closing the browser")
	}
	b.discard.Confirm()
	h.settle()
	if h.u.databases.browser != nil {
		t.Error("the browser stayed open after discarding")
	}
}
