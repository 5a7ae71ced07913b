package tlsid

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name PeerSync's keys are filed under in
// the OS keyring; the account is the identity's label.
const KeyringService = "PeerSync"

// SecretsService is the keyring service other secrets (replication
// passwords) are filed under, apart from the keys.
const SecretsService = "PeerSync passwords"

// keyringKeyStore keeps keys in the OS keyring through go-keyring.
type keyringKeyStore struct {
	service string
	what    string // what its entries are, for errors
}

// NewKeyringStore returns a KeyStore backed by the OS keyring (Secret
// Service on Linux, Keychain on macOS, Credential Manager on Windows),
// service "PeerSync", account = label.
func NewKeyringStore() KeyStore {
	return &keyringKeyStore{service: KeyringService, what: "private key"}
}

// SecretStore returns where secrets other than keys go, beside this
// store's keys: the OS keyring (service SecretsService) when the keys are
// kept there, else 0600 files in dir.
func (s *Store) SecretStore(dir string) KeyStore {
	if _, ok := s.keys.(*keyringKeyStore); ok {
		return &keyringKeyStore{service: SecretsService, what: "secret"}
	}
	return NewFileKeyStore(dir)
}

func (k *keyringKeyStore) Get(label string) ([]byte, error) {
	s, err := keyring.Get(k.service, label)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("%w: no %s for %q in the OS keyring", ErrNotFound, k.what, label)
	}
	if err != nil {
		return nil, fmt.Errorf("tlsid: read %s for %q from the OS keyring: %w", k.what, label, err)
	}
	return []byte(s), nil
}

func (k *keyringKeyStore) Set(label string, key []byte) error {
	// go-keyring stores text; the keys this package writes are PEM, which
	// is ASCII, so anything else is a caller mistake.
	if !utf8.Valid(key) {
		return fmt.Errorf("%w: keyring entries must be text (PEM), got binary data for %q", ErrInvalid, label)
	}
	if err := keyring.Set(k.service, label, string(key)); err != nil {
		return fmt.Errorf("tlsid: store %s for %q in the OS keyring: %w", k.what, label, err)
	}
	return nil
}

func (k *keyringKeyStore) Delete(label string) error {
	err := keyring.Delete(k.service, label)
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%w: no %s for %q in the OS keyring", ErrNotFound, k.what, label)
	}
	if err != nil {
		return fmt.Errorf("tlsid: delete %s for %q from the OS keyring: %w", k.what, label, err)
	}
	return nil
}
