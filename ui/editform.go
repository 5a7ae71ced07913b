package ui

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// editForm is a dialog holding a form that stays open until its save
// succeeds: a refused save says why inside the form and keeps every field
// as the user typed it.
type editForm struct {
	dlg    dialog.Dialog
	form   *widget.Form
	errMsg *widget.Label
}

// showEditForm opens the form. save runs on the UI goroutine and must call
// done (on the UI goroutine) with the outcome; closed runs once when the
// dialog goes away, saved or cancelled.
func showEditForm(win fyne.Window, title string, size fyne.Size, items []*widget.FormItem,
	save func(done func(error)), closed func()) *editForm {
	f := &editForm{errMsg: widget.NewLabel("")}
	f.errMsg.Wrapping = fyne.TextWrapWord
	f.errMsg.Importance = widget.DangerImportance
	f.errMsg.Hide()
	f.form = &widget.Form{Items: items, SubmitText: "Save", CancelText: "Cancel"}
	f.form.OnCancel = func() { f.dlg.Hide() }
	f.form.OnSubmit = func() {
		f.form.Disable()
		save(func(err error) {
			f.form.Enable()
			if err != nil {
				f.errMsg.SetText(err.Error())
				f.errMsg.Show()
				return
			}
			f.dlg.Hide()
		})
	}
	f.dlg = dialog.NewCustomWithoutButtons(title, container.NewVScroll(container.NewVBox(f.form, f.errMsg)), win)
	f.dlg.SetOnClosed(closed)
	f.dlg.Resize(size)
	f.dlg.Show()
	return f
}

// savingTo is a form's save action: it saves what read gives (the item and
// its name) with store, off the UI goroutine, as the item named *old. Once
// saved, even if it could not start, a second Save edits the saved item,
// and saved runs.
func savingTo[T any](run runner, old *string, read func() (T, string), store func(old string, v T) error,
	saved func(v T, name string)) func(done func(error)) {
	return func(done func(error)) {
		v, name := read()
		call(run, func() (struct{}, error) { return struct{}{}, store(*old, v) }, func(_ struct{}, err error) {
			var notStarted *NotStartedError
			if err == nil || errors.As(err, &notStarted) {
				*old = name
				saved(v, name)
			}
			done(err)
		})
	}
}

// Submit saves as the Save button does, unless a field is invalid (for
// tests and keyboard shortcuts).
func (f *editForm) Submit() {
	if f.form.Validate() == nil {
		f.form.OnSubmit()
	}
}

// Hide closes the form without saving.
func (f *editForm) Hide() { f.dlg.Hide() }

// Error is the refusal shown in the form, or "" when there is none.
func (f *editForm) Error() string {
	if f.errMsg.Hidden {
		return ""
	}
	return f.errMsg.Text
}
