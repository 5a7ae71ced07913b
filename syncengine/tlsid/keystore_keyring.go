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

// keyringKeyStore keeps keys in the OS keyring through go-keyring.
type keyringKeyStore struct {
	service string
}

// NewKeyringStore returns a KeyStore backed by the OS keyring (Secret
// Service on Linux, Keychain on macOS, Credential Manager on Windows),
// service "PeerSync", account = label.
func NewKeyringStore() KeyStore {
	return &keyringKeyStore{service: KeyringService}
}

func (k *keyringKeyStore) Get(label string) ([]byte, error) {
	s, err := keyring.Get(k.service, label)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("%w: no private key for %q in the OS keyring", ErrNotFound, label)
	}
	if err != nil {
		return nil, fmt.Errorf("tlsid: read private key for %q from the OS keyring: %w", label, err)
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
		return fmt.Errorf("tlsid: store private key for %q in the OS keyring: %w", label, err)
	}
	return nil
}

func (k *keyringKeyStore) Delete(label string) error {
	err := keyring.Delete(k.service, label)
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%w: no private key for %q in the OS keyring", ErrNotFound, label)
	}
	if err != nil {
		return fmt.Errorf("tlsid: delete private key for %q from the OS keyring: %w", label, err)
	}
	return nil
}
