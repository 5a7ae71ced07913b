package tlsid

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// requireKeyringEnv turns "no Secret Service" from a skip into a failure,
// for CI jobs that start gnome-keyring and must not skip silently.
const requireKeyringEnv = "PEERSYNC_REQUIRE_KEYRING"

// needKeyring skips unless a real OS keyring answers (on Linux: a Secret
// Service such as gnome-keyring on the session bus).
func needKeyring(t *testing.T) {
	t.Helper()
	skip := t.Skipf
	if os.Getenv(requireKeyringEnv) != "" {
		skip = t.Fatalf
	}
	if runtime.GOOS != "linux" {
		if err := probeKeyStore(NewKeyringStore(), keyringProbeTimeout); err != nil {
			skip("OS keyring not usable: %v", err)
		}
		return
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		skip("no Secret Service reachable: DBUS_SESSION_BUS_ADDRESS is unset; run under dbus-run-session with gnome-keyring-daemon --unlock")
	}
	err := probeKeyStore(NewKeyringStore(), keyringProbeTimeout)
	if err == nil {
		return
	}
	if setupErr := useSessionCollectionAsDefault(t); setupErr != nil {
		skip("no usable Secret Service on the session bus: %v (%v)", err, setupErr)
	}
	if err := probeKeyStore(NewKeyringStore(), keyringProbeTimeout); err != nil {
		skip("Secret Service still unusable with the session collection as default: %v", err)
	}
}

// TestKeyringStoreAcrossRestart keeps an identity's key in the real OS
// keyring, re-opens the Store as after a restart, and deletes it again.
func TestKeyringStoreAcrossRestart(t *testing.T) {
	needKeyring(t)
	dir := t.TempDir()
	label := "tlsid-test-" + randomHex(6)
	t.Cleanup(func() { _ = keyring.Delete(KeyringService, label) })

	logger, logs := newTestLogger()
	s, err := Open(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "keyring" {
		t.Fatalf("Backend = %q, want keyring; log: %q", s.Backend(), logs.lines())
	}
	if lines := logs.lines(); len(lines) != 0 {
		t.Errorf("Open logged %q although the keyring works", lines)
	}
	created, err := s.CreateSelfSigned(CreateOptions{Label: label, Attributes: Attributes{CommonName: "keyring test"}, Usage: UsageClient})
	if err != nil {
		t.Fatal(err)
	}

	// The key is in the keyring under service "PeerSync", account = label,
	// and not on disk.
	secret, err := keyring.Get(KeyringService, label)
	if err != nil {
		t.Fatalf("key not in the OS keyring: %v", err)
	}
	wantKey, _ := created.PrivateKeyPEM()
	if secret != string(wantKey) {
		t.Error("keyring item does not hold the identity's key")
	}
	if _, err := os.Stat(filepath.Join(dir, "keys")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a key directory was made although the keyring works")
	}

	// Restart: a new Store over the same directory.
	reopened, err := Open(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reopened.Get(label)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint() != created.Fingerprint() {
		t.Errorf("fingerprint after restart %s, want %s", got.Fingerprint(), created.Fingerprint())
	}

	if err := reopened.Delete(label); err != nil {
		t.Fatal(err)
	}
	if _, err := reopened.Get(label); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if _, err := keyring.Get(KeyringService, label); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("keyring item still there after Delete: %v", err)
	}
}

// TestKeyringAnonymousAcrossRestart checks the listener's identity keeps its
// fingerprint when its key lives in the real keyring.
func TestKeyringAnonymousAcrossRestart(t *testing.T) {
	needKeyring(t)
	dir := t.TempDir()
	label := "tlsid-anon-" + randomHex(6)
	t.Cleanup(func() { _ = keyring.Delete(KeyringService, label) })

	open := func() *Store {
		s, err := openWith(dir, nil, NewKeyringStore(), keyringProbeTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if s.Backend() != "keyring" {
			t.Fatalf("Backend = %q, want keyring", s.Backend())
		}
		return s
	}
	first, err := open().GetOrCreateAnonymous(label)
	if err != nil {
		t.Fatal(err)
	}
	second, err := open().GetOrCreateAnonymous(label)
	if err != nil {
		t.Fatal(err)
	}
	if first.Fingerprint() != second.Fingerprint() || second.Expired(time.Now()) {
		t.Errorf("anonymous identity changed across restart: %s then %s", first, second)
	}
	if err := open().Delete(label); err != nil {
		t.Fatal(err)
	}
}

func TestKeyringStoreRejectsBinary(t *testing.T) {
	// Checked before any D-Bus call, so this needs no keyring.
	err := NewKeyringStore().Set("bin", []byte{0xff, 0xfe})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Set(binary) = %v, want ErrInvalid", err)
	}
}
