package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"peersync/syncengine"
)

func TestNavigationHasEveryScreen(t *testing.T) {
	h := newHarness(t)
	want := []string{"Databases", "Conflicts", "Listeners", "Peers", "Replications", "Identities", "Activity"}
	if len(h.u.items) != len(want) {
		t.Fatalf("%d navigation items", len(h.u.items))
	}
	for i, name := range want {
		if h.u.items[i].name != name {
			t.Errorf("item %d = %q, want %q", i, h.u.items[i].name, name)
		}
		h.u.nav.Select(i)
		h.settle()
		if h.u.current != i || h.u.body.Objects[0] != h.u.items[i].screen.view() {
			t.Errorf("selecting %s did not show it", name)
		}
	}
}

func TestAboutShowsTheVersion(t *testing.T) {
	h := newHarness(t)
	h.u.showAbout()
	if d := h.topDialog(); d == nil || !hasText(d, "Version 1.2.3") {
		t.Fatalf("about dialog shows %q", texts(d))
	}
}

func TestShortcutsAreOnTheMenuAndCanvas(t *testing.T) {
	h := newHarness(t)
	want := map[string]bool{}
	for _, s := range h.u.shortcuts() {
		want[s.shortcut.ShortcutName()] = true
	}
	for _, k := range []fyne.KeyName{fyne.KeyN, fyne.KeyF, fyne.KeyS} {
		name := (&desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}).ShortcutName()
		if !want[name] {
			t.Errorf("no shortcut %s", name)
		}
	}
	onMenu := map[string]bool{}
	for _, m := range h.u.win.MainMenu().Items {
		for _, it := range m.Items {
			if it.Shortcut != nil {
				onMenu[it.Shortcut.ShortcutName()] = true
			}
		}
	}
	for name := range want {
		if !onMenu[name] {
			t.Errorf("shortcut %s is not on the main menu", name)
		}
	}

	// Ctrl+N with no database open asks for a name first.
	h.u.show(navActivity)
	h.u.newDocument()
	if h.u.current != navDatabases || h.u.win.Canvas().Focused() != h.u.databases.nameEntry {
		t.Error("Ctrl+N without a database did not focus the new-database field")
	}
}

func TestPumpBatchesEventsUntilTheSubscriptionCloses(t *testing.T) {
	e, err := syncengine.New(syncengine.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	sub := e.Subscribe(64)
	for _, name := range []string{"a", "b", "c"} {
		if _, err := e.CreateDatabase(name); err != nil {
			t.Fatal(err)
		}
	}
	loop := &testLoop{queue: make(chan func(), 64)}
	var batches [][]syncengine.Event
	done := make(chan struct{})
	go func() {
		pumpEvents(sub, loop, func(evs []syncengine.Event) { batches = append(batches, evs) })
		close(done)
	}()
	select {
	case fn := <-loop.queue:
		fn() // runs the handler here, on the test goroutine
	case <-time.After(10 * time.Second):
		t.Fatal("no events arrived")
	}
	// The three events were queued before the pump started: one batch.
	if len(batches) != 1 || len(batches[0]) != 3 {
		t.Errorf("batches = %v, want one batch of three", batches)
	}
	sub.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the pump did not stop when the subscription closed")
	}
}

// trayApp is a desktop app as far as the tray is concerned.
type trayApp struct {
	fyne.App
	menu *fyne.Menu
	icon fyne.Resource
	win  fyne.Window
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu)    { a.menu = m }
func (a *trayApp) SetSystemTrayIcon(r fyne.Resource) { a.icon = r }
func (a *trayApp) SetSystemTrayWindow(w fyne.Window) { a.win = w }
func (a *trayApp) Quit()                             { a.menu = nil }

func TestTrayMenuShowsTheWindowAndQuits(t *testing.T) {
	h := newHarness(t)
	tray := &trayApp{App: h.u.app}
	h.u.app = tray
	h.u.setupTray()
	if tray.menu == nil || tray.icon == nil || tray.win != h.u.win {
		t.Fatalf("tray not set up: %+v", tray)
	}
	items := tray.menu.Items
	if len(items) != 3 || items[0].Label != "Show window" || items[2].Label != "Quit" || !items[2].IsQuit {
		t.Fatalf("tray menu %v", items)
	}
	h.u.win.Hide()
	items[0].Action()
	if !h.u.win.Content().Visible() {
		t.Error("Show window did not show it")
	}
	items[2].Action()
	if tray.menu != nil {
		t.Error("Quit did not quit")
	}
}

func TestQuitAsksAboutAnUnsavedEdit(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	save(t, db, "a", "", `{"v":1}`)
	b := h.openBrowser("notes")
	b.list.Select(0)
	h.settle()
	b.editor.body.SetText(`{"v": "unsaved"}`)
	quits := 0
	h.u.show(navActivity)
	h.u.unlessEditing(func() { quits++ })
	if quits != 0 || b.discard == nil || h.u.current != navDatabases {
		t.Fatalf("quit with an unsaved edit: quits %d, question %v", quits, b.discard)
	}
	test.Tap(button(h.topDialog(), "Keep editing"))
	if quits != 0 || b.editor.body.Text != `{"v": "unsaved"}` {
		t.Fatal("keep editing lost the edit or quit")
	}
	h.u.unlessEditing(func() { quits++ })
	b.discard.Confirm()
	if quits != 1 {
		t.Errorf("discarding did not quit")
	}
}
