package service

import (
	"errors"
	"net"
	"testing"
)

// TestApplyNamesWhatDidNotStart: a listener whose port is taken comes back
// as a *StartError naming it, found with errors.As, while the others start.
func TestApplyNamesWhatDidNotStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	cfg := &Config{Listeners: []ListenerConfig{
		{Name: "busy", Database: "notes", Interface: "127.0.0.1", Port: port, TLS: "off"},
		{Name: "free", Database: "notes", Interface: "127.0.0.1", TLS: "off"},
	}}
	rn, _ := newFakeLANRunner(t)
	err = rn.Apply(cfg)
	var se *StartError
	if !errors.As(err, &se) {
		t.Fatalf("Apply = %v, want a *StartError", err)
	}
	if se.Kind != "listener" || se.Name != "busy" {
		t.Errorf("StartError names %s %q, want listener \"busy\"", se.Kind, se.Name)
	}
	if rn.Listener("free") == nil {
		t.Error("listener \"free\" did not start beside the failing one")
	}
}
