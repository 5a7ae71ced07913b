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
