package ui

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// browserScreen pages through one database's documents, with an ID prefix
// search, and edits the selected one.
type browserScreen struct {
	u     *mainUI
	db    Database
	coll  Collection
	close func()

	title      *widget.Label
	collSelect *widget.Select
	search     *widget.Entry
	list       *widget.List
	prevBtn    *widget.Button
	nextBtn    *widget.Button
	pageLabel  *widget.Label
	editor     *editor
	content    fyne.CanvasObject

	pager  *pager
	paged  int // counts pager moves, so a load for an old position is dropped
	docs   []*syncengine.Document
	reload reloader

	discard       *dialog.ConfirmDialog // the open "discard your edit?" question, for tests
	importConfirm *dialog.ConfirmDialog // the open "import the good lines?" question
}

func newBrowserScreen(u *mainUI, db Database, close func()) *browserScreen {
	b := &browserScreen{u: u, db: db, close: close, pager: newPager(pageSize)}
	b.reload = reloader{run: u.run, prepare: b.prepareLoad}

	back := widget.NewButtonWithIcon("Databases", theme.NavigateBackIcon(), func() { b.unlessDirty("close “"+db.Name()+"”", close) })
	b.title = widget.NewLabelWithStyle(db.Name(), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	b.collSelect = widget.NewSelect([]string{syncengine.DefaultCollection}, func(name string) {
		if b.coll != nil && b.coll.Name() == name {
			return
		}
		b.unlessDirty("switch to "+name, func() { b.collectionChosen(name) })
	})
	b.search = widget.NewEntry()
	b.search.SetPlaceHolder("Search by ID prefix (Ctrl+F)")
	b.search.OnChanged = func(prefix string) {
		b.pager.setPrefix(prefix)
		b.paged++
		b.reload.trigger()
	}
	newBtn := widget.NewButtonWithIcon("New document", theme.DocumentCreateIcon(), b.newDocument)
	importBtn := widget.NewButtonWithIcon("Import", theme.UploadIcon(), func() { b.askImport() })
	exportBtn := widget.NewButtonWithIcon("Export", theme.DownloadIcon(), func() { b.askExport() })

	b.list = widget.NewList(
		func() int { return len(b.docs) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("document id")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, nil, widget.NewIcon(nil), l)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			row := o.(*fyne.Container).Objects
			d := b.docs[i]
			row[0].(*widget.Label).SetText(d.ID)
			if d.Conflicted {
				row[1].(*widget.Icon).SetResource(theme.WarningIcon())
			} else {
				row[1].(*widget.Icon).SetResource(nil)
			}
		},
	)
	b.list.OnSelected = b.documentChosen

	b.prevBtn = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() {
		if b.pager.prev() {
			b.paged++
			b.reload.trigger()
		}
	})
	b.nextBtn = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() {
		if b.pager.next() {
			b.paged++
			b.reload.trigger()
		}
	})
	b.pageLabel = widget.NewLabel("")
	b.editor = newEditor(b)

	collBox := container.NewGridWrap(fyne.NewSize(210, b.collSelect.MinSize().Height), b.collSelect)
	// Two rows, so that a long database name elides instead of widening
	// the window.
	b.title.Truncation = fyne.TextTruncateEllipsis
	top := container.NewVBox(
		container.NewBorder(nil, nil, back, container.NewHBox(importBtn, exportBtn, newBtn), b.title),
		container.NewBorder(nil, nil, collBox, nil, b.search))
	b.pageLabel.Truncation = fyne.TextTruncateEllipsis
	paging := container.NewBorder(nil, nil, container.NewHBox(b.prevBtn, b.nextBtn), nil, b.pageLabel)
	left := container.NewBorder(nil, paging, nil, nil, b.list)
	split := container.NewHSplit(left, b.editor.view())
	split.Offset = 0.35
	b.content = container.NewBorder(top, nil, nil, nil, split)
	return b
}

func (b *browserScreen) view() fyne.CanvasObject { return b.content }

// load fills the collection choice and the first page.
func (b *browserScreen) load() {
	db := b.db
	call(b.u.run, func() ([]string, error) { return db.Collections() }, func(names []string, err error) {
		if err != nil {
			showError(b.u.win, "list the collections of “"+db.Name()+"”", err)
			return
		}
		b.collSelect.Options = names
		if slices.Contains(names, syncengine.DefaultCollection) || len(names) == 0 {
			b.collSelect.SetSelected(syncengine.DefaultCollection)
		} else {
			b.collSelect.SetSelected(names[0])
		}
	})
}

func (b *browserScreen) collectionChosen(name string) {
	db := b.db
	call(b.u.run, func() (Collection, error) { return db.Collection(name) }, func(c Collection, err error) {
		if err != nil {
			showError(b.u.win, "open collection "+name, err)
			return
		}
		b.coll = c
		b.editor.clear()
		b.pager.setPrefix(b.search.Text)
		b.paged++
		b.reload.trigger()
	})
}

// prepareLoad copies the pager so the background load has its own.
func (b *browserScreen) prepareLoad() backgroundWork {
	coll, pg, paged := b.coll, b.pager.clone(), b.paged
	return func() func() {
		if coll == nil {
			return nil
		}
		docs, err := pg.fetch(coll.List)
		var total int
		if err == nil {
			total, err = coll.Count()
		}
		return func() {
			if coll != b.coll || paged != b.paged {
				return // moved on while loading; the reloader loads again
			}
			if err != nil {
				b.pageLabel.SetText("Could not list documents: " + err.Error())
				return
			}
			b.pager, b.docs = pg, docs
			b.list.Refresh()
			b.reselect()
			b.pageLabel.SetText(pg.label(len(docs), total))
			enable(b.prevBtn, pg.page > 0)
			enable(b.nextBtn, pg.hasNext)
		}
	}
}

// reselect keeps the list selection on the document in the editor.
func (b *browserScreen) reselect() {
	id := b.editor.docID()
	for i, d := range b.docs {
		if d.ID == id {
			b.list.Select(i)
			return
		}
	}
	b.list.UnselectAll()
}

// documentsChanged reacts to committed writes in this database.
func (b *browserScreen) documentsChanged(changes []syncengine.Change) {
	if b.coll == nil {
		return
	}
	for _, c := range changes {
		if c.Collection == b.coll.Name() {
			b.reload.trigger()
			b.editor.changedElsewhere(c)
		}
	}
}

// documentChosen opens a document from the list, asking first when that
// would throw away an unsaved edit.
func (b *browserScreen) documentChosen(i widget.ListItemID) {
	id := b.docs[i].ID
	if id == b.editor.docID() {
		return
	}
	b.unlessDirty("open “"+id+"”", func() { b.editor.open(id) })
}

// unlessDirty runs action at once when the editor has no unsaved edit, and
// otherwise only after the user agrees to discard it.
func (b *browserScreen) unlessDirty(what string, action func()) {
	if !b.editor.dirty() {
		action()
		return
	}
	name := b.editor.docID()
	if b.editor.isNew {
		name = "the new document"
	} else {
		name = "“" + name + "”"
	}
	d := dialog.NewConfirm("Discard your edit?",
		"You have unsaved changes to "+name+". Discard them to "+what+"?",
		func(discard bool) {
			b.discard = nil
			if discard {
				b.editor.clear()
				action()
				return
			}
			b.reselect()
			if b.coll != nil {
				b.collSelect.SetSelected(b.coll.Name())
			}
		}, b.u.win)
	d.SetConfirmText("Discard")
	d.SetDismissText("Keep editing")
	d.Show()
	b.discard = d
}

func (b *browserScreen) newDocument() {
	if b.coll == nil {
		return
	}
	b.unlessDirty("start a new document", func() {
		b.list.UnselectAll()
		b.editor.startNew()
	})
}
