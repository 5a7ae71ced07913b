//go:build !headless

package app

import "peersync/ui"

// runGUI opens the desktop window and returns when it closes.
func runGUI(g *globals) error {
	e, err := g.openEngine()
	if err != nil {
		return err
	}
	defer e.Close()
	return ui.Run(e, Version)
}
