package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// listDetailScreen lays out a screen of configured items: a bold title and
// a "new" button on top, the list beside the selected item's detail, and a
// message line at the bottom.
func listDetailScreen(title, newLabel string, onNew func(), list, detail fyne.CanvasObject, listShare float64, message *widget.Label) fyne.CanvasObject {
	newBtn := widget.NewButtonWithIcon(newLabel, theme.ContentAddIcon(), onNew)
	head := container.NewVBox(
		widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewHBox(newBtn, layout.NewSpacer()))
	split := container.NewHSplit(list, detail)
	split.Offset = listShare
	return container.NewBorder(head, message, nil, nil, split)
}
