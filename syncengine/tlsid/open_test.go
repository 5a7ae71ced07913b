package tlsid

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// failingKeyStore stands for an OS keyring that cannot be reached.
type failingKeyStore struct{}

func (failingKeyStore) Get(string) ([]byte, error) { return nil, errors.New("no secret service") }
func (failingKeyStore) Set(string, []byte) error   { return errors.New("no secret service") }
func (failingKeyStore) Delete(string) error        { return errors.New("no secret service") }

// blockingKeyStore stands for a keyring stuck on an unlock prompt.
type blockingKeyStore struct {
	release chan struct{}
	KeyStore
}

func (b blockingKeyStore) Set(label string, key []byte) error {
	<-b.release
	return b.KeyStore.Set(label, key)
}

// logBuffer is a goroutine-safe slog sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSpace(l.buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func newTestLogger() (*slog.Logger, *logBuffer) {
	var lb logBuffer
	return slog.New(slog.NewTextHandler(&lb, &slog.HandlerOptions{Level: slog.LevelDebug})), &lb
}

func TestOpenFallsBackToFilesWhenKeyringFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ids")
	logger, logs := newTestLogger()
	s, err := openWith(dir, logger, failingKeyStore{}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "file" {
		t.Fatalf("Backend = %q, want file", s.Backend())
	}
	if err := s.KeyringError(); err == nil || !strings.Contains(err.Error(), "no secret service") {
		t.Errorf("KeyringError = %v, want the keyring's failure", err)
	}
	id := mustCreate(t, s, "after-fallback", UsageServer|UsageClient)
	keyFile := filepath.Join(dir, "keys", "after-fallback.key")
	assertMode(t, keyFile, 0o600)
	assertMode(t, filepath.Join(dir, "keys"), 0o700|os.ModeDir)
	if _, err := s.Get("after-fallback"); err != nil {
		t.Fatal(err)
	}

	lines := logs.lines()
	if len(lines) != 1 {
		t.Fatalf("logged %d lines, want exactly one warning: %q", len(lines), lines)
	}
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "keyring") ||
		!strings.Contains(lines[0], "no secret service") {
		t.Errorf("warning line %q should say the keyring is unavailable and why", lines[0])
	}
	keyPEM, _ := id.PrivateKeyPEM()
	if strings.Contains(lines[0], "PRIVATE") || strings.Contains(lines[0], string(keyPEM[30:60])) {
		t.Error("log line contains key material")
	}
}

func TestOpenFallsBackWhenKeyringHangs(t *testing.T) {
	stuck := blockingKeyStore{release: make(chan struct{}), KeyStore: NewMemoryKeyStore()}
	defer close(stuck.release) // let the abandoned probe finish before goleak looks
	logger, logs := newTestLogger()
	s, err := openWith(t.TempDir(), logger, stuck, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "file" {
		t.Errorf("Backend = %q, want file", s.Backend())
	}
	if lines := logs.lines(); len(lines) != 1 || !strings.Contains(lines[0], "no answer within") {
		t.Errorf("log = %q, want one line about the timeout", lines)
	}
}

func TestOpenUsesWorkingKeyring(t *testing.T) {
	keys := NewMemoryKeyStore()
	logger, logs := newTestLogger()
	dir := t.TempDir()
	s, err := openWith(dir, logger, keys, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.keys != keys {
		t.Fatal("Open did not keep the working key store")
	}
	if err := s.KeyringError(); err != nil {
		t.Errorf("KeyringError = %v with a working keyring", err)
	}
	if left := keys.(*memoryKeyStore).labels(); len(left) != 0 {
		t.Errorf("probe left items behind: %v", left)
	}
	if lines := logs.lines(); len(lines) != 0 {
		t.Errorf("logged %q with a working keyring", lines)
	}
	mustCreate(t, s, "k", UsageServer)
	if _, err := os.Stat(filepath.Join(dir, "keys")); !errors.Is(err, os.ErrNotExist) {
		t.Error("key directory made although the keyring works")
	}
}

func TestOpenRejectsEmptyDir(t *testing.T) {
	if _, err := openWith("", nil, NewMemoryKeyStore(), time.Second); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(\"\") = %v, want ErrInvalid", err)
	}
}

// openHelperEnv names the directory the helper process opens a Store in.
const openHelperEnv = "TLSID_OPEN_HELPER_DIR"

// TestOpenWithoutSessionBus runs the real Open, with the real go-keyring,
// in a child process whose session bus address leads nowhere.
func TestOpenWithoutSessionBus(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service (D-Bus) keyring is only used on Linux")
	}
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		openHelperEnv+"="+filepath.Join(tmp, "ids"),
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(tmp, "no-such-bus"),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper failed: %v\n%s", err, out)
	}
	text := string(out)
	if strings.Count(text, "level=WARN") != 1 || !strings.Contains(text, "OS keyring unavailable") {
		t.Errorf("want exactly one keyring warning, got:\n%s", text)
	}
	if !strings.Contains(text, "backend=file") {
		t.Errorf("helper did not fall back to files:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(tmp, "ids", "keys", "helper.key")); err != nil {
		t.Errorf("key file missing after fallback: %v", err)
	}
}

// TestOpenHelperProcess is the child of TestOpenWithoutSessionBus.
func TestOpenHelperProcess(t *testing.T) {
	dir := os.Getenv(openHelperEnv)
	if dir == "" {
		t.Skip("helper for TestOpenWithoutSessionBus; runs only as its child")
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, nil))
	s, err := Open(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "helper", UsageClient)
	logger.Info("opened", "backend", s.Backend())
}
