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
	kind    *widget.Select
	level   *widget.Select
	list    *widget.List
	detail  *widget.Label // the selected line's details, selectable
	scroll  *container.Scroll
	copyBtn *widget.Button
	count   *widget.Label
	content fyne.CanvasObject

	log     *activityLog
	visible []activityLine // the filtered lines in the list, newest first
	// selected is the selected line's seq (0: none); the list moves as
	// events come, so the selection follows the line, not the row.
	selected uint64
	now      func() time.Time
	dropped  func() int64 // events the engine dropped for the UI; nil if unknown
	name     nameFunc     // names listeners and replications by engine ID
}

func newActivityScreen(u *mainUI) *activityScreen {
	s := &activityScreen{u: u, log: newActivityLog(maxActivity), now: time.Now, name: u.nameOf}
	s.filter = widget.NewEntry()
	s.filter.SetPlaceHolder("Filter (Ctrl+F), e.g. a database, a document ID or an event type")
	s.filter.OnChanged = func(string) { s.update() }
	s.kind = widget.NewSelect(kindChoices(), nil)
	s.kind.SetSelectedIndex(0)
	s.kind.OnChanged = func(string) { s.update() }
	s.level = widget.NewSelect(levelChoices, nil)
	s.level.SetSelectedIndex(0)
	s.level.OnChanged = func(string) { s.update() }
	s.list = widget.NewList(
		func() int { return len(s.visible) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, widget.NewIcon(nil), nil, l)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			row := o.(*fyne.Container).Objects
			row[0].(*widget.Label).SetText(s.visible[i].listText())
			row[1].(*widget.Icon).SetResource(levelIcon(s.visible[i].Level))
		})
	s.list.OnSelected = func(i widget.ListItemID) { s.selected = s.visible[i].seq; s.showDetail() }
	s.list.OnUnselected = func(widget.ListItemID) { s.selected = 0; s.showDetail() }
	s.detail = widget.NewLabel("")
	s.detail.Wrapping = fyne.TextWrapWord
	s.detail.Selectable = true
	s.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		if l, ok := s.selectedLine(); ok {
			s.u.app.Clipboard().SetContent(l.details())
		}
	})
	s.count = widget.NewLabel("")
	clear := widget.NewButtonWithIcon("Clear", theme.ContentClearIcon(), func() {
		s.log.clear()
		s.update()
	})
	top := container.NewVBox(
		widget.NewLabelWithStyle("Activity", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, clear, s.filter),
		// Halves of the width, so the choices show their whole names.
		container.NewGridWithColumns(2,
			container.NewBorder(nil, nil, widget.NewLabel("Kind"), nil, s.kind),
			container.NewBorder(nil, nil, widget.NewLabel("Level"), nil, s.level)))
	// The detail below the list, so log lines keep the window's width;
	// Copy above the text, so it stays in sight however long that is.
	s.scroll = container.NewVScroll(s.detail)
	split := container.NewVSplit(s.list, container.NewBorder(container.NewHBox(s.copyBtn), nil, nil, nil, s.scroll))
	split.Offset = 0.6
	s.content = container.NewBorder(top, s.count, nil, nil, split)
	s.update()
	s.showDetail()
	return s
}

func (s *activityScreen) view() fyne.CanvasObject { return s.content }
func (s *activityScreen) shown()                  { s.update() }

// add logs one event.
func (s *activityScreen) add(ev syncengine.Event) {
	s.log.add(s.describe(activityLine{At: s.now(), ev: ev}))
	s.update()
}

// describe tells l's event, keeping the event while a listener or
// replication in it has no name yet.
func (s *activityScreen) describe(l activityLine) activityLine {
	missed := false
	name := func(id string) string {
		n := ""
		if s.name != nil {
			n = s.name(id)
		}
		missed = missed || n == ""
		return n
	}
	out := describeEvent(l.ev, name)
	out.At, out.seq = l.At, l.seq
	if missed {
		out.ev, out.unnamed = l.ev, true
	}
	return out
}

// namesChanged retells the lines logged before the screens knew the
// names of the listeners and replications in them.
func (s *activityScreen) namesChanged() {
	s.log.rename(s.describe)
	s.update()
}

// nameOf names the listener or replication whose engine ID is id, as the
// Listeners and Replications screens last loaded them; "" if neither has it.
func (u *mainUI) nameOf(id string) string {
	if u.replications != nil {
		if n, ok := u.replications.byID[id]; ok {
			return n
		}
	}
	if u.listeners != nil {
		for _, r := range u.listeners.rows {
			if r.ID != "" && r.ID == id {
				return r.Settings.Name
			}
		}
	}
	return ""
}

// kindChoices are the kind filter's options: all, then each kind.
func kindChoices() []string {
	choices := []string{"All kinds"}
	for _, k := range activityKinds {
		choices = append(choices, k.name)
	}
	return choices
}

// levelChoices are the level filter's options; the index of each is the
// lowest level it keeps.
var levelChoices = []string{"All levels", "Warnings and errors", "Errors only"}

// levelIcon marks warnings and errors in the list; information has none.
func levelIcon(l activityLevel) fyne.Resource {
	switch l {
	case levelError:
		return theme.ErrorIcon()
	case levelWarning:
		return theme.WarningIcon()
	}
	return nil
}

// currentFilter is what the filter entry and the two choices select.
func (s *activityScreen) currentFilter() activityFilter {
	f := activityFilter{Text: s.filter.Text, MinLevel: activityLevel(max(s.level.SelectedIndex(), 0))}
	if i := s.kind.SelectedIndex(); i > 0 {
		f.Kind = activityKinds[i-1].kind
	}
	return f
}

func (s *activityScreen) update() {
	s.visible = s.log.newestFirst(s.currentFilter())
	s.followSelection()
	s.list.Refresh()
	text := fmt.Sprintf("%d of the last %d events shown (at most %d kept)", len(s.visible), s.log.len(), maxActivity)
	if s.dropped != nil {
		if n := s.dropped(); n > 0 {
			text += fmt.Sprintf(" · %d events dropped while the UI was busy", n)
		}
	}
	s.count.SetText(text)
}

// followSelection selects the selected line's new row, or nothing once the
// line is filtered out or gone from the log.
func (s *activityScreen) followSelection() {
	if s.selected == 0 {
		return
	}
	for i, l := range s.visible {
		if l.seq == s.selected {
			s.list.Select(i)
			s.showDetail() // a line told again, now with names
			return
		}
	}
	s.list.UnselectAll()
	s.selected = 0
	s.showDetail()
}

func (s *activityScreen) selectedLine() (activityLine, bool) {
	for _, l := range s.visible {
		if s.selected != 0 && l.seq == s.selected {
			return l, true
		}
	}
	return activityLine{}, false
}

func (s *activityScreen) showDetail() {
	l, ok := s.selectedLine()
	enable(s.copyBtn, ok)
	if !ok {
		s.detail.SetText("Select an event to see its details.")
	} else {
		s.detail.SetText(l.details())
	}
	s.scroll.Refresh() // lay out the new text's height now
}
