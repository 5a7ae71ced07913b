package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"peersync/service"
	"peersync/syncengine"
)

// Every screen fits an 800×600 window, with items in its lists and one
// selected: the window does not grow (long texts wrap, elide or scroll
// instead of widening it).
func TestEveryScreenFits800x600(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	save(t, h.database("with-a-rather-long-database-name-for-the-lists"), "doc", "", `{"v":1}`)
	if err := h.ws.SaveListener("", ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share-the-notes-with-the-office",
		Database: "notes", Interface: "127.0.0.1", TLS: service.TLSOff}, Auth: AuthNone}); err != nil {
		t.Fatal(err)
	}
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "to-the-desk-in-the-office",
		Database: "notes", Target: "wss://desk.office.example:4984/with-a-rather-long-database-name-for-the-lists",
		Type: service.TypePull}}); err != nil {
		t.Fatal(err)
	}
	// A damaged database: selecting it shows a long explanation.
	junk := bytes.Repeat([]byte("not a database "), 1000)
	if err := os.WriteFile(filepath.Join(h.e.DataDir(), "broken.peersync"), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	h.u.databases.refresh()
	h.ws.StopListener("share-the-notes-with-the-office") // running, its URL would name a new port each run
	limit := fyne.NewSize(800, 600)
	for nav := navDatabases; nav <= navActivity; nav++ {
		h.u.show(nav)
		h.settle()
		switch nav {
		case navDatabases:
			h.u.databases.list.Select(0) // broken
		case navListeners:
			h.u.listeners.list.Select(0)
		case navReplications:
			h.u.replications.list.Select(0)
		case navActivity:
			// Only what renders the same each run (the listener's start
			// named a new port), then a line whose detail is long and has
			// a long unbroken word.
			test.Tap(button(h.u.activity.view(), "Clear"))
			h.u.handle([]syncengine.Event{syncengine.ConnectionRefused{ListenerID: "share-the-notes-with-the-office",
				Remote: "[fe80::1234:5678:9abc:def0%enp0s31f6]:54321", User: "someone-with-a-long-user-name",
				Reason: syncengine.RefusedTLSHandshake, Detail: strings.Repeat("tls: bad certificate; ", 30) + strings.Repeat("x", 200)}})
			h.settle()
			h.u.activity.list.Select(0)
		}
		h.settle()
		h.u.win.Resize(limit)
		h.settle()
		// Laid out at that size, wrapped texts know their width.
		if min := h.u.win.Content().MinSize(); min.Width > limit.Width || min.Height > limit.Height {
			t.Errorf("screen %d needs %v, more than %v", nav, min, limit)
		}
		// What it looks like, at the smallest size and a common laptop's.
		name := strings.ToLower(h.u.items[nav].name)
		test.AssertRendersToImage(t, "screens/"+name+"-800x600.png", h.u.win.Canvas())
		h.u.win.Resize(fyne.NewSize(1280, 800))
		h.settle()
		test.AssertRendersToImage(t, "screens/"+name+"-1280x800.png", h.u.win.Canvas())
	}

	// So does the document browser, with a document in the editor.
	b := h.openBrowser("with-a-rather-long-database-name-for-the-lists")
	b.list.Select(0)
	h.settle()
	for _, size := range []fyne.Size{limit, fyne.NewSize(1280, 800)} {
		h.u.win.Resize(size)
		h.settle()
		if min := h.u.win.Content().MinSize(); min.Width > limit.Width || min.Height > limit.Height {
			t.Errorf("the browser needs %v, more than %v", min, limit)
		}
		test.AssertRendersToImage(t, fmt.Sprintf("screens/browser-%dx%d.png", int(size.Width), int(size.Height)), h.u.win.Canvas())
	}
	h.u.databases.closeBrowser()
	h.settle()

	// So do the forms, their Advanced sections open, and the Settings dialog.
	dialogs := map[string]func() *editForm{
		"the listener form": func() *editForm {
			h.u.show(navListeners)
			h.settle()
			test.Tap(h.u.listeners.editBtn)
			h.settle()
			h.u.listeners.openForm.advanced.acc.Open(0)
			return h.u.listeners.form
		},
		"the replication form": func() *editForm {
			h.u.show(navReplications)
			h.settle()
			test.Tap(h.u.replications.editBtn)
			h.settle()
			h.u.replications.openForm.advanced.acc.Open(0)
			return h.u.replications.form
		},
		"the Settings dialog": func() *editForm { h.openSettings(); return h.u.settingsDlg },
	}
	for name, open := range dialogs {
		form := open()
		h.settle()
		d := h.topDialog()
		if form == nil || d == nil {
			t.Fatalf("%s did not open", name)
		}
		if min := d.MinSize(); min.Width > limit.Width || min.Height > limit.Height {
			t.Errorf("%s needs %v, more than %v", name, min, limit)
		}
		if min := h.u.win.Content().MinSize(); min.Width > limit.Width || min.Height > limit.Height {
			t.Errorf("with %s open the window needs %v, more than %v", name, min, limit)
		}
		form.Hide()
		h.settle()
	}
}
