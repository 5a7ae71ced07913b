package ui

import (
	"errors"
	"io/fs"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// advice says what to do next about an error, in one sentence.
func advice(err error) string {
	switch {
	case errors.Is(err, syncengine.ErrConflict):
		return "The document changed since you opened it. Reload it, or save again to overwrite."
	case errors.Is(err, syncengine.ErrInvalidDatabaseName):
		return "Use letters, digits, '_', '-' and '.', starting with a letter or digit."
	case errors.Is(err, syncengine.ErrDatabaseExists):
		return "Pick another name, or open the existing database from the list."
	case errors.Is(err, syncengine.ErrDatabaseNotFound), errors.Is(err, syncengine.ErrNotFound), errors.Is(err, tlsid.ErrNotFound):
		return "It may have been deleted elsewhere; the lists have been refreshed."
	case errors.Is(err, syncengine.ErrInvalidBody):
		return "The body must be a JSON object whose top-level keys do not start with '_'."
	case errors.Is(err, syncengine.ErrBodyTooLarge):
		return "Make the document smaller, or store large data as a blob."
	case errors.Is(err, syncengine.ErrInvalidDocID):
		return "Document IDs must be non-empty, at most 250 bytes, without control characters, and must not start with '_'."
	case errors.Is(err, syncengine.ErrInvalidCollection):
		return "Collection names look like scope.collection."
	case errors.Is(err, syncengine.ErrMissingBlob):
		return "Remove the blob reference, or add the blob to this database first."
	case errors.Is(err, syncengine.ErrDamaged):
		return "Salvage copies what can still be read into a new database; then delete the damaged one."
	case errors.Is(err, syncengine.ErrInUse):
		return "Another program (perhaps another PeerSync) has the database open; close it and try again."
	case errors.Is(err, syncengine.ErrClosed):
		return "The engine has shut down; restart PeerSync."
	case errors.Is(err, tlsid.ErrExists):
		return "Pick another label, or delete the existing identity first."
	case errors.Is(err, tlsid.ErrInvalid):
		return "Check the input: the certificate, key, password and label must all be valid."
	case errors.Is(err, fs.ErrPermission):
		return "Check the permissions of the file or the data directory."
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "Free some disk space, then try again."
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.EROFS):
		return "The disk refused the write; check it, then try again."
	}
	return "" // the message says it all: advice for another kind of error would mislead
}

// withAdvice is the error's message and, when there is any, the advice.
func withAdvice(err error) string {
	if a := advice(err); a != "" {
		return err.Error() + ". " + a
	}
	return err.Error()
}

// showError turns an error into a dialog saying what failed, why, and what
// to do next.
func showError(w fyne.Window, what string, err error) dialog.Dialog {
	text := err.Error()
	if a := advice(err); a != "" {
		text += "\n\n" + a
	}
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("Could not "+what, "OK", msg, w)
	d.Resize(fyne.NewSize(460, 220))
	d.Show()
	return d
}
