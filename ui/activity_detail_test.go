package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"peersync/syncengine"
)

// TestActivityShowsTheSelectedEventsDetails: selecting a line shows, below
// the list, everything the event carries — the date and seconds, kind,
// level, the whole sentence the list cuts short, each field — as
// selectable text that Copy puts on the clipboard; the selection follows
// its line as new events push it down, and ends when a filter hides it.
func TestActivityShowsTheSelectedEventsDetails(t *testing.T) {
	h := newHarness(t)
	h.u.show(navActivity)
	s := h.u.activity
	content := h.u.win.Canvas().Content()
	if !s.copyBtn.Disabled() || !hasText(content, "Select an event to see its details.") {
		t.Errorf("with nothing selected: Copy disabled %v, detail %q", s.copyBtn.Disabled(), s.detail.Text)
	}
	longDetail := "remote error: tls: " + strings.Repeat("a very long handshake explanation, ", 12) + "the end"
	h.u.handle([]syncengine.Event{
		syncengine.ConnectionRefused{ListenerID: "l1", Database: "notes", Remote: "10.0.0.6:4000", User: "bob",
			Reason: syncengine.RefusedBadPassword, Detail: longDetail},
	})
	h.settle()
	if row := listedSentences(s); len(row) != 1 || strings.Contains(row[0], "the end") {
		t.Fatalf("the list should show the refusal cut short: %q", row)
	}
	s.list.Select(0)
	for _, want := range []string{
		"2025-01-02 03:04:05 UTC · Security · Error\n",
		`listener of "notes" refused a login as user "bob" from 10.0.0.6:4000: wrong password (` + longDetail + ")\n",
		"\nListener ID: l1\n",
		"\nDatabase: notes\n",
		"\nPeer address: 10.0.0.6:4000\n",
		"\nUser: bob\n",
		"\nReason: bad_password\n",
		"\nDetail: " + longDetail + "\n",
		"\nEvent: syncengine.ConnectionRefused",
	} {
		if !strings.Contains(s.detail.Text, want) {
			t.Errorf("the detail lacks %q:\n%s", want, s.detail.Text)
		}
	}
	if !s.detail.Selectable || !hasText(content, "Peer address: 10.0.0.6:4000") {
		t.Errorf("the detail is not shown as selectable text (selectable %v)", s.detail.Selectable)
	}
	test.Tap(s.copyBtn)
	if got := h.u.app.Clipboard().Content(); got != s.detail.Text {
		t.Errorf("Copy put %q on the clipboard, want the detail", got)
	}

	// A newer event takes the top row; the detail stays with the refusal.
	next := time.Date(2025, 1, 2, 3, 5, 0, 0, time.UTC)
	h.u.handle([]syncengine.Event{syncengine.ReplicatorStatusChanged{ID: "r1", Status: syncengine.ReplicatorStatus{
		Activity: syncengine.Offline, Error: errors.New("dial tcp: connection refused"), NextAttempt: next}}})
	h.settle()
	if len(s.visible) != 2 || !strings.Contains(s.detail.Text, "Reason: bad_password") {
		t.Errorf("after a new event the detail shows %q", s.detail.Text)
	}
	s.list.Select(0)
	for _, want := range []string{"· Replications · Warning\n", "\nState: offline\n", "\nError: dial tcp: connection refused\n",
		"\nNext attempt: 2025-01-02 03:05:00 UTC\n"} {
		if !strings.Contains(s.detail.Text, want) {
			t.Errorf("the replication's detail lacks %q:\n%s", want, s.detail.Text)
		}
	}
	s.kind.SetSelected("Security")
	if !s.copyBtn.Disabled() || !hasText(content, "Select an event to see its details.") {
		t.Errorf("the hidden line is still selected: %q", s.detail.Text)
	}
}
