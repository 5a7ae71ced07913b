package service

import (
	"strings"
	"testing"
	"time"

	"peersync/syncengine"
)

// TestReplicationNoProgressTimeoutFromConfig: the config file's
// no_progress_timeout reaches the replicator; without it, the default.
func TestReplicationNoProgressTimeoutFromConfig(t *testing.T) {
	e, err := syncengine.New(syncengine.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateDatabase("notes"); err != nil {
		t.Fatal(err)
	}
	rn := NewRunner(e)
	for _, c := range []struct {
		set, want time.Duration
	}{{90 * time.Second, 90 * time.Second}, {0, syncengine.DefaultNoProgressTimeout}} {
		r, err := rn.newReplicator(ReplicationConfig{Name: "r", Database: "notes", Target: "ws://127.0.0.1:1/notes",
			NoProgress: Duration{c.set}})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Config().NoProgressTimeout; got != c.want {
			t.Errorf("no_progress_timeout %v: replicator has %v, want %v", c.set, got, c.want)
		}
	}
}

// Password labels are safe file names, and names differing only in unsafe
// characters get their own.
func TestPasswordLabel(t *testing.T) {
	a, b := PasswordLabel("to desk"), PasswordLabel("to_desk")
	if a == b {
		t.Errorf("%q and %q share the label %q", "to desk", "to_desk", a)
	}
	for _, l := range []string{a, b, PasswordLabel("../../etc/passwd"), PasswordLabel(strings.Repeat("é", 200))} {
		if strings.ContainsAny(l, "/\\ ") || strings.HasPrefix(l, ".") || len(l) > 128 {
			t.Errorf("label %q is not a safe file name", l)
		}
	}
}
