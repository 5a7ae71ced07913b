package ui

import (
	"testing"

	"peersync/syncengine"
)

func TestActivityDescribesRefusedConnections(t *testing.T) {
	got := describeEvent(syncengine.ConnectionRefused{ListenerID: "l1", Database: "notes", Remote: "10.0.0.7:5123",
		User: "mallory", Reason: syncengine.RefusedUnknownUser})
	if want := "notes: refused a connection from 10.0.0.7:5123 (unknown user), user mallory"; got.Summary != want ||
		got.Kind != "syncengine.ConnectionRefused" {
		t.Errorf("got %q (%s), want %q", got.Summary, got.Kind, want)
	}
}
