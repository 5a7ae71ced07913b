package ui

import (
	"fmt"
	"strings"
	"testing"
)

// bigBody is a JSON object of about n bytes, many lines when pretty.
func bigBody(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%07d":"%s"`, i, strings.Repeat("x", 80))
	}
	b.WriteString("}")
	return b.String()
}

// Documents the store accepts, up to its 20 MB limit, open without the
// editor laying out their whole text: above editLimit they are shown
// read-only, a line per list row, and Save is off.
func TestLargeDocumentsOpenReadOnly(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	save(t, db, "small", "", `{"v":1}`)
	save(t, db, "mb", "", bigBody(1<<20))
	save(t, db, "huge", "", bigBody(19<<20))
	b := h.openBrowser("notes")
	e := b.editor
	for i, id := range []string{"huge", "mb"} {
		e.open(id)
		h.settle()
		if e.docID() != id || !e.readOnly || e.body.Text != "" || e.center.Objects[0] != e.largeView {
			t.Fatalf("%s: editor on %q, read-only %v, entry holds %d bytes", id, e.docID(), e.readOnly, len(e.body.Text))
		}
		if len(e.largeLines) < 1000 || e.largeLines[0] != "{" || !strings.HasPrefix(strings.TrimSpace(e.largeLines[1]), `"k0000000"`) {
			t.Fatalf("%s: %d lines, starting %q", id, len(e.largeLines), e.largeLines[:2])
		}
		if !e.saveBtn.Disabled() || e.deleteBtn.Disabled() || !strings.Contains(e.largeNote.Text, "read-only") {
			t.Errorf("%s (%d): save disabled %v, delete disabled %v, note %q", id, i, e.saveBtn.Disabled(), e.deleteBtn.Disabled(), e.largeNote.Text)
		}
	}
	// A small one is edited in place again.
	e.open("small")
	h.settle()
	if e.readOnly || e.center.Objects[0] != e.body || !strings.Contains(e.body.Text, `"v": 1`) {
		t.Errorf("small document: read-only %v, body %q", e.readOnly, e.body.Text)
	}
}
