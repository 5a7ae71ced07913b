package app

import (
	"os"
	"path/filepath"
)

func platformDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, "Library", "Application Support")
}
