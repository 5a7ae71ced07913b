package discovery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// peerIDFile is the file in the data directory that holds the peer ID.
const peerIDFile = "peer-id"

// LoadOrCreatePeerID returns the peer ID kept in dataDir, creating it (a
// random UUID in a 0600 file named "peer-id") on first use. Every later call
// returns the same ID. A damaged file is reported, not replaced, because a
// new ID would make every other peer see a stranger.
func LoadOrCreatePeerID(dataDir string) (string, error) {
	if dataDir == "" {
		return "", errors.New("discovery: peer ID: data directory is empty")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("discovery: peer ID: create data directory: %w", err)
	}
	path := filepath.Join(dataDir, peerIDFile)
	id, err := readPeerID(path)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return createPeerID(dataDir, path)
}

// readPeerID reads and checks an existing peer ID file, tightening its
// permissions if someone loosened them.
func readPeerID(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("discovery: peer ID: %w", err)
	}
	text := strings.TrimSpace(string(data))
	parsed, err := uuid.Parse(text)
	if err != nil {
		return "", fmt.Errorf("discovery: peer ID file %s is damaged (%v); delete it to get a new ID", path, err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm() != 0o600 {
		if err := os.Chmod(path, 0o600); err != nil {
			return "", fmt.Errorf("discovery: peer ID: restrict permissions: %w", err)
		}
	}
	return parsed.String(), nil
}

// createPeerID writes a new ID to a temporary file and links it into place,
// so a crash never leaves a half-written file and two processes starting at
// once agree on one ID (the loser of the link reads the winner's).
func createPeerID(dataDir, path string) (string, error) {
	tmp, err := os.CreateTemp(dataDir, ".peer-id-*")
	if err != nil {
		return "", fmt.Errorf("discovery: peer ID: %w", err)
	}
	defer os.Remove(tmp.Name())
	id := uuid.NewString()
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("discovery: peer ID: %w", err)
	}
	if _, err := tmp.WriteString(id + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("discovery: peer ID: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("discovery: peer ID: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("discovery: peer ID: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readPeerID(path)
		}
		return "", fmt.Errorf("discovery: peer ID: %w", err)
	}
	return id, nil
}

// DefaultName is the friendly name announced when the user has not chosen
// one: the host name without its domain, or "PeerSync" if there is none.
func DefaultName() string {
	host, err := os.Hostname()
	if err != nil {
		return "PeerSync"
	}
	host, _, _ = strings.Cut(host, ".")
	if host == "" {
		return "PeerSync"
	}
	return host
}
