//go:build !windows && !darwin

package app

import (
	"os"
	"path/filepath"
)

// platformDataDir follows the XDG base directory spec.
func platformDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".local", "share")
}
