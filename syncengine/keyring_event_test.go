package syncengine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// queued takes the events already waiting on sub, without waiting for more.
func queued(sub *Subscription) []Event {
	var evs []Event
	for {
		select {
		case ev := <-sub.C:
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

func keyringEvents(evs []Event) []KeyringUnavailable {
	var out []KeyringUnavailable
	for _, ev := range evs {
		if k, ok := ev.(KeyringUnavailable); ok {
			out = append(out, k)
		}
	}
	return out
}

// TestStickyEventsReachEverySubscriberOnce: a subscriber that was there
// gets a sticky event as it happens; one that comes later gets it first
// thing; neither gets it twice.
func TestStickyEventsReachEverySubscriberOnce(t *testing.T) {
	e := newTestEngine(t)
	early := e.Subscribe(8)
	defer early.Close()
	e.bus.publishSticky(KeyringUnavailable{Reason: "no keyring here"})
	e.publish(DatabasesChanged{})
	late := e.Subscribe(8)
	defer late.Close()
	for name, sub := range map[string]*Subscription{"early": early, "late": late} {
		if got := keyringEvents(queued(sub)); len(got) != 1 || got[0].Reason != "no keyring here" {
			t.Errorf("the %s subscriber got %v, want the event once", name, got)
		}
	}
}

// withoutKeyringEnv marks the child process of TestKeyringFallbackIsSaidOnce.
const withoutKeyringEnv = "PEERSYNC_TEST_WITHOUT_KEYRING"

// TestKeyringFallbackIsSaidOnce: with no Secret Service on the session bus
// the engine keeps keys and passwords in files and publishes
// KeyringUnavailable once, however often identities and secrets are used.
// It runs in a child process whose session bus address leads nowhere:
// this process may already hold a connection to a real bus, which the
// keyring library would reuse.
func TestKeyringFallbackIsSaidOnce(t *testing.T) {
	if os.Getenv(withoutKeyringEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKeyringFallbackIsSaidOnce$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), withoutKeyringEnv+"=1",
			"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestKeyringFallbackIsSaidOnce") {
			t.Fatalf("without a keyring: %v\n%s", err, out)
		}
		return
	}
	e := newTestEngine(t)
	early := e.Subscribe(8)
	defer early.Close()
	for range 2 {
		if _, err := e.Identities(); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Secrets(); err != nil {
			t.Fatal(err)
		}
	}
	ids, _ := e.Identities()
	if ids.Backend() != "file" {
		t.Fatalf("keys kept in %q with no session bus", ids.Backend())
	}
	late := e.Subscribe(8)
	defer late.Close()
	for name, sub := range map[string]*Subscription{"early": early, "late": late} {
		got := keyringEvents(queued(sub))
		if len(got) != 1 {
			t.Fatalf("the %s subscriber got %d KeyringUnavailable events, want 1: %v", name, len(got), got)
		}
		k := got[0]
		if k.Reason == "" || k.KeysDir != filepath.Join(e.DataDir(), "identities", "keys") || k.SecretsDir != filepath.Join(e.DataDir(), "secrets") {
			t.Errorf("the %s subscriber got %+v", name, k)
		}
	}
}
