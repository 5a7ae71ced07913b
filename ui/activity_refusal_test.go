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
		if got.Summary != c.want || got.Kind != "syncengine.ConnectionRefused" {
			t.Errorf("got %q (%s), want %q", got.Summary, got.Kind, c.want)
		}
	}
	for _, r := range syncengine.RefusalReasons {
		if refusalReasons[r] == "" {
			t.Errorf("refusal reason %q has no sentence", r)
		}
	}
}
