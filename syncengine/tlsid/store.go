package tlsid

import (
	"cmp"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// chainExt is the suffix of the per-label chain files in the store directory.
const chainExt = ".pem"

// Store keeps identities by label: each chain as dir/<label>.pem (PEM
// certificates only) and each private key in a KeyStore.
type Store struct {
	dir     string
	keys    KeyStore
	backend string
	// keyringErr is why Open put the keys in files: the keyring's failure.
	keyringErr error

	// mu serialises writers so "label must be new" checks hold within a
	// process. Readers need no lock: keys are stored before chains and
	// chain files are replaced atomically.
	mu sync.Mutex
}

// NewStore returns a Store keeping chains in dir and keys in keys. The
// directory is created (mode 0700) on first write.
func NewStore(dir string, keys KeyStore) *Store {
	return &Store{dir: dir, keys: keys, backend: backendName(keys)}
}

// backendName names a KeyStore for Backend.
func backendName(keys KeyStore) string {
	switch keys.(type) {
	case *keyringKeyStore:
		return "keyring"
	case *fileKeyStore:
		return "file"
	case *memoryKeyStore:
		return "memory"
	default:
		return "custom"
	}
}

// Backend says where private keys live: "keyring" or "file" for stores made
// by Open, "memory" for NewMemoryKeyStore and "custom" for other KeyStores.
func (s *Store) Backend() string { return s.backend }

// KeyringError says why Open keeps the private keys in files instead of
// the OS keyring; nil when it did not fall back (or the Store was not made
// by Open), so callers can tell the user once.
func (s *Store) KeyringError() error { return s.keyringErr }

// Dir returns the directory holding the certificate chains.
func (s *Store) Dir() string { return s.dir }

func (s *Store) chainPath(label string) string {
	return filepath.Join(s.dir, label+chainExt)
}

// Get loads the identity stored under label.
func (s *Store) Get(label string) (*Identity, error) {
	if err := validateLabel(label); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.chainPath(label))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no identity %q", ErrNotFound, label)
	}
	if err != nil {
		return nil, fmt.Errorf("tlsid: read chain of %q: %w", label, err)
	}
	chain, err := parseChainPEM(data)
	if err != nil {
		return nil, fmt.Errorf("identity %q: %w", label, err)
	}
	keyPEM, err := s.keys.Get(label)
	if err != nil {
		return nil, fmt.Errorf("identity %q has a certificate but its private key could not be loaded from the %s key store: %w", label, s.backend, err)
	}
	key, err := parseStoredKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("identity %q: %w", label, err)
	}
	if !keyMatches(chain[0], key) {
		return nil, fmt.Errorf("%w: identity %q: stored private key does not match its certificate", ErrInvalid, label)
	}
	return &Identity{Label: label, Chain: chain, key: key}, nil
}

// List loads every stored identity, sorted by label.
func (s *Store) List() ([]*Identity, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tlsid: list identities: %w", err)
	}
	var ids []*Identity
	for _, e := range entries {
		label, ok := strings.CutSuffix(e.Name(), chainExt)
		if !ok || !e.Type().IsRegular() || validateLabel(label) != nil {
			continue
		}
		id, err := s.Get(label)
		if errors.Is(err, ErrNotFound) && !hasFile(s.chainPath(label)) {
			continue // deleted while listing
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b *Identity) int { return cmp.Compare(a.Label, b.Label) })
	return ids, nil
}

// Delete removes the identity's chain and private key.
func (s *Store) Delete(label string) error {
	if err := validateLabel(label); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteLocked(label)
}

func (s *Store) deleteLocked(label string) error {
	// The chain goes first: once it is gone the identity no longer exists,
	// and a key left behind by a failure is overwritten by the next Set.
	chainErr := os.Remove(s.chainPath(label))
	chainMissing := errors.Is(chainErr, fs.ErrNotExist)
	if chainErr != nil && !chainMissing {
		return fmt.Errorf("tlsid: delete chain of %q: %w", label, chainErr)
	}
	keyErr := s.keys.Delete(label)
	keyMissing := errors.Is(keyErr, ErrNotFound)
	if keyErr != nil && !keyMissing {
		return fmt.Errorf("identity %q: certificate deleted but private key not: %w", label, keyErr)
	}
	if chainMissing && keyMissing {
		return fmt.Errorf("%w: no identity %q", ErrNotFound, label)
	}
	return nil
}

// addLocked stores a new identity; label must be valid and unused. s.mu
// must be held.
func (s *Store) addLocked(label string, chain []*x509.Certificate, key crypto.Signer) (*Identity, error) {
	if hasFile(s.chainPath(label)) {
		return nil, fmt.Errorf("%w: identity %q already exists", ErrExists, label)
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("tlsid: create identity directory: %w", err)
	}
	if err := s.keys.Set(label, keyPEM); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(s.chainPath(label), encodeChainPEM(chain), 0o644); err != nil {
		_ = s.keys.Delete(label) // don't leave an orphaned key behind
		return nil, fmt.Errorf("tlsid: write chain of %q: %w", label, err)
	}
	return &Identity{Label: label, Chain: chain, key: key}, nil
}

// hasFile reports whether path exists (any error other than "not exist"
// counts as existing, so we never overwrite what we could not inspect).
func hasFile(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
