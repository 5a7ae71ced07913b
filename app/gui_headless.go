//go:build headless

package app

import "errors"

// runGUI is unavailable in the headless build (no Fyne, no cgo).
func runGUI(*globals) error {
	return errors.New("this build has no GUI: run with --headless or a command (see --help)")
}
