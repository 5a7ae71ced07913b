package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
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

// attachLimit is the largest file the editor attaches: the store's body
// limit, since a much bigger blob may not fit a peer's message budget.
const attachLimit = 20 << 20

// askAttach stores a file the user picks as a blob and adds a reference to
// it to the edit; the document keeps it once saved.
func (e *editor) askAttach() {
	fd := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			showError(e.b.u.win, "choose a file", err)
			return
		}
		if rc == nil {
			return
		}
		uri := rc.URI()
		rc.Close()
		e.attachFrom(uri.Name(), func() (io.ReadCloser, error) { return storage.Reader(uri) })
	}, e.b.u.win)
	fd.Show()
}

// attachFrom reads the file and saves it as a blob off the UI goroutine,
// then adds a property named after the file to the body being edited.
// Nothing is stored when the body is not a JSON object to add it to.
func (e *editor) attachFrom(name string, open func() (io.ReadCloser, error)) {
	if _, err := addBlobProperty(e.body.Text, name, syncengine.BlobRef{}); err != nil {
		showError(e.b.u.win, "attach "+name, err)
		return
	}
	coll := e.b.coll
	call(e.b.u.run, func() (syncengine.BlobRef, error) {
		r, err := open()
		if err != nil {
			return syncengine.BlobRef{}, err
		}
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, attachLimit+1))
		if err != nil {
			return syncengine.BlobRef{}, err
		}
		if len(data) > attachLimit {
			return syncengine.BlobRef{}, fmt.Errorf("the file is larger than %d MB, the most the app attaches", attachLimit>>20)
		}
		return coll.SaveBlob(data, mime.TypeByExtension(filepath.Ext(name)))
	}, func(ref syncengine.BlobRef, err error) {
		if err == nil && coll != e.b.coll {
			return // the user left the collection meanwhile
		}
		var text string
		if err == nil {
			text, err = addBlobProperty(e.body.Text, name, ref) // the user may have typed meanwhile
		}
		if err != nil {
			showError(e.b.u.win, "attach "+name, err)
			return
		}
		e.body.SetText(text)
	})
}

// addBlobProperty adds a blob reference as the last top-level property of
// a JSON object text, keeping the rest of the text as the user wrote it.
// The key is the file name, made unique and never starting with '_'.
func addBlobProperty(text, name string, ref syncengine.BlobRef) (string, error) {
	if err := checkBody(text); err != nil {
		return "", fmt.Errorf("the body must be valid before a blob can be added to it: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		return "", err
	}
	base := strings.TrimLeft(name, "_")
	if base == "" {
		base = "blob"
	}
	key := base
	for i := 2; top[key] != nil; i++ {
		key = fmt.Sprintf("%s %d", base, i)
	}
	k, _ := json.Marshal(key)
	v, err := json.MarshalIndent(struct {
		Type        string `json:"@type"`
		Digest      string `json:"digest"`
		Length      int64  `json:"length"`
		ContentType string `json:"content_type,omitempty"`
	}{"blob", ref.Digest, ref.Length, ref.ContentType}, "  ", "  ")
	if err != nil {
		return "", err
	}
	end := strings.LastIndexByte(text, '}')
	inner := strings.TrimRight(text[:end], " \t\r\n")
	sep := ",\n  "
	if strings.HasSuffix(inner, "{") {
		sep = "\n  "
	}
	return inner + sep + string(k) + ": " + string(v) + "\n}" + text[end+1:], nil
}
