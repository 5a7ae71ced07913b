package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// showAbout shows the app name and the version Run was given.
func (u *mainUI) showAbout() {
	title := widget.NewLabelWithStyle("PeerSync", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	version := widget.NewLabelWithStyle("Version "+u.version, fyne.TextAlignCenter, fyne.TextStyle{})
	blurb := widget.NewLabel("Peer-to-peer sync of JSON document databases over the Couchbase Mobile replication protocol.")
	blurb.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("About PeerSync", "Close", container.NewVBox(title, version, blurb), u.win)
	d.Resize(fyne.NewSize(420, 220))
	d.Show()
}
