//go:build !headless

package app

import (
	"errors"
	"os"
	"runtime"

	"peersync/service"
	"peersync/ui"
)

// errNoDisplay is what the GUI build says when there is no display to open
// a window on; without this check the windowing library panics with a
// long trace, after discovery has already started.
var errNoDisplay = errors.New("no display: set DISPLAY (or WAYLAND_DISPLAY), or run with --headless")

// runGUI opens the desktop window and returns when it closes. The window
// edits the same configuration file headless mode runs, through the same
// runner and control socket, so what is set up in it comes back after a
// restart and the CLI works beside it.
func runGUI(g *globals) error {
	if !haveDisplay(runtime.GOOS, os.Getenv) {
		return errNoDisplay
	}
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
	// The window answers the control socket as --headless does, so status
	// and CLI commands on this data directory work beside it.
	ctl, err := startControl(e, rn)
	if err != nil {
		return err
	}
	defer ctl.Close()
	ws := newWorkspace(path, e.DataDir(), cfg, rn, nil)
	// Applying the configuration started discovery when browsing is on; a
	// nil browser makes the Peers screen say that discovery is off.
	ws.browser = rn.Browser()
	return ui.Run(e, ws, Version)
}

// haveDisplay reports whether a window can be opened: on X11 and Wayland
// systems that needs DISPLAY or WAYLAND_DISPLAY; Windows and macOS always
// have their own window system.
func haveDisplay(goos string, getenv func(string) string) bool {
	switch goos {
	case "windows", "darwin":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}
