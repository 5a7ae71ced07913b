package ui

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"peersync/syncengine"
)

// editor views and edits one document as pretty JSON. An edit is saved on
// top of the revision it started from; when that is no longer current the
// user chooses between reloading and overwriting, and the edit is kept
// either way.
type editor struct {
	b *browserScreen

	idEntry    *widget.Entry
	revLabel   *widget.Label
	notice     *widget.Label
	body       *widget.Entry
	problem    *widget.Label
	saveBtn    *widget.Button
	revertBtn  *widget.Button
	deleteBtn  *widget.Button
	historyBtn *widget.Button
	blobsBtn   *widget.Button
	attachBtn  *widget.Button
	restoreBtn *widget.Button
	empty      *widget.Label
	stack      *fyne.Container
	form       *fyne.Container // the notice and problem labels live in here
	center     *fyne.Container // the body entry, or the large-document view

	// A document above editLimit is shown read-only, a line per list row,
	// since an entry lays out all its text at once (a 1 MB body froze the
	// window for minutes).
	large      *widget.List
	largeNote  *widget.Label
	largeView  fyne.CanvasObject
	largeLines []string

	doc      *syncengine.Document // the revision the edit is based on; nil when new
	isNew    bool
	readOnly bool   // a large document, shown in the list
	base     string // the text as loaded, to tell whether it was edited
	kept     string // the user's edit, set aside by "Reload latest"
	saving   bool

	// The open conflict dialog and its buttons, for tests.
	conflict          *dialog.CustomDialog
	conflictKeep      *widget.Button
	conflictReload    *widget.Button
	conflictOverwrite *widget.Button
}

func newEditor(b *browserScreen) *editor {
	e := &editor{b: b}
	e.idEntry = widget.NewEntry()
	e.idEntry.SetPlaceHolder("Document ID (blank for a random one)")
	e.idEntry.OnChanged = func(string) { e.validate() }
	e.revLabel = widget.NewLabel("")
	e.revLabel.Truncation = fyne.TextTruncateEllipsis
	e.notice = widget.NewLabel("")
	e.notice.Importance = widget.WarningImportance
	e.notice.Wrapping = fyne.TextWrapWord
	e.notice.Hide()
	e.body = widget.NewMultiLineEntry()
	e.body.TextStyle = fyne.TextStyle{Monospace: true}
	e.body.OnChanged = func(string) { e.validate() }
	e.problem = widget.NewLabel("")
	e.problem.Importance = widget.DangerImportance
	e.problem.Truncation = fyne.TextTruncateEllipsis
	e.problem.Hide()

	e.saveBtn = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), e.save)
	e.saveBtn.Importance = widget.HighImportance
	e.revertBtn = widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), e.revert)
	e.deleteBtn = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), e.askDelete)
	e.historyBtn = widget.NewButtonWithIcon("History", theme.HistoryIcon(), e.showHistory)
	e.blobsBtn = widget.NewButtonWithIcon("Blobs", theme.FileIcon(), e.showBlobs)
	e.attachBtn = widget.NewButtonWithIcon("Attach…", theme.MailAttachmentIcon(), e.askAttach)
	e.restoreBtn = widget.NewButtonWithIcon("Put back my edit", theme.ContentPasteIcon(), e.restoreEdit)
	e.restoreBtn.Hide()

	header := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel("ID"), nil, e.idEntry),
		e.revLabel, e.notice)
	// Two rows fit the editor's share of an 800-pixel window.
	buttons := container.NewVBox(container.NewHBox(e.saveBtn, e.revertBtn, e.restoreBtn),
		container.NewHBox(e.historyBtn, e.blobsBtn, e.attachBtn, layout.NewSpacer(), e.deleteBtn))
	e.largeNote = widget.NewLabel("")
	e.largeNote.Wrapping = fyne.TextWrapWord
	e.large = widget.NewList(func() int { return len(e.largeLines) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.TextStyle = fyne.TextStyle{Monospace: true}
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(e.largeLines[i]) })
	saveTo := widget.NewButtonWithIcon("Save to file…", theme.DownloadIcon(), e.askSaveToFile)
	e.largeView = container.NewBorder(container.NewBorder(nil, nil, nil, saveTo, e.largeNote), nil, nil, nil, e.large)
	e.center = container.NewStack(e.body)
	e.form = container.NewBorder(header, container.NewVBox(e.problem, buttons), nil, nil, e.center)
	e.empty = widget.NewLabelWithStyle("Select a document, or press Ctrl+N to start a new one.", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	e.stack = container.NewStack(container.NewCenter(e.empty))
	return e
}

func (e *editor) view() fyne.CanvasObject { return e.stack }

// active reports whether a document (or a new one) is in the editor.
func (e *editor) active() bool { return e.doc != nil || e.isNew }

// docID is the ID of the document in the editor ("" when new or none).
func (e *editor) docID() string {
	if e.doc == nil {
		return ""
	}
	return e.doc.ID
}

// dirty reports unsaved changes.
func (e *editor) dirty() bool {
	if e.isNew {
		return e.body.Text != e.base || e.idEntry.Text != ""
	}
	return e.doc != nil && e.body.Text != e.base
}

// clear empties the editor, with an optional note in its place.
func (e *editor) clear(note ...string) {
	e.doc, e.isNew, e.base, e.kept = nil, false, "", ""
	e.empty.SetText("Select a document, or press Ctrl+N to start a new one.")
	if len(note) > 0 {
		e.empty.SetText(note[0])
	}
	e.stack.Objects = []fyne.CanvasObject{container.NewCenter(e.empty)}
	e.stack.Refresh()
}

func (e *editor) showForm() {
	if len(e.stack.Objects) != 1 || e.stack.Objects[0] != e.form {
		e.stack.Objects = []fyne.CanvasObject{e.form}
		e.stack.Refresh()
	}
}

// editLimit is the largest body, as pretty text, the editor edits in
// place; larger ones are shown read-only and can be saved to a file.
const editLimit = 64 << 10

// shownDoc is a document prepared off the UI goroutine for the editor.
type shownDoc struct {
	doc    *syncengine.Document
	pretty string
	lines  []string // for a large document
}

func prepareDoc(d *syncengine.Document) shownDoc {
	s := shownDoc{doc: d, pretty: prettyJSON(d.Body)}
	if len(s.pretty) > editLimit {
		s.lines = strings.Split(s.pretty, "\n")
	}
	return s
}

// open loads a document into the editor; reading, formatting and
// splitting it happen off the UI goroutine.
func (e *editor) open(id string) {
	coll := e.b.coll
	call(e.b.u.run, func() (shownDoc, error) {
		d, err := coll.GetWithTombstone(id)
		if err != nil || d.Deleted {
			return shownDoc{doc: d}, err
		}
		return prepareDoc(d), nil
	}, func(s shownDoc, err error) {
		switch {
		case coll != e.b.coll:
		case syncengine.IsNotFound(err):
			e.clear("“" + id + "” no longer exists.")
		case err != nil:
			showError(e.b.u.win, "open “"+id+"”", err)
		case s.doc.Deleted:
			e.clear("“" + id + "” was deleted.")
		default:
			e.setDoc(s)
		}
	})
}

// setDoc shows a stored document, replacing what is in the editor.
func (e *editor) setDoc(s shownDoc) {
	d := s.doc
	e.doc, e.isNew = d, false
	e.readOnly = s.lines != nil
	if e.readOnly {
		e.largeLines = s.lines
		e.largeNote.SetText(fmt.Sprintf("This document is %s, too large to edit here: it is shown read-only. "+
			"Save it to a file to edit it elsewhere, then import it.", humanSize(len(d.Body))))
		e.center.Objects = []fyne.CanvasObject{e.largeView}
		e.large.Refresh()
		e.large.ScrollToTop()
	} else {
		e.largeLines = nil
		e.center.Objects = []fyne.CanvasObject{e.body}
	}
	e.center.Refresh()
	e.idEntry.SetText(d.ID)
	e.idEntry.Disable()
	rev := "Revision " + d.RevID
	if d.Conflicted {
		rev += " · in conflict: resolve it in Conflicts"
	}
	e.revLabel.SetText(rev)
	e.base = ""
	if !e.readOnly {
		e.base = s.pretty
	}
	e.body.SetText(e.base)
	setMessage(e.notice, e.form, "")
	e.showForm()
	e.validate()
}

// askSaveToFile saves the shown document's body, pretty, to a file the
// user picks.
func (e *editor) askSaveToFile() {
	if e.doc == nil {
		return
	}
	text := strings.Join(e.largeLines, "\n")
	dialog.ShowFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		call(e.b.u.run, func() (struct{}, error) {
			_, werr := io.WriteString(w, text)
			if cerr := w.Close(); werr == nil {
				werr = cerr
			}
			return struct{}{}, werr
		}, func(_ struct{}, err error) {
			if err != nil {
				showError(e.b.u.win, "save the document to a file", err)
			}
		})
	}, e.b.u.win)
}

// humanSize says a byte count the way people read it.
func humanSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// startNew puts an empty new document in the editor.
func (e *editor) startNew() {
	e.doc, e.isNew, e.base, e.readOnly = nil, true, "{\n  \n}", false
	e.largeLines = nil
	e.center.Objects = []fyne.CanvasObject{e.body}
	e.center.Refresh()
	e.idEntry.Enable()
	e.idEntry.SetText("")
	e.revLabel.SetText("New document in " + e.b.coll.Name())
	e.body.SetText(e.base)
	setMessage(e.notice, e.form, "")
	e.restoreBtn.Hide()
	e.showForm()
	e.validate()
	e.b.u.win.Canvas().Focus(e.idEntry)
}

// validate shows what is wrong with the edit inline and allows Save only
// for a valid, changed body.
func (e *editor) validate() {
	if e.readOnly {
		setMessage(e.problem, e.form, "")
		for _, b := range []*widget.Button{e.saveBtn, e.revertBtn, e.attachBtn} {
			enable(b, false)
		}
		existing := e.doc != nil && !e.saving
		enable(e.deleteBtn, existing)
		enable(e.historyBtn, existing)
		enable(e.blobsBtn, existing)
		return
	}
	bodyErr := checkBody(e.body.Text)
	err := bodyErr
	if err == nil && e.isNew && e.idEntry.Text != "" {
		if idErr := syncengine.ValidateDocID(e.idEntry.Text); idErr != nil {
			err = fmt.Errorf("ID: %v", idErr)
		}
	}
	problem := ""
	if err != nil {
		problem = err.Error()
	}
	setMessage(e.problem, e.form, problem)
	enable(e.saveBtn, err == nil && !e.saving && (e.isNew || e.dirty()))
	enable(e.revertBtn, e.dirty() && !e.saving)
	existing := e.doc != nil && !e.saving
	enable(e.deleteBtn, existing)
	enable(e.historyBtn, existing)
	enable(e.blobsBtn, existing)
	enable(e.attachBtn, bodyErr == nil && !e.saving)
	enable(e.body, !e.saving)
}

func (e *editor) revert() {
	e.body.SetText(e.base)
	e.validate()
}

// save (Ctrl+S) saves the edit on top of the revision it started from.
func (e *editor) save() {
	if !e.active() || e.saveBtn.Disabled() {
		return
	}
	id, parent := e.docID(), ""
	if e.isNew {
		id = e.idEntry.Text
		if id == "" {
			id = uuid.NewString()
		}
	} else {
		parent = e.doc.RevID
	}
	e.write(id, e.body.Text, syncengine.SaveOptions{ParentRev: parent})
}

// write saves text as id; a stale parent opens the conflict dialog.
func (e *editor) write(id, text string, opts syncengine.SaveOptions) {
	coll := e.b.coll
	e.saving = true
	e.validate()
	call(e.b.u.run, func() (*syncengine.Document, error) { return coll.Save(id, []byte(text), opts) },
		func(d *syncengine.Document, err error) {
			e.saving = false
			e.validate()
			switch {
			case coll != e.b.coll:
			case errors.Is(err, syncengine.ErrConflict):
				e.showConflict(id, text, err)
			case err != nil:
				showError(e.b.u.win, "save “"+id+"”", err)
			default:
				e.setDoc(prepareDoc(d))
				e.restoreBtn.Hide()
				e.kept = ""
				e.b.reload.trigger()
			}
		})
}

// showConflict offers the ways out of a stale save. The edit stays in the
// editor whatever the user picks.
func (e *editor) showConflict(id, text string, err error) {
	what := "“" + id + "” was changed elsewhere after you opened it."
	if e.isNew {
		what = "A document with the ID “" + id + "” already exists."
	}
	msg := widget.NewLabel(what + "\n\nYour edit is still in the editor. Reload the latest revision (your edit is set aside and can be put back), or overwrite it with your edit.\n\n(" + err.Error() + ")")
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomWithoutButtons("Document changed elsewhere", msg, e.b.u.win)
	e.conflictKeep = widget.NewButton("Keep editing", func() { d.Hide() })
	e.conflictReload = widget.NewButtonWithIcon("Reload latest", theme.ViewRefreshIcon(), func() {
		d.Hide()
		e.reloadLatest(id, text)
	})
	e.conflictOverwrite = widget.NewButtonWithIcon("Overwrite with my edit", theme.DocumentSaveIcon(), func() {
		d.Hide()
		e.write(id, text, syncengine.SaveOptions{LastWriteWins: true})
	})
	e.conflictOverwrite.Importance = widget.DangerImportance
	d.SetButtons([]fyne.CanvasObject{e.conflictKeep, e.conflictReload, e.conflictOverwrite})
	d.Resize(fyne.NewSize(520, 260))
	d.Show()
	e.conflict = d
}

// reloadLatest loads the current revision and sets the user's edit aside
// (also on the clipboard) so "Put back my edit" can restore it on top.
func (e *editor) reloadLatest(id, text string) {
	e.kept = text
	e.b.u.app.Clipboard().SetContent(text)
	e.restoreBtn.Show()
	e.open(id)
}

// restoreEdit puts the set-aside edit back, now based on the latest revision.
func (e *editor) restoreEdit() {
	if e.kept == "" {
		return
	}
	e.body.SetText(e.kept)
	e.kept = ""
	e.restoreBtn.Hide()
	e.validate()
}

// changedElsewhere reacts to a write to the collection: a clean editor
// follows it; a dirty one says so and keeps the edit.
func (e *editor) changedElsewhere(c syncengine.Change) {
	if e.doc == nil || c.DocID != e.doc.ID || c.RevID == e.doc.RevID {
		return
	}
	if !e.dirty() && e.kept == "" {
		e.open(c.DocID)
		return
	}
	setMessage(e.notice, e.form, fmt.Sprintf("Changed elsewhere (now at %s). Saving will ask whether to overwrite.", c.RevID))
}

func (e *editor) askDelete() {
	if e.doc == nil {
		return
	}
	id, rev, coll := e.doc.ID, e.doc.RevID, e.b.coll
	d := dialog.NewConfirm("Delete document?",
		"Delete “"+id+"”? The deletion replicates to peers like any other change.",
		func(ok bool) {
			if !ok {
				return
			}
			call(e.b.u.run, func() (*syncengine.Document, error) { return coll.Delete(id, rev) },
				func(_ *syncengine.Document, err error) {
					if err != nil {
						showError(e.b.u.win, "delete “"+id+"”", err)
						return
					}
					if e.docID() == id {
						e.clear("Deleted “" + id + "”.")
					}
					e.b.reload.trigger()
				})
		}, e.b.u.win)
	d.SetConfirmText("Delete")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}
