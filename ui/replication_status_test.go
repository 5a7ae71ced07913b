package ui

import (
	"strings"
	"testing"

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
