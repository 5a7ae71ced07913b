package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// placeholderScreen stands in for a screen whose engine part is not ready
// yet (listeners, peers, replications): it keeps their place in the
// navigation and says what will be there.
type placeholderScreen struct{ content fyne.CanvasObject }

func comingSoon(title, what string) *placeholderScreen {
	heading := widget.NewLabelWithStyle(title, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	body := widget.NewLabelWithStyle(what+"\nComing soon.", fyne.TextAlignCenter, fyne.TextStyle{})
	return &placeholderScreen{content: container.NewCenter(container.NewVBox(heading, body))}
}

func (p *placeholderScreen) view() fyne.CanvasObject { return p.content }
func (p *placeholderScreen) shown()                  {}
