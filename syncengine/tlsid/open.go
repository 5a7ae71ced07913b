package tlsid

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// keyringProbeTimeout bounds the keyring check in Open: a locked keyring
// can wait forever on an unlock prompt nobody answers.
const keyringProbeTimeout = 10 * time.Second

// Open returns a Store keeping chains in dir. Private keys go to the OS
// keyring when a probe (set, get and delete a throwaway item) succeeds;
// otherwise to files in dir/keys, one warning line says so via logger
// (slog.Default() when nil) and KeyringError tells why. Nothing logged
// contains key material.
func Open(dir string, logger *slog.Logger) (*Store, error) {
	return openWith(dir, logger, NewKeyringStore(), keyringProbeTimeout)
}

// openWith is Open with the keyring and probe timeout injectable, for tests.
func openWith(dir string, logger *slog.Logger, keyring KeyStore, timeout time.Duration) (*Store, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: store directory is empty", ErrInvalid)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tlsid: create identity directory: %w", err)
	}
	if err := probeKeyStore(keyring, timeout); err != nil {
		keysDir := filepath.Join(dir, "keys")
		logger.Warn("OS keyring unavailable; storing TLS private keys in files instead", "dir", keysDir, "reason", err.Error())
		s := NewStore(dir, NewFileKeyStore(keysDir))
		s.keyringErr = err
		return s, nil
	}
	return NewStore(dir, keyring), nil
}

// probeKeyStore checks that keys can be written, read back and removed.
// It gives up after timeout; the abandoned call then finishes on its own.
func probeKeyStore(keys KeyStore, timeout time.Duration) error {
	label := "peersync-probe-" + randomHex(8)
	value := []byte("probe " + randomHex(16))
	done := make(chan error, 1)
	go func() { done <- probeRoundTrip(keys, label, value) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("no answer within %v", timeout)
	}
}

func probeRoundTrip(keys KeyStore, label string, value []byte) error {
	if err := keys.Set(label, value); err != nil {
		return err
	}
	got, getErr := keys.Get(label)
	delErr := keys.Delete(label)
	if getErr != nil {
		return getErr
	}
	if !bytes.Equal(got, value) {
		return errors.New("probe item read back differently")
	}
	return delErr
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
