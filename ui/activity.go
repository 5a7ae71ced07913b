package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// activityScreen is a live, filterable log of engine events.
type activityScreen struct {
	u *mainUI

	filter  *widget.Entry
	list    *widget.List
	count   *widget.Label
	content fyne.CanvasObject

	log     *activityLog
	visible []activityLine // the filtered lines in the list, newest first
	now     func() time.Time
	dropped func() int64 // events the engine dropped for the UI; nil if unknown
}

func newActivityScreen(u *mainUI) *activityScreen {
	s := &activityScreen{u: u, log: newActivityLog(maxActivity), now: time.Now}
	s.filter = widget.NewEntry()
	s.filter.SetPlaceHolder("Filter (Ctrl+F), e.g. a database, a document ID or an event type")
	s.filter.OnChanged = func(string) { s.update() }
	s.list = widget.NewList(
		func() int { return len(s.visible) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.TextStyle = fyne.TextStyle{Monospace: true}
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.visible[i].String()) })
	s.count = widget.NewLabel("")
	clear := widget.NewButtonWithIcon("Clear", theme.ContentClearIcon(), func() {
		s.log.clear()
		s.update()
	})
	top := container.NewVBox(
		widget.NewLabelWithStyle("Activity", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, clear, s.filter))
	s.content = container.NewBorder(top, s.count, nil, nil, s.list)
	s.update()
	return s
}

func (s *activityScreen) view() fyne.CanvasObject { return s.content }
func (s *activityScreen) shown()                  { s.update() }

// add logs one event.
func (s *activityScreen) add(ev syncengine.Event) {
	line := describeEvent(ev)
	line.At = s.now()
	s.log.add(line)
	s.update()
}

func (s *activityScreen) update() {
	s.visible = s.log.newestFirst(s.filter.Text)
	s.list.Refresh()
	text := fmt.Sprintf("%d of the last %d events shown (at most %d kept)", len(s.visible), s.log.len(), maxActivity)
	if s.dropped != nil {
		if n := s.dropped(); n > 0 {
			text += fmt.Sprintf(" · %d events dropped while the UI was busy", n)
		}
	}
	s.count.SetText(text)
}
