package ui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// listedSentences is what the Activity list draws, one string per row.
func listedSentences(s *activityScreen) []string {
	var rows []string
	walk(s.list, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Text != "" {
			rows = append(rows, l.Text)
		}
	})
	return rows
}

// TestActivityFiltersByKindAndLevel: the kind and level choices narrow the
// list together with the text filter, and the list shows exactly the
// lines they keep.
func TestActivityFiltersByKindAndLevel(t *testing.T) {
	h := newHarness(t)
	save(t, h.database("notes"), "ada", "", `{}`) // a database and a document, for real
	h.u.handle([]syncengine.Event{
		syncengine.ConnectionOpened{ListenerID: "l1", Remote: "10.0.0.5:4000"},
		syncengine.ConnectionRefused{ListenerID: "l1", Remote: "10.0.0.6:4000", User: "bob", Reason: syncengine.RefusedBadPassword},
		syncengine.ConnectionRefused{ListenerID: "l1", Remote: "10.0.0.7:4000", Reason: syncengine.RefusedUnknownDatabase},
		syncengine.ReplicatorStatusChanged{ID: "r1", Status: syncengine.ReplicatorStatus{Activity: syncengine.Idle}},
		syncengine.ReplicatorStatusChanged{ID: "r1", Status: syncengine.ReplicatorStatus{Activity: syncengine.Offline, Error: errors.New("connection refused")}},
	})
	h.settle()
	h.u.show(navActivity)
	s := h.u.activity

	const (
		database   = "a database was created or deleted"
		document   = "notes: 1 changed: ada"
		connected  = "10.0.0.5:4000 connected"
		badLogin   = `refused a login as user "bob" from 10.0.0.6:4000: wrong password`
		wrongDB    = "refused a connection from 10.0.0.7:4000: it asked for a database this listener does not serve"
		upToDate   = "replication r1 is up to date"
		retrying   = "replication r1 is offline: connection refused"
		everything = 7
	)
	for _, c := range []struct {
		kind, level, text string
		want              []string // newest first
	}{
		{"All kinds", "All levels", "", nil},
		{"Security", "All levels", "", []string{badLogin}},
		{"Listeners & connections", "All levels", "", []string{wrongDB, connected}},
		{"Databases & documents", "All levels", "", []string{document, database}},
		{"Replications", "All levels", "", []string{retrying, upToDate}},
		{"Replications", "Warnings and errors", "", []string{retrying}},
		{"Replications", "Errors only", "", nil},
		{"All kinds", "Errors only", "", []string{wrongDB, badLogin}},
		{"All kinds", "Warnings and errors", "10.0.0.7", []string{wrongDB}},
		{"Security", "All levels", "10.0.0.7", nil},
	} {
		s.kind.SetSelected(c.kind)
		s.level.SetSelected(c.level)
		s.filter.SetText(c.text)
		rows := listedSentences(s)
		if c.kind == "All kinds" && c.level == "All levels" && c.text == "" {
			if len(rows) != everything {
				t.Errorf("unfiltered, the list shows %d rows, want %d: %q", len(rows), everything, rows)
			}
			continue
		}
		if len(rows) != len(c.want) {
			t.Errorf("%s, %s, %q: the list shows %q, want %q", c.kind, c.level, c.text, rows, c.want)
			continue
		}
		for i, want := range c.want {
			if !strings.Contains(rows[i], want) {
				t.Errorf("%s, %s, %q: row %d is %q, want %q", c.kind, c.level, c.text, i, rows[i], want)
			}
		}
	}
}

// TestActivityKindsAndLevels: failures are errors, what is retried or cut
// off is a warning, the rest information; each event has its kind.
func TestActivityKindsAndLevels(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		ev    syncengine.Event
		kind  activityKind
		level activityLevel
	}{
		{syncengine.DatabasesChanged{}, kindDocuments, levelInfo},
		{syncengine.DocumentsChanged{Database: "d"}, kindDocuments, levelInfo},
		{syncengine.ListenerStarted{ID: "l"}, kindListeners, levelInfo},
		{syncengine.ListenerStopped{ID: "l"}, kindListeners, levelInfo},
		{syncengine.ListenerStopped{ID: "l", Err: boom}, kindListeners, levelError},
		{syncengine.ConnectionClosed{ListenerID: "l"}, kindListeners, levelInfo},
		{syncengine.ConnectionClosed{ListenerID: "l", Err: boom}, kindListeners, levelWarning},
		{syncengine.ConnectionRefused{Reason: syncengine.RefusedClientCertUntrusted}, kindSecurity, levelError},
		{syncengine.ConnectionRefused{Reason: syncengine.RefusedTooManyConnections}, kindListeners, levelError},
		{syncengine.ReplicatorStatusChanged{Status: syncengine.ReplicatorStatus{Activity: syncengine.Stopped}}, kindReplications, levelInfo},
		{syncengine.ReplicatorStatusChanged{Status: syncengine.ReplicatorStatus{Activity: syncengine.Stopped, Error: boom}}, kindReplications, levelError},
		{syncengine.ReplicatorStatusChanged{Status: syncengine.ReplicatorStatus{Activity: syncengine.Offline}}, kindReplications, levelWarning},
		{syncengine.DocumentsReplicated{Documents: []syncengine.DocEvent{{DocID: "a"}}}, kindReplications, levelInfo},
		{syncengine.DocumentsReplicated{Documents: []syncengine.DocEvent{{DocID: "a"}, {DocID: "b", Err: boom}}}, kindReplications, levelError},
		{otherEvent{}, kindOther, levelInfo},
	} {
		l := describeEvent(c.ev, nil)
		if l.Kind != c.kind || l.Level != c.level {
			t.Errorf("%s %q: kind %d, level %d; want %d, %d", l.Type, l.Summary, l.Kind, l.Level, c.kind, c.level)
		}
	}
}
