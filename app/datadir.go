package app

import (
	"os"
	"path/filepath"
)

// DataDir picks the data directory: the flag, else $PEERSYNC_DATA_DIR, else
// the platform's per-user data directory.
func DataDir(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("PEERSYNC_DATA_DIR"); env != "" {
		return env
	}
	if base := platformDataDir(); base != "" {
		return filepath.Join(base, "PeerSync")
	}
	return ".peersync"
}
