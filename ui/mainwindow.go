package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// screen is one entry of the left navigation.
type screen interface {
	view() fyne.CanvasObject
	shown() // the user navigated here: refresh what may be stale
}

type navItem struct {
	name   string
	icon   fyne.Resource
	screen screen
}

// Navigation order; the indexes are used by shortcuts and tests.
const (
	navDatabases = iota
	navConflicts
	navListeners
	navPeers
	navReplications
	navIdentities
	navActivity
)

// mainUI is the main window: navigation on the left, the chosen screen on
// the right. Its fields are touched on the UI goroutine only.
type mainUI struct {
	app     fyne.App
	win     fyne.Window
	eng     Engine
	ws      Workspace
	run     runner
	version string

	items   []navItem
	nav     *widget.List
	body    *fyne.Container
	current int

	databases    *databasesScreen
	conflicts    *conflictsScreen
	listeners    *listenersScreen
	peers        *peersScreen
	replications *replicationsScreen
	identities   *identitiesScreen
	activity     *activityScreen

	trustDialog  dialog.Dialog // the open trust-on-first-use question, for tests
	settingsDlg  *editForm     // the open Settings dialog
	settingsForm *settingsForm // its fields, for tests
	droppedSeen  int64         // events dropped for the UI, as of the last reload for them
	catchUp      *throttle     // the reloads for dropped events, at most catchUpsPerSecond
}

// catchUpsPerSecond bounds the full reloads that make up for events the
// engine dropped: while a flood overflows the buffer, every batch drops
// some, and a reload for each would cost more than the flood.
const catchUpsPerSecond = 1

func newMainUI(a fyne.App, eng Engine, ws Workspace, r runner, version string) *mainUI {
	u := &mainUI{app: a, eng: eng, ws: ws, run: r, version: version, current: -1}
	u.win = a.NewWindow("PeerSync")
	u.databases = newDatabasesScreen(u)
	u.conflicts = newConflictsScreen(u)
	u.listeners = newListenersScreen(u)
	u.peers = newPeersScreen(u, ws.Peers())
	u.replications = newReplicationsScreen(u)
	u.identities = newIdentitiesScreen(u)
	u.activity = newActivityScreen(u)
	u.catchUp = newThrottle(r, catchUpsPerSecond, func(string) {
		u.listeners.reload.trigger()
		u.replications.reload.trigger()
	})
	u.items = []navItem{
		navDatabases:    {"Databases", theme.StorageIcon(), u.databases},
		navConflicts:    {"Conflicts", theme.WarningIcon(), u.conflicts},
		navListeners:    {"Listeners", theme.ComputerIcon(), u.listeners},
		navPeers:        {"Peers", theme.AccountIcon(), u.peers},
		navReplications: {"Replications", theme.ViewRefreshIcon(), u.replications},
		navIdentities:   {"Identities", theme.LoginIcon(), u.identities},
		navActivity:     {"Activity", theme.ListIcon(), u.activity},
	}
	u.body = container.NewStack()
	u.nav = widget.NewList(
		func() int { return len(u.items) },
		func() fyne.CanvasObject {
			return container.NewHBox(widget.NewIcon(theme.StorageIcon()), widget.NewLabel("Replications"))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			row := o.(*fyne.Container).Objects
			row[0].(*widget.Icon).SetResource(u.items[i].icon)
			row[1].(*widget.Label).SetText(u.items[i].name)
		},
	)
	u.nav.OnSelected = func(i widget.ListItemID) { u.show(i) }

	split := container.NewHSplit(u.nav, u.body)
	split.Offset = 0.18
	u.win.SetContent(split)
	u.win.SetMainMenu(u.mainMenu())
	for _, s := range u.shortcuts() {
		u.win.Canvas().AddShortcut(s.shortcut, func(fyne.Shortcut) { s.action() })
	}
	u.win.SetCloseIntercept(func() { u.unlessEditing(u.win.Close) })
	u.win.Resize(fyne.NewSize(1000, 650))
	u.nav.Select(navDatabases)
	return u
}

// show switches the right-hand side to screen i.
func (u *mainUI) show(i int) {
	if i < 0 || i >= len(u.items) || i == u.current {
		return
	}
	u.current = i
	u.nav.Select(i)
	u.body.Objects = []fyne.CanvasObject{u.items[i].screen.view()}
	u.body.Refresh()
	u.items[i].screen.shown()
}

// handle takes a batch of engine events on the UI goroutine.
func (u *mainUI) handle(evs []syncengine.Event) {
	dbsChanged, listenersChanged, resolved := false, false, false
	docsChanged := map[string][]syncengine.Change{}
	for _, ev := range evs {
		u.activity.add(ev)
		switch ev := ev.(type) {
		case syncengine.DatabasesChanged:
			dbsChanged = true
		case syncengine.DocumentsChanged:
			docsChanged[ev.Database] = append(docsChanged[ev.Database], ev.Changes...)
		case syncengine.ListenerStarted, syncengine.ListenerStopped, syncengine.ConnectionOpened, syncengine.ConnectionClosed:
			listenersChanged = true
		case syncengine.ReplicatorStatusChanged:
			u.replications.statusChanged(ev)
		case syncengine.DocumentsReplicated:
			u.replications.documentsReplicated(ev)
		case syncengine.ConflictResolved:
			resolved = true
		}
	}
	// Events the engine dropped for the UI (its buffer was full) may have
	// been the last word on a status: reload the screens that show them.
	// (Not the databases: a flood of document events keeps them reloading.)
	if u.activity.dropped != nil {
		if n := u.activity.dropped(); n != u.droppedSeen {
			u.droppedSeen = n
			u.catchUp.changed("")
		}
	}
	if listenersChanged {
		u.listeners.reload.trigger()
	}
	if dbsChanged || len(docsChanged) > 0 {
		u.databases.refresh()
	}
	if dbsChanged || len(docsChanged) > 0 || resolved {
		u.conflicts.refresh()
	}
	for db, changes := range docsChanged {
		u.databases.documentsChanged(db, changes)
	}
}

type shortcutAction struct {
	shortcut fyne.Shortcut
	action   func()
}

func ctrl(k fyne.KeyName) fyne.Shortcut {
	return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}
}

// shortcuts are the window's keyboard shortcuts. They are also on the main
// menu's items, which the desktop driver runs even while a text field has
// the focus.
func (u *mainUI) shortcuts() []shortcutAction {
	return []shortcutAction{
		{ctrl(fyne.KeyN), u.newDocument},
		{ctrl(fyne.KeyF), u.find},
		{ctrl(fyne.KeyS), u.save},
	}
}

func (u *mainUI) mainMenu() *fyne.MainMenu {
	sc := u.shortcuts()
	item := func(label string, s shortcutAction) *fyne.MenuItem {
		m := fyne.NewMenuItem(label, s.action)
		m.Shortcut = s.shortcut
		return m
	}
	file := fyne.NewMenu("File",
		item("New document", sc[0]),
		item("Find documents", sc[1]),
		item("Save document", sc[2]),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Settings…", u.showSettings),
		fyne.NewMenuItemSeparator(),
		quitItem(u),
	)
	go_ := fyne.NewMenu("Go")
	for i, it := range u.items {
		go_.Items = append(go_.Items, fyne.NewMenuItem(it.name, func() { u.show(i) }))
	}
	help := fyne.NewMenu("Help", fyne.NewMenuItem("About PeerSync", u.showAbout))
	return fyne.NewMainMenu(file, go_, help)
}

// newDocument (Ctrl+N) starts a new document in the open database, or asks
// for a database name when none is open.
func (u *mainUI) newDocument() {
	u.show(navDatabases)
	if b := u.databases.browser; b != nil {
		b.newDocument()
		return
	}
	u.win.Canvas().Focus(u.databases.nameEntry)
}

// find (Ctrl+F) focuses the search field of the screen in view.
func (u *mainUI) find() {
	switch {
	case u.current == navActivity:
		u.win.Canvas().Focus(u.activity.filter)
	case u.databases.browser != nil:
		u.show(navDatabases)
		u.win.Canvas().Focus(u.databases.browser.search)
	}
}

// save (Ctrl+S) saves the document in the editor.
func (u *mainUI) save() {
	if b := u.databases.browser; b != nil && u.current == navDatabases {
		b.editor.save()
	}
}

// unlessEditing runs quit at once, or after the user agrees to discard an
// unsaved edit in the document editor.
func (u *mainUI) unlessEditing(quit func()) {
	b := u.databases.browser
	if b == nil || !b.editor.dirty() {
		quit()
		return
	}
	u.show(navDatabases)
	b.unlessDirty("quit PeerSync", quit)
}

// quitItem quits, but asks first about an unsaved edit. The drivers treat
// an item marked IsQuit as the app's Quit instead of adding their own.
func quitItem(u *mainUI) *fyne.MenuItem {
	q := fyne.NewMenuItem("Quit", func() { u.unlessEditing(u.app.Quit) })
	q.IsQuit = true
	return q
}
