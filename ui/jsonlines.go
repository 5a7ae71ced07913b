package ui

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// The browser imports and exports a collection as JSON lines, the format
// the CLI's import and export use: one object per line with its "_id".

// transfer is a running import or export: a dialog with a live count,
// updated on the UI goroutine.
type transfer struct {
	d     dialog.Dialog
	count *widget.Label
	verb  string // "Imported", "Exported"
}

func startTransfer(w fyne.Window, title, verb string) *transfer {
	t := &transfer{count: widget.NewLabel(verb + " 0 documents…"), verb: verb}
	bar := widget.NewProgressBarInfinite()
	t.d = dialog.NewCustomWithoutButtons(title, container.NewVBox(bar, t.count), w)
	t.d.Show()
	return t
}

func (t *transfer) progress(n int) { t.count.SetText(fmt.Sprintf("%s %d documents…", t.verb, n)) }

// where names a collection in messages: by its database alone when it is
// the default collection.
func (b *browserScreen) where(coll Collection) string {
	if coll.Name() == syncengine.DefaultCollection {
		return b.db.Name()
	}
	return b.db.Name() + " › " + coll.Name()
}

// askExport asks where to write the collection and exports it there.
func (b *browserScreen) askExport() {
	coll := b.coll
	fd := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			showError(b.u.win, "choose a file", err)
			return
		}
		if wc != nil {
			b.exportTo(coll, wc)
		}
	}, b.u.win)
	fd.SetFileName(strings.ReplaceAll(b.where(coll), " › ", "-") + ".jsonl")
	fd.Show()
}

// exportTo writes every live document of coll to wc, which it closes.
func (b *browserScreen) exportTo(coll Collection, wc io.WriteCloser) {
	t := startTransfer(b.u.win, "Exporting "+b.where(coll), "Exported")
	call(b.u.run, func() (int, error) {
		n, err := coll.ExportJSONLines(wc, syncengine.ExportOptions{
			Progress: func(n int) { b.u.run.onUI(func() { t.progress(n) }) }})
		if cerr := wc.Close(); err == nil {
			err = cerr
		}
		return n, err
	}, func(n int, err error) {
		t.d.Hide()
		if err != nil {
			showError(b.u.win, "export "+b.where(coll), err)
			return
		}
		dialog.ShowInformation("Exported", fmt.Sprintf("Wrote %d documents of %s to %s.", n, b.where(coll), uriName(wc)), b.u.win)
	})
}

// askImport asks for a JSON lines file and imports it.
func (b *browserScreen) askImport() {
	coll := b.coll
	fd := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			showError(b.u.win, "choose a file", err)
			return
		}
		if rc == nil {
			return
		}
		uri := rc.URI()
		rc.Close()
		b.importFrom(coll, uri.Name(), func() (io.ReadCloser, error) { return storage.Reader(uri) })
	}, b.u.win)
	fd.Show()
}

// importFrom checks every line of the file first and, when some would not
// save, says which and asks before importing the others; nothing is
// written until the user knows.
func (b *browserScreen) importFrom(coll Collection, name string, open func() (io.ReadCloser, error)) {
	call(b.u.run, func() (syncengine.LineCheck, error) {
		r, err := open()
		if err != nil {
			return syncengine.LineCheck{}, err
		}
		defer r.Close()
		return coll.CheckJSONLines(r)
	}, func(check syncengine.LineCheck, err error) {
		switch {
		case err != nil:
			showError(b.u.win, "read "+name, err)
		case check.Good == 0 && len(check.Bad) == 0:
			showError(b.u.win, "import "+name, errors.New("the file has no documents"))
		case check.Good == 0:
			showError(b.u.win, "import "+name, fmt.Errorf("no line would save; %s", badLines(check.Bad)))
		case len(check.Bad) > 0:
			b.importConfirm = dialog.NewConfirm("Import the good lines?",
				fmt.Sprintf("%d lines of %s would not save (%s). Import the other %d documents?", len(check.Bad), name, badLines(check.Bad), check.Good),
				func(ok bool) {
					b.importConfirm = nil
					if ok {
						b.runImport(coll, name, open, check)
					}
				}, b.u.win)
			b.importConfirm.Show()
		default:
			b.runImport(coll, name, open, check)
		}
	})
}

// badLines names the first bad line and counts the rest.
func badLines(bad []syncengine.BadLine) string {
	s := bad[0].String()
	if len(bad) > 1 {
		s += fmt.Sprintf(", and %d more", len(bad)-1)
	}
	return s
}

func (b *browserScreen) runImport(coll Collection, name string, open func() (io.ReadCloser, error), check syncengine.LineCheck) {
	skip := map[int]bool{}
	for _, bl := range check.Bad {
		skip[bl.Line] = true
	}
	t := startTransfer(b.u.win, "Importing "+name, "Imported")
	call(b.u.run, func() (int, error) {
		r, err := open()
		if err != nil {
			return 0, err
		}
		defer r.Close()
		return coll.ImportJSONLines(r, syncengine.ImportOptions{Skip: skip,
			Progress: func(n int) { b.u.run.onUI(func() { t.progress(n) }) }})
	}, func(n int, err error) {
		t.d.Hide()
		b.reload.trigger()
		if err != nil {
			showError(b.u.win, fmt.Sprintf("import %s (%d documents were saved before this)", name, n), err)
			return
		}
		msg := fmt.Sprintf("Saved %d documents from %s into %s.", n, name, b.where(coll))
		if len(check.Bad) > 0 {
			msg += fmt.Sprintf(" Skipped %d bad lines.", len(check.Bad))
		}
		dialog.ShowInformation("Imported", msg, b.u.win)
	})
}

// uriName is the file a writer goes to, for messages.
func uriName(w io.Writer) string {
	if u, ok := w.(fyne.URIWriteCloser); ok {
		return u.URI().Path()
	}
	return "the file"
}
