package tlsid

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// KeyStore holds private keys (PEM bytes) by label. Get and Delete return an
// error wrapping ErrNotFound when the label has no key.
type KeyStore interface {
	Get(label string) ([]byte, error)
	Set(label string, key []byte) error
	Delete(label string) error
}

// memoryKeyStore keeps keys in a map; for unit tests.
type memoryKeyStore struct {
	mu   sync.Mutex
	keys map[string][]byte
}

// NewMemoryKeyStore returns a KeyStore that lives only in memory, for tests.
func NewMemoryKeyStore() KeyStore {
	return &memoryKeyStore{keys: make(map[string][]byte)}
}

func (m *memoryKeyStore) Get(label string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[label]
	if !ok {
		return nil, fmt.Errorf("%w: no private key for %q in memory store", ErrNotFound, label)
	}
	return slices.Clone(k), nil
}

func (m *memoryKeyStore) Set(label string, key []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[label] = slices.Clone(key)
	return nil
}

func (m *memoryKeyStore) Delete(label string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[label]; !ok {
		return fmt.Errorf("%w: no private key for %q in memory store", ErrNotFound, label)
	}
	delete(m.keys, label)
	return nil
}

// labels lists the stored labels, sorted; tests use it to look inside.
func (m *memoryKeyStore) labels() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.keys))
}
