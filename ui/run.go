package ui

import (
	// Before Fyne initialises: a language Fyne can parse under the C
	// locale (see the package's doc).
	_ "bootlocale"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"peersync/assets"
	"peersync/syncengine"
)

// AppID is the application ID, as in FyneApp.toml.
const AppID = "org.peersync.app"

// eventBuffer is the UI's subscription buffer. When it overflows the engine
// drops events for the UI (the Activity screen shows how many); screens
// reload from the engine, so they stay correct.
const eventBuffer = 1024

// Run opens the main window and blocks until the app quits. ws holds the
// listeners and replications the window shows and edits.
func Run(e *syncengine.Engine, ws Workspace, version string) error {
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	eng := NewEngine(e)
	sub := eng.Subscribe(eventBuffer)
	defer sub.Close()

	u := newMainUI(a, eng, ws, fyneRunner{}, version)
	defer u.peers.stop()
	u.activity.dropped = sub.Dropped
	u.setupTray()
	go pumpEvents(sub, u.run, u.handle)
	u.win.SetMaster()
	u.win.ShowAndRun()
	return nil
}

// maxEventBatch bounds how many queued events go to the UI in one call.
const maxEventBatch = 200

// pumpEvents moves events from the engine to the UI goroutine, batching
// whatever has queued up so a burst costs one UI update, until the
// subscription is closed.
func pumpEvents(sub *syncengine.Subscription, r runner, handle func([]syncengine.Event)) {
	for ev := range sub.C {
		batch := []syncengine.Event{ev}
	drain:
		for len(batch) < maxEventBatch {
			select {
			case ev, ok := <-sub.C:
				if !ok {
					break drain
				}
				batch = append(batch, ev)
			default:
				break drain
			}
		}
		r.onUI(func() { handle(batch) })
	}
}

// setupTray adds a system-tray menu where the platform has one.
func (u *mainUI) setupTray() {
	desk, ok := u.app.(desktop.App)
	if !ok {
		return
	}
	show := fyne.NewMenuItem("Show window", func() {
		u.win.Show()
		u.win.RequestFocus()
	})
	desk.SetSystemTrayMenu(fyne.NewMenu("PeerSync", show, fyne.NewMenuItemSeparator(), quitItem(u)))
	desk.SetSystemTrayIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	desk.SetSystemTrayWindow(u.win)
}
