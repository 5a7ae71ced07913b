package ui

import (
	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// AppID is the application ID, as in FyneApp.toml.
const AppID = "org.peersync.app"

// Run opens the main window and blocks until it is closed.
func Run(e *syncengine.Engine, version string) error {
	a := fyneapp.NewWithID(AppID)
	w := a.NewWindow("PeerSync")
	w.SetContent(widget.NewLabel("PeerSync " + version))
	w.Resize(fyne.NewSize(900, 600))
	w.ShowAndRun()
	return nil
}
