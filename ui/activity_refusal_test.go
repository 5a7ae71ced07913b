package ui

import (
	"testing"

	"peersync/syncengine"
)

func TestActivityDescribesRefusedConnections(t *testing.T) {
	name := func(id string) string { return map[string]string{"l1": "share"}[id] }
	for _, c := range []struct {
		ev   syncengine.ConnectionRefused
		want string
	}{
		{syncengine.ConnectionRefused{ListenerID: "l1", Database: "notes", Remote: "127.0.0.1:5555", User: "bob", Reason: syncengine.RefusedBadPassword},
			`listener "share" refused a login as user "bob" from 127.0.0.1:5555: wrong password`},
		{syncengine.ConnectionRefused{ListenerID: "l1", Database: "notes", Remote: "10.0.0.7:5123", User: "mallory", Reason: syncengine.RefusedUnknownUser},
			`listener "share" refused a login as user "mallory" from 10.0.0.7:5123: unknown user`},
		{syncengine.ConnectionRefused{ListenerID: "l2", Database: "notes", Remote: "10.0.0.7:5123", Reason: syncengine.RefusedTLSHandshake, Detail: "EOF"},
			`listener of "notes" refused a connection from 10.0.0.7:5123: the TLS handshake failed (EOF)`},
	} {
		got := describeEvent(c.ev, name)
		if got.Summary != c.want || got.Type != "syncengine.ConnectionRefused" {
			t.Errorf("got %q (%s), want %q", got.Summary, got.Type, c.want)
		}
	}
	for _, r := range syncengine.RefusalReasons {
		if refusalReasons[r] == "" {
			t.Errorf("refusal reason %q has no sentence", r)
		}
	}
}

func TestActivityDescribesReplicationProgress(t *testing.T) {
	busy := func(done, total, pushed, pulled int64) syncengine.ReplicatorStatusChanged {
		return syncengine.ReplicatorStatusChanged{ID: "r1", Status: syncengine.ReplicatorStatus{Activity: syncengine.Busy,
			Progress: syncengine.Progress{Completed: done, Total: total}, Pushed: pushed, Pulled: pulled}}
	}
	name := func(string) string { return "x" }
	for _, c := range []struct {
		ev   syncengine.ReplicatorStatusChanged
		want string
	}{
		{busy(20, 100, 0, 20), `replication "x": pulled 20 of 100 documents`},
		{busy(20, 100, 20, 0), `replication "x": pushed 20 of 100 documents`},
		{busy(0, 100, 0, 0), `replication "x": 0 of 100 documents done`},
		{busy(30, 100, 10, 20), `replication "x": 30 of 100 documents done, pushed 10, pulled 20 documents`},
		{busy(0, 0, 0, 0), `replication "x": pushed 0, pulled 0 documents`},
	} {
		if got := describeEvent(c.ev, name).Summary; got != c.want {
			t.Errorf("%+v: got %q, want %q", c.ev.Status, got, c.want)
		}
	}
}
