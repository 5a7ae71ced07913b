package service

import (
	"testing"
	"time"
)

// TestListenerTimeoutsReachTheListener: handshake_timeout and start_timeout
// from the configuration file are what the running listener uses.
func TestListenerTimeoutsReachTheListener(t *testing.T) {
	path := writeConfig(t, "[[listener]]\nname = \"lan\"\ndatabase = \"notes\"\ninterface = \"127.0.0.1\"\ntls = \"off\"\n"+
		"handshake_timeout = \"3s\"\nstart_timeout = \"7s\"\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	rn, _ := newFakeLANRunner(t)
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	lc := rn.Listener("lan").Config()
	if lc.HandshakeTimeout != 3*time.Second || lc.StartTimeout != 7*time.Second {
		t.Errorf("listener runs with handshake timeout %v and start timeout %v, want 3s and 7s", lc.HandshakeTimeout, lc.StartTimeout)
	}
}
