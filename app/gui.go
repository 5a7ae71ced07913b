//go:build !headless

package app

import (
	"peersync/service"
	"peersync/ui"
)

// runGUI opens the desktop window and returns when it closes. The window
// edits the same configuration file headless mode runs, through the same
// runner, so what is set up in it comes back after a restart.
func runGUI(g *globals) error {
	path := g.configPath()
	cfg, err := service.LoadConfig(path)
	if err != nil {
		return err
	}
	g.serving = true
	e, err := g.openEngine()
	if err != nil {
		return err
	}
	defer e.Close()
	rn := service.NewRunner(e)
	defer rn.Stop()
	ws := newWorkspace(path, e.DataDir(), cfg, rn, nil)
	// Applying the configuration started discovery when browsing is on; a
	// nil browser makes the Peers screen say that discovery is off.
	ws.browser = rn.Browser()
	return ui.Run(e, ws, Version)
}
