package ui

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An import checks the file first, asks before skipping bad lines, saves
// the rest and lists them; an export writes what an import reads back.
func TestBrowserImportsAndExportsJSONLines(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	b := h.openBrowser("notes")
	path := filepath.Join(t.TempDir(), "in.jsonl")
	in := `{"_id":"a","n":1}` + "\n" + `not json` + "\n" + `{"_id":"b","n":2}` + "\n"
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	b.importFrom(b.coll, "in.jsonl", open)
	h.settle()
	if b.importConfirm == nil {
		t.Fatal("a file with a bad line was imported without asking")
	}
	if n, _ := db.DefaultCollection().Count(); n != 0 {
		t.Fatalf("%d documents saved before the user answered", n)
	}
	b.importConfirm.Confirm()
	h.settle()
	if n, _ := db.DefaultCollection().Count(); n != 2 {
		t.Fatalf("%d documents after the import; want 2", n)
	}
	if len(b.docs) != 2 || b.docs[0].ID != "a" || b.docs[1].ID != "b" {
		t.Errorf("the browser lists %d documents after the import", len(b.docs))
	}
	if !hasText(h.topDialog(), "Saved 2 documents from in.jsonl into notes. Skipped 1 bad lines.") {
		t.Errorf("after the import the dialog says %q", texts(h.topDialog()))
	}

	out := filepath.Join(t.TempDir(), "out.jsonl")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	b.exportTo(b.coll, f)
	h.settle()
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"_id":"a"`) || !strings.Contains(lines[1], `"n":2`) {
		t.Errorf("exported %q", raw)
	}
	if !hasText(h.topDialog(), "Wrote 2 documents of notes") {
		t.Errorf("after the export the dialog says %q", texts(h.topDialog()))
	}

	// A file where nothing would save is refused, and nothing is written.
	if err := os.WriteFile(path, []byte("[1]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.importFrom(b.coll, "in.jsonl", open)
	h.settle()
	if b.importConfirm != nil || !hasText(h.topDialog(), "no line would save; line 1:") {
		t.Errorf("a file of bad lines: dialog %q", texts(h.topDialog()))
	}
}
