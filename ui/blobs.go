package ui

import (
	"fmt"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// blobRow is one blob reference in a document body.
type blobRow struct{ syncengine.BlobRef }

func (r blobRow) text() string {
	typ := r.ContentType
	if typ == "" {
		typ = "unknown type"
	}
	return fmt.Sprintf("%s\n%s · %s", r.Digest, formatSize(r.Length), typ)
}

// fileName suggests a name to save the blob under.
func (r blobRow) fileName() string {
	name := strings.NewReplacer("/", "_", "+", "-", "=", "").Replace(strings.TrimPrefix(r.Digest, "sha1-"))
	switch r.ContentType {
	case "application/json":
		return name + ".json"
	case "text/plain":
		return name + ".txt"
	case "image/png":
		return name + ".png"
	case "image/jpeg":
		return name + ".jpg"
	}
	return name + ".bin"
}

func blobRows(body []byte) []blobRow {
	refs := syncengine.BlobRefs(body)
	rows := make([]blobRow, len(refs))
	for i, r := range refs {
		rows[i] = blobRow{r}
	}
	return rows
}

// showBlobs lists the blobs the saved document refers to and saves the
// chosen one to a file.
func (e *editor) showBlobs() {
	if e.doc == nil {
		return
	}
	id, coll, rows := e.doc.ID, e.b.coll, blobRows(e.doc.Body)
	w := e.b.u.win
	if len(rows) == 0 {
		dialog.ShowInformation("No blobs", "“"+id+"” refers to no blobs.", w)
		return
	}
	selected := -1
	saveBtn := widget.NewButtonWithIcon("Save to file…", theme.DocumentSaveIcon(), nil)
	saveBtn.Disable()
	list := widget.NewList(
		func() int { return len(rows) },
		func() fyne.CanvasObject { return widget.NewLabel("sha1-\n0 B") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(rows[i].text()) })
	list.OnSelected = func(i widget.ListItemID) { selected = i; saveBtn.Enable() }
	saveBtn.OnTapped = func() {
		if selected < 0 {
			return
		}
		saveBlob(e.b.u, coll, rows[selected])
	}
	content := container.NewBorder(nil, saveBtn, nil, nil, list)
	dlg := dialog.NewCustom(fmt.Sprintf("Blobs of “%s” (%d)", id, len(rows)), "Close", content, w)
	dlg.Resize(fyne.NewSize(560, 360))
	dlg.Show()
}

// writeBlob copies a blob's bytes to w.
func writeBlob(coll Collection, r blobRow, w io.Writer) (int, error) {
	data, err := coll.GetBlob(r.Digest)
	if err != nil {
		return 0, err
	}
	if r.Length != 0 && int64(len(data)) != r.Length {
		return 0, fmt.Errorf("blob %s is %d bytes, but the document says %d: %w", r.Digest, len(data), r.Length, syncengine.ErrMissingBlob)
	}
	return w.Write(data)
}

// saveBlob asks where to save a blob and writes it there.
func saveBlob(u *mainUI, coll Collection, r blobRow) {
	fd := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			showError(u.win, "choose a file", err)
			return
		}
		if wc == nil {
			return // cancelled
		}
		call(u.run, func() (int, error) {
			n, err := writeBlob(coll, r, wc)
			if cerr := wc.Close(); err == nil {
				err = cerr
			}
			return n, err
		}, func(n int, err error) {
			if err != nil {
				showError(u.win, "save the blob", err)
				return
			}
			dialog.ShowInformation("Blob saved", fmt.Sprintf("Wrote %s to %s.", formatSize(int64(n)), wc.URI().Path()), u.win)
		})
	}, u.win)
	fd.SetFileName(r.fileName())
	fd.Show()
}
