package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"peersync/syncengine/tlsid"
)

// TestActivitySaysOnceThatTheKeyringIsUnavailable: with no Secret Service
// on the session bus, keys and passwords go to files, and Activity says so
// in one warning, however often identities and passwords are used.
func TestActivitySaysOnceThatTheKeyringIsUnavailable(t *testing.T) {
	// No other test in this package talks to D-Bus, so the keyring library
	// has no connection to reuse and fails for real.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	h := newHarness(t, withOSKeyring())
	for range 2 {
		h.u.show(navIdentities) // lists the identities, opening the store
		h.settle()
	}
	ids, err := h.e.Identities()
	if err != nil {
		t.Fatal(err)
	}
	if ids.Backend() != "file" {
		t.Fatalf("keys kept in %q although the session bus leads nowhere", ids.Backend())
	}
	if _, err := ids.CreateSelfSigned(tlsid.CreateOptions{Label: "desk", Attributes: tlsid.Attributes{CommonName: "desk"},
		Usage: tlsid.UsageClient}); err != nil {
		t.Fatal(err)
	}
	secrets, err := h.e.Secrets()
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.Set("to-desk", []byte("a password")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"identities/keys/desk.key", "secrets/to-desk.key"} {
		if _, err := os.Stat(filepath.Join(h.e.DataDir(), f)); err != nil {
			t.Errorf("not in a file: %v", err)
		}
	}
	h.settle()
	h.u.show(navActivity)
	s := h.u.activity
	s.kind.SetSelected("Security")
	s.level.SetSelected("Warnings and errors")
	const said = "the OS keyring is unavailable, so TLS private keys and replication passwords are kept in files under the data directory, readable only by you ("
	rows := listedSentences(s)
	if len(rows) != 1 || !strings.Contains(rows[0], said) {
		t.Fatalf("the list shows %q, want the keyring warning once", rows)
	}
	// Unfiltered, it is still the only such line.
	s.kind.SetSelected("All kinds")
	s.level.SetSelected("All levels")
	at := -1
	for i, l := range s.visible {
		if strings.Contains(l.Summary, said) {
			if at >= 0 {
				t.Errorf("said again: %s", l)
			}
			at = i
		}
	}
	s.list.Select(at)
	for _, want := range []string{"· Security · Warning\n", "\nPrivate key files: " + filepath.Join(h.e.DataDir(), "identities", "keys"),
		"\nPassword files: " + filepath.Join(h.e.DataDir(), "secrets"), "\nReason: " + ids.KeyringError().Error() + "\n"} {
		if !strings.Contains(s.detail.Text, want) {
			t.Errorf("the detail lacks %q:\n%s", want, s.detail.Text)
		}
	}
}
