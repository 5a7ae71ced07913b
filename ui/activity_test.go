package ui

import (
	"fmt"

	"fyne.io/fyne/v2/test"
	"strings"
	"testing"

	"peersync/syncengine"
)

func TestActivityLogsEngineEventsAndFilters(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	save(t, db, "ada", "", `{}`)
	h.settle()
	s := h.u.activity
	h.u.show(navActivity)
	if len(s.visible) != 2 {
		t.Fatalf("logged %v", s.visible)
	}
	newest, oldest := s.visible[0].String(), s.visible[1].String()
	if !strings.Contains(newest, "syncengine.DocumentsChanged  notes: 1 changed: ada (1-") ||
		!strings.Contains(oldest, "syncengine.DatabasesChanged") || !strings.HasPrefix(oldest, "03:04:05  ") {
		t.Errorf("lines:\n%s\n%s", newest, oldest)
	}
	h.u.find() // Ctrl+F on this screen focuses the filter
	if h.u.win.Canvas().Focused() != s.filter {
		t.Error("Ctrl+F did not focus the filter")
	}
	s.filter.SetText("databaseschanged")
	if len(s.visible) != 1 || s.visible[0].Type != "syncengine.DatabasesChanged" {
		t.Errorf("filtered: %v", s.visible)
	}
	if !hasText(s.list, "a database was created or deleted") {
		t.Errorf("list shows %q", texts(s.list))
	}
	test.AssertRendersToMarkup(t, "activity.xml", h.u.win.Canvas())
}

// otherEvent stands for event types the Activity screen has no summary for.
type otherEvent struct {
	syncengine.DatabasesChanged
	N int
}

func TestActivityKeepsTheLastThousandLines(t *testing.T) {
	a := newActivityLog(maxActivity)
	for i := range 1500 {
		a.add(activityLine{Type: "k", Summary: fmt.Sprint(i)})
	}
	lines := a.newestFirst(activityFilter{})
	if a.len() != maxActivity || len(lines) != maxActivity {
		t.Fatalf("kept %d lines", len(lines))
	}
	if lines[0].Summary != "1499" || lines[999].Summary != "500" {
		t.Errorf("newest %s, oldest %s", lines[0].Summary, lines[999].Summary)
	}
	// "149" itself was dropped; 1490–1499 and 1149 remain.
	if got := a.newestFirst(activityFilter{Text: "149"}); len(got) != 11 || got[0].Summary != "1499" || got[9].Summary != "1490" || got[10].Summary != "1149" {
		t.Errorf("filter 149: %v", got)
	}
	a.clear()
	if a.len() != 0 || len(a.newestFirst(activityFilter{})) != 0 {
		t.Error("clear left lines")
	}
}

func TestDescribeEvent(t *testing.T) {
	var changes []syncengine.Change
	for i := range 5 {
		changes = append(changes, syncengine.Change{DocID: fmt.Sprint("d", i), RevID: "2-x", Deleted: i == 1, Conflicted: i == 2, Purged: i == 0})
	}
	got := describeEvent(syncengine.DocumentsChanged{Database: "db", Changes: changes}, nil)
	want := "db: 5 changed: d0 (purged), d1 (deleted 2-x), d2 (2-x, in conflict), …"
	if got.Type != "syncengine.DocumentsChanged" || got.Summary != want {
		t.Errorf("got %q %q, want %q", got.Type, got.Summary, want)
	}
	other := describeEvent(otherEvent{N: 7}, nil)
	if other.Type != "ui.otherEvent" || !strings.Contains(other.Summary, "N:7") {
		t.Errorf("unknown event: %+v", other)
	}
}
