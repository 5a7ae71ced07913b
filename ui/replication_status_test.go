package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"peersync/service"
	"peersync/syncengine"
)

// The first Start of a replication that fails at once shows the error,
// from the events alone: the screen must not lose the status events that
// come before it has learned the new replicator's name.
func TestFirstStartShowsTheFailure(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	l := peerListener(t, "desk", false)
	nowhere := strings.TrimSuffix(l.URLs()[0], "desk") + "nowhere" // a database the peer does not have
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "lost",
		Database: "notes", Target: nowhere, Type: service.TypePush}}); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	rs.list.Select(0)
	test.Tap(rs.startBtn)
	h.waitFor("the replication to stop", func() bool {
		r, _ := h.ws.Replications()
		return len(r) == 1 && r[0].ID != "" && r[0].Status.Activity == syncengine.Stopped
	})
	h.waitFor("the error to show", func() bool { h.settle(); return rs.status("lost").Error != nil })
	if rs.errLabel.Hidden || rs.errLabel.Text == "" {
		t.Errorf("the failure is not shown: detail %q", texts(rs.detail))
	}
}

// When the engine drops events for a busy UI, the screens reload, so a
// status whose last event was dropped still shows as it is.
func TestDroppedEventsReloadTheStatus(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "lost",
		Database: "notes", Target: "ws://127.0.0.1:1/notes", Type: service.TypePush}}); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	rs.live["lost"] = syncengine.ReplicatorStatus{Activity: syncengine.Idle} // as if "stopped" never arrived
	var dropped int64 = 3
	h.u.activity.dropped = func() int64 { return dropped }
	h.u.handle(nil)
	h.settle()
	if st := rs.status("lost"); st.Activity != syncengine.Stopped {
		t.Errorf("after dropped events the status is still %v", st.Activity)
	}
}

// A status event can still be queued when a reload reads a newer status
// (a replication that ended while its progress events were in flight):
// the older event must not replace it. The flood test saw a stopped
// replication stay "busy" at 19,401 of 20,000 that way.
func TestOlderStatusEventDoesNotReplaceANewerStatus(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	l := peerListener(t, "desk", false)
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "once",
		Database: "notes", Target: l.URLs()[0], Type: service.TypePush}}); err != nil {
		t.Fatal(err)
	}
	if err := h.ws.StartReplication("once", false); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.u.show(navReplications)
	h.waitFor("the replication to stop", func() bool { h.settle(); return rs.status("once").Activity == syncengine.Stopped })
	final := rs.status("once")
	id := rs.liveID["once"]
	if id == "" || final.Seq < 2 {
		t.Fatalf("replicator %q, status %+v: want a named replicator with a few status changes", id, final)
	}
	h.u.handle([]syncengine.Event{syncengine.ReplicatorStatusChanged{ID: id,
		Status: syncengine.ReplicatorStatus{Activity: syncengine.Busy, Seq: final.Seq - 1}}})
	h.settle()
	if st := rs.status("once"); st.Activity != syncengine.Stopped {
		t.Errorf("an older event replaced the final status: now %v", st.Activity)
	}
	// A newer one still does.
	h.u.handle([]syncengine.Event{syncengine.ReplicatorStatusChanged{ID: id,
		Status: syncengine.ReplicatorStatus{Activity: syncengine.Offline, Seq: final.Seq + 1}}})
	h.settle()
	if st := rs.status("once"); st.Activity != syncengine.Offline {
		t.Errorf("a newer event was ignored: status %v", st.Activity)
	}
}

// A one-shot replication that completed shows so after the app restarts
// (a new engine, workspace and window over the same data directory): the
// row says when it last synced, how the run ended and what it moved, and
// the detail adds the totals; one that never ran says so.
func TestLastRunShowsAfterARestart(t *testing.T) {
	l := peerListener(t, "desk", false)
	dir := t.TempDir()
	settings := []ReplicationSettings{
		{ReplicationConfig: service.ReplicationConfig{Name: "once", Database: "notes", Target: l.URLs()[0], Type: service.TypePush}},
		{ReplicationConfig: service.ReplicationConfig{Name: "spare", Database: "notes", Target: "ws://127.0.0.1:1/notes", Type: service.TypePush}},
	}
	h := newHarnessIn(t, dir)
	db := h.database("notes")
	for i := range 3 {
		if _, err := db.DefaultCollection().Save(fmt.Sprintf("doc-%d", i), []byte(`{"n":1}`), syncengine.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range settings {
		if err := h.ws.SaveReplication("", s); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.ws.StartReplication("once", false); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.u.show(navReplications)
	h.waitFor("the run to be recorded", func() bool {
		r, _ := h.ws.Replications()
		return r[0].History.LastRun != nil && r[0].History.LastRun.Outcome == service.OutcomeCompleted
	})
	h.waitFor("the row to show the run", func() bool {
		return len(rs.rows) == 2 && rs.rows[0].History.LastRun != nil && rs.rows[0].History.LastRun.Outcome == service.OutcomeCompleted
	})
	h.close()

	h = newHarnessIn(t, dir)
	for _, s := range settings {
		if err := h.ws.SaveReplication("", s); err != nil {
			t.Fatal(err)
		}
	}
	rs = h.u.replications
	h.u.show(navReplications)
	h.settle()
	if len(rs.rows) != 2 || rs.rows[0].History.LastRun == nil {
		t.Fatalf("after a restart the rows are %+v", rs.rows)
	}
	ended := rs.rows[0].History.LastRun.Ended
	rs.now = func() time.Time { return ended.Add(3 * time.Minute) }
	rs.list.Refresh()
	for _, want := range []string{"Last synced 3 min ago · completed · 3 pushed · 0 pulled", "Never run"} {
		if !hasText(rs.list, want) {
			t.Errorf("the list does not show %q: %q", want, texts(rs.list))
		}
	}
	rs.list.Select(0)
	h.settle()
	for _, want := range []string{"once: notes ⇄ ", "\nstopped\nLast run: completed 3 min ago · 3 pushed · 0 pulled\nLast synced: 3 min ago (",
		"\nTotal: 3 pushed · 0 pulled · "} {
		if !strings.Contains(rs.info.Text, want) {
			t.Errorf("the detail does not say %q: %q", want, rs.info.Text)
		}
	}
	rs.list.Select(1)
	h.settle()
	if !strings.Contains(rs.info.Text, "\nLast run: never run\nLast synced: never\n") {
		t.Errorf("the detail of one that never ran: %q", rs.info.Text)
	}
}

// A run that ends by itself while the screen shows it (its peer went away
// and it may not retry) replaces "running" with how it ended: the screen
// reloads when a replicator it knows stops.
func TestRunThatEndsByItselfShowsItsOutcome(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	l := peerListener(t, "desk", false) // stopped twice is fine
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "live",
		Database: "notes", Target: l.URLs()[0], Type: service.TypePush, Continuous: true, MaxAttempts: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := h.ws.StartReplication("live", false); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.u.show(navReplications)
	h.waitFor("the screen to show it caught up", func() bool {
		return rs.status("live").Activity == syncengine.Idle && len(rs.rows) == 1 && rs.rows[0].History.LastRun != nil
	})
	l.Stop()
	h.waitFor("the row to show the failed run", func() bool {
		return rs.rows[0].History.LastRun.Outcome == service.OutcomeFailed
	})
	if !hasText(rs.list, "· failed just now: ") {
		t.Errorf("the row does not say the run failed: %q", texts(rs.list))
	}
}
