package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// databasesScreen lists databases and creates, deletes, compacts, checks
// and opens them; a damaged one is listed as damaged, to be checked,
// salvaged or deleted. Opening one replaces the list with its document
// browser.
type databasesScreen struct {
	u *mainUI

	nameEntry  *widget.Entry
	nameError  *widget.Label
	createBtn  *widget.Button
	list       *widget.List
	openBtn    *widget.Button
	compactBtn *widget.Button
	checkBtn   *widget.Button
	salvageBtn *widget.Button
	deleteBtn  *widget.Button
	status     *widget.Label // the result of the last action
	title      *widget.Label

	rows        []dbRow
	selected    string // name of the selected database, "" for none
	reselecting bool   // keepSelection is selecting it again
	reload      reloader

	root     *fyne.Container // the list page or the browser
	listPage *fyne.Container
	browser  *browserScreen // nil while the list is shown

	confirm *dialog.ConfirmDialog // the open delete confirmation, for tests
}

func newDatabasesScreen(u *mainUI) *databasesScreen {
	s := &databasesScreen{u: u}
	s.reload = reloader{run: u.run, prepare: func() backgroundWork { return s.load }}

	s.nameEntry = widget.NewEntry()
	s.nameEntry.SetPlaceHolder("New database name")
	s.nameError = widget.NewLabel("")
	s.nameError.Importance = widget.DangerImportance
	s.nameError.Wrapping = fyne.TextWrapWord
	s.nameError.Hide()
	s.createBtn = widget.NewButtonWithIcon("Create", theme.ContentAddIcon(), s.create)
	s.createBtn.Importance = widget.HighImportance
	s.createBtn.Disable()
	s.nameEntry.OnChanged = s.nameChanged
	s.nameEntry.OnSubmitted = func(string) { s.create() }

	s.list = widget.NewList(
		func() int { return len(s.rows) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			return container.NewGridWithColumns(3, name, widget.NewLabel(""), widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			cells := o.(*fyne.Container).Objects
			r := s.rows[i]
			cells[0].(*widget.Label).SetText(r.Name)
			cells[1].(*widget.Label).SetText(r.countText())
			cells[2].(*widget.Label).SetText(r.sizeText())
		},
	)
	s.list.OnSelected = func(i widget.ListItemID) {
		s.selected = s.rows[i].Name
		s.updateButtons()
		if s.reselecting {
			return // reselected after a reload: keep the last action's result
		}
		if r := s.rows[i]; r.damaged() {
			s.status.SetText(withAdvice(r.Err))
		} else if r.Err != nil {
			s.status.SetText(s.selected + " is unavailable: " + withAdvice(r.Err))
		}
	}
	s.list.OnUnselected = func(widget.ListItemID) { s.selected = ""; s.updateButtons() }

	s.openBtn = widget.NewButtonWithIcon("Open", theme.FolderOpenIcon(), func() { s.open(s.selected) })
	s.compactBtn = widget.NewButtonWithIcon("Compact", theme.ViewRestoreIcon(), s.compact)
	s.checkBtn = widget.NewButtonWithIcon("Check", theme.ConfirmIcon(), s.check)
	s.salvageBtn = widget.NewButtonWithIcon("Salvage", theme.ContentCopyIcon(), s.salvage)
	s.deleteBtn = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), s.askDelete)
	s.deleteBtn.Importance = widget.DangerImportance
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord // a damaged database's explanation is long
	s.updateButtons()

	header := container.NewGridWithColumns(3,
		widget.NewLabelWithStyle("Name", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}),
		widget.NewLabelWithStyle("Documents", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}),
		widget.NewLabelWithStyle("Size", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}))
	form := container.NewBorder(nil, s.nameError, nil, s.createBtn, s.nameEntry)
	// The status has a line of its own: beside the buttons, a long one
	// widened the window and moved the buttons under the pointer.
	actions := container.NewVBox(container.NewHBox(s.openBtn, s.compactBtn, s.checkBtn, s.salvageBtn, s.deleteBtn), s.status)
	s.title = widget.NewLabelWithStyle("Databases", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	top := container.NewVBox(s.title, form, widget.NewSeparator(), header)
	s.listPage = container.NewBorder(top, actions, nil, nil, s.list)
	s.root = container.NewStack(s.listPage)
	return s
}

func (s *databasesScreen) view() fyne.CanvasObject { return s.root }
func (s *databasesScreen) shown()                  { s.refresh() }

// refresh reloads the list (coalesced) and the open browser.
func (s *databasesScreen) refresh() { s.reload.trigger() }

// documentsChanged passes a database's changes to the browser showing it.
func (s *databasesScreen) documentsChanged(db string, changes []syncengine.Change) {
	if s.browser != nil && s.browser.db.Name() == db {
		s.browser.documentsChanged(changes)
	}
}

func (s *databasesScreen) load() func() {
	rows, err := loadDatabases(s.u.eng)
	return func() {
		if err != nil {
			s.status.SetText("Could not list databases: " + withAdvice(err))
			return
		}
		s.rows = rows
		s.title.SetText(fmt.Sprintf("Databases (%d)", len(rows)))
		s.list.Refresh()
		s.keepSelection()
	}
}

// keepSelection reselects the selected database by name after a reload,
// or clears the selection when it is gone.
func (s *databasesScreen) keepSelection() {
	for i, r := range s.rows {
		if r.Name == s.selected {
			s.reselecting = true
			s.list.Select(i)
			s.reselecting = false
			return
		}
	}
	s.list.UnselectAll()
	s.selected = ""
	s.updateButtons()
}

func (s *databasesScreen) updateButtons() {
	damaged := false
	for _, r := range s.rows {
		if r.Name == s.selected {
			damaged = r.damaged()
		}
	}
	enable := func(b *widget.Button, on bool) {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	some := s.selected != ""
	enable(s.openBtn, some && !damaged)
	enable(s.compactBtn, some && !damaged)
	enable(s.checkBtn, some)
	enable(s.salvageBtn, some && damaged)
	enable(s.deleteBtn, some)
}

// check runs the engine's check of the selected database and says what it
// found in the status line.
func (s *databasesScreen) check() {
	name := s.selected
	if name == "" {
		return
	}
	s.status.SetText("Checking " + name + "…")
	call(s.u.run, func() (syncengine.CheckReport, error) { return s.u.eng.CheckDatabase(name) },
		func(rep syncengine.CheckReport, err error) {
			switch {
			case err != nil:
				s.status.SetText("")
				showError(s.u.win, "check “"+name+"”", err)
			case rep.Damaged():
				s.status.SetText(fmt.Sprintf("%s is damaged (%d problems; the first: %s). %s",
					name, len(rep.Problems), rep.Problems[0], advice(syncengine.ErrDamaged)))
			default:
				s.status.SetText(fmt.Sprintf("%s is sound: %d documents, %d pages checked", name, rep.Documents, rep.Pages))
			}
		})
}

// salvage copies what can be read from the selected (damaged) database
// into NAME-salvaged and says what was lost.
func (s *databasesScreen) salvage() {
	name := s.selected
	if name == "" {
		return
	}
	into := name + "-salvaged"
	s.status.SetText("Salvaging " + name + "…")
	call(s.u.run, func() (syncengine.SalvageReport, error) { return s.u.eng.SalvageDatabase(name, into) },
		func(rep syncengine.SalvageReport, err error) {
			if err != nil {
				s.status.SetText("")
				showError(s.u.win, "salvage “"+name+"”", err)
				return
			}
			s.status.SetText(fmt.Sprintf("Salvaged %s into %s: %d documents, %d blobs copied; %d documents and %d blobs lost. Delete %s when you are done with it.",
				name, into, rep.Documents, rep.Blobs, len(rep.LostDocuments), len(rep.LostBlobs), name))
			s.refresh()
		})
}

// nameChanged checks the new name as the user types.
func (s *databasesScreen) nameChanged(name string) {
	problem := nameProblem(name, syncengine.ValidateDatabaseName)
	setMessage(s.nameError, s.listPage, problem)
	if name == "" || problem != "" {
		s.createBtn.Disable()
	} else {
		s.createBtn.Enable()
	}
}

func (s *databasesScreen) create() {
	name := s.nameEntry.Text
	if s.createBtn.Disabled() {
		return
	}
	s.createBtn.Disable()
	call(s.u.run, func() (struct{}, error) { return struct{}{}, s.u.eng.CreateDatabase(name) },
		func(_ struct{}, err error) {
			if err != nil {
				s.createBtn.Enable()
				showError(s.u.win, "create database “"+name+"”", err)
				return
			}
			s.nameEntry.SetText("")
			s.status.SetText("Created " + name)
			s.refresh()
		})
}

// askDelete confirms a deletion, naming the listeners and replications
// that use the database: they stop with it.
func (s *databasesScreen) askDelete() {
	name := s.selected
	if name == "" {
		return
	}
	call(s.u.run, func() ([]string, error) { return s.usersOf(name), nil }, func(users []string, _ error) {
		msg := fmt.Sprintf("Delete “%s” and all its documents and blobs?\nThis cannot be undone, and peers will not be told.", name)
		if len(users) > 0 {
			msg += "\n\nThese stop with it: " + strings.Join(users, ", ") + "."
		}
		d := dialog.NewConfirm("Delete database?", msg, func(ok bool) {
			s.confirm = nil
			if ok {
				s.delete(name)
			}
		}, s.u.win)
		d.SetConfirmText("Delete")
		d.SetConfirmImportance(widget.DangerImportance)
		d.Show()
		s.confirm = d
	})
}

// usersOf names the saved listeners and replications of a database.
func (s *databasesScreen) usersOf(name string) []string {
	var users []string
	if s.u.ws == nil {
		return nil
	}
	if ls, err := s.u.ws.Listeners(); err == nil {
		for _, l := range ls {
			if l.Settings.Database == name {
				users = append(users, "listener “"+l.Settings.Name+"”")
			}
		}
	}
	if rs, err := s.u.ws.Replications(); err == nil {
		for _, r := range rs {
			if r.Settings.Database == name {
				users = append(users, "replication “"+r.Settings.Name+"”")
			}
		}
	}
	return users
}

func (s *databasesScreen) delete(name string) {
	if s.browser != nil && s.browser.db.Name() == name {
		s.closeBrowser()
	}
	call(s.u.run, func() (struct{}, error) { return struct{}{}, s.u.eng.DeleteDatabase(name) },
		func(_ struct{}, err error) {
			if err != nil {
				showError(s.u.win, "delete database “"+name+"”", err)
			} else {
				s.status.SetText("Deleted " + name)
			}
			s.refresh()
		})
}

func (s *databasesScreen) compact() {
	name := s.selected
	if name == "" {
		return
	}
	s.status.SetText("Compacting " + name + "…")
	type result struct {
		removed int
		size    int64
	}
	call(s.u.run, func() (result, error) {
		db, err := s.u.eng.OpenDatabase(name)
		if err != nil {
			return result{}, err
		}
		n, err := db.Compact()
		if err != nil {
			return result{}, err
		}
		info, err := db.Info()
		return result{n, info.Size}, err
	}, func(r result, err error) {
		if err != nil {
			s.status.SetText("")
			showError(s.u.win, "compact “"+name+"”", err)
			return
		}
		s.status.SetText(fmt.Sprintf("Compacted %s: %d unused blobs removed, now %s", name, r.removed, formatSize(r.size)))
		s.refresh()
	})
}

// open shows the document browser for a database.
func (s *databasesScreen) open(name string) {
	if name == "" {
		return
	}
	call(s.u.run, func() (Database, error) { return s.u.eng.OpenDatabase(name) },
		func(db Database, err error) {
			if err != nil {
				showError(s.u.win, "open “"+name+"”", err)
				s.refresh()
				return
			}
			s.browser = newBrowserScreen(s.u, db, s.closeBrowser)
			s.root.Objects = []fyne.CanvasObject{s.browser.view()}
			s.root.Refresh()
			s.browser.load()
		})
}

// closeBrowser goes back to the list.
func (s *databasesScreen) closeBrowser() {
	s.browser = nil
	s.root.Objects = []fyne.CanvasObject{s.listPage}
	s.root.Refresh()
	s.refresh()
}
