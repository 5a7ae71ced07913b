package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"peersync/service"
	"peersync/syncengine"
)

// TestActivitySaysWhatHappened: the Activity screen used to show listener,
// connection and replication events as Go struct dumps. Each must read as
// a sentence that names the listener or replication.
func TestActivitySaysWhatHappened(t *testing.T) {
	h := newHarness(t)
	save(t, h.database("notes"), "ada", "", `{}`)
	h.database("copy")
	if err := h.ws.SaveListener("", ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share", Database: "notes",
		Interface: "127.0.0.1", TLS: service.TLSOff}, Auth: AuthNone}); err != nil {
		t.Fatal(err)
	}
	ls := h.u.listeners
	h.waitFor("the running listener", func() bool { r := ls.row("share"); return r != nil && r.ID != "" && len(r.URLs) > 0 })
	share := ls.row("share")
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "from-share",
		Database: "copy", Target: share.URLs[0], Type: service.TypePull, Conflicts: service.ConflictsDefault}}); err != nil {
		t.Fatal(err)
	}
	if err := h.ws.StartReplication("from-share", false); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.waitFor("the finished pull", func() bool {
		st := rs.status("from-share")
		return st.Activity == syncengine.Stopped && st.Pulled == 1
	})
	replID := ""
	for id, n := range rs.byID {
		if n == "from-share" {
			replID = id
		}
	}
	// Events the test cannot easily cause, for the listener and the
	// replication the screens know.
	h.u.handle([]syncengine.Event{
		syncengine.ConnectionRefused{ListenerID: share.ID, Database: "notes", Remote: "127.0.0.1:5555", User: "bob",
			Reason: syncengine.RefusedBadPassword},
		syncengine.ReplicatorStatusChanged{ID: replID, Status: syncengine.ReplicatorStatus{Activity: syncengine.Busy,
			Progress: syncengine.Progress{Completed: 20, Total: 100}, Pulled: 20}},
		syncengine.ReplicatorStatusChanged{ID: replID, Status: syncengine.ReplicatorStatus{Activity: syncengine.Offline,
			Error: errors.New("connection refused"), NextAttempt: time.Date(2025, 1, 2, 3, 4, 35, 0, time.UTC)}},
	})
	h.settle()
	h.u.show(navActivity)
	s := h.u.activity

	var all []string
	for _, l := range s.visible {
		all = append(all, l.String())
		if strings.ContainsAny(l.Summary, "{}") {
			t.Errorf("a struct dump: %s", l)
		}
	}
	for _, want := range []string{
		`listener "share" started on ` + share.URLs[0],
		`connected over CBMobile_4 (version vectors)`, // the listener's line for the pull's connection
		`replication "from-share": pulled 1 document: ada (pulled)`,
		`replication "from-share" stopped, pushed 0, pulled 1 documents`,
		`listener "share" refused a login as user "bob" from 127.0.0.1:5555: wrong password`,
		`replication "from-share": pulled 20 of 100 documents`,
		`replication "from-share" is offline: connection refused; retrying at 03:04:35`,
	} {
		if !containsLine(all, want) {
			t.Errorf("no line says %q; lines:\n%s", want, strings.Join(all, "\n"))
		}
	}
	// What the list draws is those lines.
	for _, txt := range texts(s.list) {
		if strings.ContainsAny(txt, "{}") {
			t.Errorf("the list shows a struct dump: %s", txt)
		}
	}
	if newest := s.visible[0].listText(); !hasText(s.list, newest) {
		t.Errorf("the list does not show the newest line %q: %q", newest, texts(s.list))
	}
}

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// TestActivityNamesLinesLoggedBeforeTheNameWasKnown: an event can arrive
// before the screens have loaded its replication's name; the line says the
// engine ID until then, and the name after.
func TestActivityNamesLinesLoggedBeforeTheNameWasKnown(t *testing.T) {
	names := map[string]string{}
	s := &activityScreen{log: newActivityLog(maxActivity), now: time.Now, name: func(id string) string { return names[id] }}
	line := s.describe(activityLine{ev: syncengine.ReplicatorStatusChanged{ID: "ab12cd34", Status: syncengine.ReplicatorStatus{Activity: syncengine.Connecting}}})
	s.log.add(line)
	if got := s.log.newestFirst(activityFilter{})[0].Summary; got != "replication ab12cd34 is connecting" {
		t.Fatalf("unnamed: %q", got)
	}
	names["ab12cd34"] = "to-desk"
	s.log.rename(s.describe)
	if got := s.log.newestFirst(activityFilter{Text: "to-desk"}); len(got) != 1 || got[0].Summary != `replication "to-desk" is connecting` || got[0].unnamed {
		t.Fatalf("named: %+v", got)
	}
}
