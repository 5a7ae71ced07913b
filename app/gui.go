//go:build !headless

package app

import "peersync/ui"

// runGUI opens the desktop window and returns when it closes. The window
// edits the same configuration file headless mode runs, through the same
// runner, so what is set up in it comes back after a restart.
func runGUI(g *globals) error {
	path := g.configPath()
	cfg, err := LoadConfig(path)
	if err != nil {
		return err
	}
	e, err := g.openEngine()
	if err != nil {
		return err
	}
	defer e.Close()
	rn := NewRunner(e)
	defer rn.Stop()
	// Discovery joins the runner separately; until then the Peers screen
	// says that discovery is off.
	ws := newWorkspace(path, e.DataDir(), cfg, rn, nil)
	return ui.Run(e, ws, Version)
}
