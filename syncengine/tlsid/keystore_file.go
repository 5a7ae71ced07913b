package tlsid

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// fileKeyStore keeps each key in its own 0600 file, dir/<label>.key.
type fileKeyStore struct {
	dir string
}

// NewFileKeyStore returns a KeyStore writing one file per label, mode 0600,
// in dir. The directory is created with mode 0700 on first write.
func NewFileKeyStore(dir string) KeyStore {
	return &fileKeyStore{dir: dir}
}

func (f *fileKeyStore) path(label string) (string, error) {
	if err := validateLabel(label); err != nil {
		return "", err
	}
	return filepath.Join(f.dir, label+".key"), nil
}

func (f *fileKeyStore) Get(label string) ([]byte, error) {
	p, err := f.path(label)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no private key file for %q", ErrNotFound, label)
	}
	if err != nil {
		return nil, fmt.Errorf("tlsid: read private key for %q: %w", label, err)
	}
	return data, nil
}

func (f *fileKeyStore) Set(label string, key []byte) error {
	p, err := f.path(label)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return fmt.Errorf("tlsid: create key directory: %w", err)
	}
	if err := writeFileAtomic(p, key, 0o600); err != nil {
		return fmt.Errorf("tlsid: write private key for %q: %w", label, err)
	}
	return nil
}

func (f *fileKeyStore) Delete(label string) error {
	p, err := f.path(label)
	if err != nil {
		return err
	}
	err = os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: no private key file for %q", ErrNotFound, label)
	}
	if err != nil {
		return fmt.Errorf("tlsid: delete private key for %q: %w", label, err)
	}
	return nil
}
