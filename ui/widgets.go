package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// setMessage shows text in l, or hides l when text is empty, and lays out
// box again when l appears or goes, so the space opens or closes at once
// (the desktop driver would catch up on the next frame; the test canvas
// would not). box is the nearest container around l whose size is fixed.
func setMessage(l *widget.Label, box *fyne.Container, text string) {
	was := l.Visible()
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
	if was != l.Visible() {
		box.Refresh()
	}
}

// enable enables or disables w.
func enable(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

// textList is a list of one-line labels, cut with "…" when too long;
// template sizes the rows.
func textList(template string, n func() int, text func(i int) string) *widget.List {
	return widget.NewList(n,
		func() fyne.CanvasObject {
			l := widget.NewLabel(template)
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(text(i)) })
}
