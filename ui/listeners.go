package ui

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/service"
	"peersync/syncengine/tlsid"
)

// listenersScreen lists the saved listeners; the selected one shows its
// URLs (with copy buttons), certificate fingerprint and connections.
type listenersScreen struct {
	u *mainUI

	list    *widget.List
	info    *widget.Label
	urls    *fyne.Container
	fp      *widget.Label
	fpCopy  *widget.Button
	conns   *widget.Label
	errText *widget.Label
	detail  *fyne.Container
	message *widget.Label
	content fyne.CanvasObject

	form     *editForm
	openForm *listenerForm

	startBtn, stopBtn, editBtn, deleteBtn *widget.Button

	rows     []ListenerState
	selected string
	reload   *reloader
}

func newListenersScreen(u *mainUI) *listenersScreen {
	s := &listenersScreen{u: u}
	s.reload = &reloader{run: u.run, prepare: func() backgroundWork { return s.load }}
	s.list = widget.NewList(
		func() int { return len(s.rows) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("listener name\nstate")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(listenerLine(s.rows[i])) },
	)
	s.list.OnSelected = func(i widget.ListItemID) { s.selected = s.rows[i].Settings.Name; s.showDetail() }
	s.list.OnUnselected = func(widget.ListItemID) { s.selected = ""; s.showDetail() }

	s.info = widget.NewLabel("")
	s.info.Wrapping = fyne.TextWrapWord
	s.urls = container.NewVBox()
	s.fp = widget.NewLabel("")
	s.fp.Wrapping = fyne.TextWrapBreak
	s.fp.Selectable = true
	s.fpCopy = widget.NewButtonWithIcon("Copy fingerprint", theme.ContentCopyIcon(), func() {
		if r := s.row(s.selected); r != nil && r.Fingerprint != "" {
			s.u.app.Clipboard().SetContent(tlsid.FormatFingerprint(r.Fingerprint))
		}
	})
	s.conns = widget.NewLabel("")
	s.errText = widget.NewLabel("")
	s.errText.Wrapping = fyne.TextWrapWord
	s.errText.Importance = widget.DangerImportance
	s.startBtn = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), func() { s.act("start", Workspace.StartListener) })
	s.stopBtn = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), func() { s.act("stop", Workspace.StopListener) })
	s.editBtn = widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() {
		if r := s.row(s.selected); r != nil {
			s.showForm(r.Settings.Name, r.Settings)
		}
	})
	s.deleteBtn = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), s.askDelete)
	s.deleteBtn.Importance = widget.DangerImportance
	s.detail = container.NewVBox(s.info, s.errText, s.urls, s.fp, container.NewHBox(s.fpCopy), s.conns,
		container.NewHBox(s.startBtn, s.stopBtn, s.editBtn, s.deleteBtn))

	s.message = widget.NewLabel("")
	s.content = listDetailScreen("Listeners", "New listener…", func() {
		var saved []int
		for _, r := range s.rows {
			saved = append(saved, r.Settings.Port)
		}
		call(s.u.run, func() (int, error) { return freePort(DefaultPort, saved), nil }, func(port int, _ error) {
			s.showForm("", ListenerSettings{ListenerConfig: service.ListenerConfig{Port: port, TLS: service.TLSAnonymous}, Auth: AuthNone})
		})
	}, s.list, container.NewVScroll(s.detail), 0.35, s.message)
	s.showDetail()
	return s
}

func (s *listenersScreen) view() fyne.CanvasObject { return s.content }
func (s *listenersScreen) shown()                  { s.reload.trigger() }

func (s *listenersScreen) load() func() {
	rows, err := s.u.ws.Listeners()
	return func() {
		if err != nil {
			s.message.SetText("Could not read the listeners: " + err.Error())
			return
		}
		s.rows = rows
		if s.u.activity != nil {
			s.u.activity.namesChanged() // IDs the log could not name yet
		}
		running := 0
		for _, r := range rows {
			if r.Running {
				running++
			}
		}
		s.message.SetText(fmt.Sprintf("%d listeners, %d running", len(rows), running))
		s.list.Refresh()
		keep := s.selected // UnselectAll clears it
		s.list.UnselectAll()
		s.selected = keep
		for i, r := range rows {
			if r.Settings.Name == keep {
				s.list.Select(i)
			}
		}
		if s.row(s.selected) == nil {
			s.selected = ""
		}
		s.showDetail()
	}
}

func listenerLine(r ListenerState) string {
	state := "stopped"
	switch {
	case r.Running:
		state = fmt.Sprintf("running · %d connections", r.Connections)
	case r.Error != "":
		state = "failed to start"
	}
	return r.Settings.Name + " (" + r.Settings.Database + ")\n" + state
}

func (s *listenersScreen) row(name string) *ListenerState {
	for i := range s.rows {
		if name != "" && s.rows[i].Settings.Name == name {
			return &s.rows[i]
		}
	}
	return nil
}

// showDetail fills the right-hand side for the selected listener.
func (s *listenersScreen) showDetail() {
	r := s.row(s.selected)
	for _, b := range []*widget.Button{s.startBtn, s.stopBtn, s.editBtn, s.deleteBtn} {
		enable(b, r != nil)
	}
	s.urls.Objects = nil
	if r == nil {
		s.info.SetText("Select a listener, or create one so peers can sync with this computer.")
		s.fp.SetText("")
		s.fpCopy.Hide()
		s.conns.SetText("")
		setMessage(s.errText, s.detail, "")
		s.urls.Refresh()
		return
	}
	enable(s.startBtn, !r.Running)
	enable(s.stopBtn, r.Running)
	set := r.Settings
	port := "automatic port"
	if set.Port != 0 {
		port = fmt.Sprintf("port %d", set.Port)
	}
	iface := set.Interface
	if iface == "" {
		iface = "all interfaces"
	}
	var opts []string
	opts = append(opts, "TLS "+set.TLS, "auth "+set.Auth)
	if set.ReadOnly {
		opts = append(opts, "read-only")
	}
	if set.DeltaSync {
		opts = append(opts, "delta sync")
	}
	switch {
	case r.Announcement != "":
		opts = append(opts, r.Announcement)
	case set.Announce && !r.Running:
		opts = append(opts, "announced on the LAN while running")
	}
	s.info.SetText(fmt.Sprintf("%s shares database %s on %s, %s\n%s", set.Name, set.Database, port, iface, strings.Join(opts, " · ")))
	setMessage(s.errText, s.detail, r.Error)
	for _, u := range r.URLs {
		url := u
		l := widget.NewLabel(url)
		l.Truncation = fyne.TextTruncateEllipsis
		copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
			s.u.app.Clipboard().SetContent(url)
		})
		s.urls.Add(container.NewBorder(nil, nil, nil, copyBtn, l))
	}
	s.urls.Refresh()
	switch {
	case !r.Running:
		s.fp.SetText("")
		s.fpCopy.Hide()
		s.conns.SetText("Not running.")
	default:
		s.fpCopy.Hide()
		if r.Fingerprint != "" {
			s.fp.SetText("Certificate SHA-256 " + tlsid.FormatFingerprint(r.Fingerprint) +
				"\nCode " + tlsid.ShortCode(r.Fingerprint) + ": a peer that trusts this listener sees the same code.")
			s.fpCopy.Show()
		} else {
			s.fp.SetText("No TLS: traffic is not encrypted.")
		}
		text := fmt.Sprintf("%d connections, %d active", r.Connections, r.Active)
		for _, sub := range slices.Sorted(maps.Keys(r.Protocols)) {
			text += fmt.Sprintf("\n%d over %s", r.Protocols[sub], protocolText(sub))
		}
		s.conns.SetText(text)
	}
}

// act runs a workspace action on the selected listener, then reloads.
func (s *listenersScreen) act(what string, fn func(Workspace, string) error) {
	name := s.selected
	if name == "" {
		return
	}
	call(s.u.run, func() (struct{}, error) { return struct{}{}, fn(s.u.ws, name) }, func(_ struct{}, err error) {
		if err != nil {
			showError(s.u.win, what+" listener “"+name+"”", err)
		}
		s.reload.trigger()
	})
}

func (s *listenersScreen) askDelete() {
	name := s.selected
	dialog.ShowConfirm("Delete listener", "Stop and delete the listener “"+name+"”? The database stays.",
		func(ok bool) {
			if ok {
				s.act("delete", Workspace.DeleteListener)
			}
		}, s.u.win)
}
