package ui

import (
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/doctor"
	"peersync/syncengine/tlsid"
)

// replicationsScreen lists the saved replications with their live status,
// and the selected one's details, actions and document log.
type replicationsScreen struct {
	u *mainUI

	list     *widget.List
	detail   *fyne.Container
	info     *widget.Label
	errLabel *widget.Label
	docs     *widget.List
	message  *widget.Label
	content  fyne.CanvasObject
	form     *editForm
	openForm *replicationForm // the open form's fields, for tests

	startBtn, stopBtn, resetBtn, retryBtn, editBtn, deleteBtn, trustBtn *widget.Button
	diagnoseBtn, errDiagnoseBtn                                         *widget.Button // shown when the workspace can diagnose
	diagnosis                                                           diagnoseAction

	rows   []ReplicationState
	byID   map[string]string                      // replicator ID → replication name
	live   map[string]syncengine.ReplicatorStatus // newest known status, by name
	liveID map[string]string                      // the replicator ID live's status came from, by name
	// heard is the newest status event of each replicator ID, named or not
	// yet, so a load can keep it when it is newer than its snapshot.
	heard    map[string]syncengine.ReplicatorStatus
	logs     map[string]*docLog
	unnamed  map[string]*docLog // logs of replicator IDs not yet matched to a name
	docLines []string           // the selected replication's log, newest first
	selected string

	reload   *reloader
	throttle *throttle
	now      func() time.Time
	// refreshes counts redraws of rows and logs, so a test can check that a
	// flood of progress does not become a flood of redraws.
	refreshes int
}

func newReplicationsScreen(u *mainUI) *replicationsScreen {
	s := &replicationsScreen{u: u, byID: map[string]string{}, live: map[string]syncengine.ReplicatorStatus{},
		liveID: map[string]string{},
		heard:  map[string]syncengine.ReplicatorStatus{}, logs: map[string]*docLog{}, unnamed: map[string]*docLog{}, now: time.Now}
	s.reload = &reloader{run: u.run, prepare: func() backgroundWork { return s.load }}
	s.throttle = newThrottle(u.run, maxUpdatesPerSecond, s.redraw)
	s.list = widget.NewList(
		func() int { return len(s.rows) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("replication name", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			counts := widget.NewLabel("")
			counts.Truncation = fyne.TextTruncateEllipsis
			return container.NewVBox(name, widget.NewProgressBar(), counts)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { s.fillRow(s.rows[i], o.(*fyne.Container).Objects) },
	)
	s.list.OnSelected = func(i widget.ListItemID) { s.selected = s.rows[i].Settings.Name; s.showDetail() }
	s.list.OnUnselected = func(widget.ListItemID) { s.selected = ""; s.showDetail() }

	s.info = widget.NewLabel("")
	s.info.Wrapping = fyne.TextWrapWord
	s.errLabel = widget.NewLabel("")
	s.errLabel.Wrapping = fyne.TextWrapWord
	s.errLabel.Importance = widget.DangerImportance
	s.docs = widget.NewList(
		func() int { return len(s.docLines) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.TextStyle = fyne.TextStyle{Monospace: true}
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.docLines[i]) })
	s.startBtn = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), func() { s.act("start", func(ws Workspace, n string) error { return ws.StartReplication(n, false) }) })
	s.stopBtn = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), func() { s.act("stop", Workspace.StopReplication) })
	s.resetBtn = widget.NewButtonWithIcon("Reset checkpoint", theme.MediaReplayIcon(), s.askReset)
	s.retryBtn = widget.NewButtonWithIcon("Retry now", theme.ViewRefreshIcon(), func() { s.act("retry", Workspace.RetryReplication) })
	s.editBtn = widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() {
		if r := s.row(s.selected); r != nil {
			s.showForm(r.Settings.Name, r.Settings)
		}
	})
	s.deleteBtn = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), s.askDelete)
	s.deleteBtn.Importance = widget.DangerImportance
	s.trustBtn = widget.NewButtonWithIcon("Trust server certificate…", theme.ConfirmIcon(), s.askTrustServer)
	s.diagnosis.u = u
	s.diagnoseBtn = widget.NewButtonWithIcon("Diagnose", theme.SearchIcon(), s.diagnose)
	s.errDiagnoseBtn = widget.NewButtonWithIcon("Why? Diagnose the connection…", theme.HelpIcon(), s.diagnose)
	s.errDiagnoseBtn.Importance = widget.LowImportance
	s.errDiagnoseBtn.Hide()
	grid := []fyne.CanvasObject{s.startBtn, s.stopBtn, s.resetBtn, s.retryBtn, s.editBtn, s.deleteBtn, s.trustBtn}
	if s.diagnosis.available() {
		grid = append(grid, s.diagnoseBtn)
	}
	buttons := container.NewGridWithColumns(3, grid...)
	top := container.NewVBox(s.info, s.errLabel, s.errDiagnoseBtn, buttons,
		widget.NewLabelWithStyle("Documents (last 200)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	s.detail = container.NewBorder(top, nil, nil, nil, s.docs)

	s.message = widget.NewLabel("")
	// The scroll lets the split give the list its share however wide the
	// buttons are.
	s.content = listDetailScreen("Replications", "New replication…", func() {
		s.showForm("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Type: service.TypePushAndPull,
			Conflicts: service.ConflictsDefault, Continuous: true, AutoStart: true}})
	}, s.list, container.NewHScroll(s.detail), 0.4, s.message)
	s.showDetail()
	return s
}

func (s *replicationsScreen) view() fyne.CanvasObject { return s.content }
func (s *replicationsScreen) shown()                  { s.reload.trigger() }

// load reads the replications off the UI goroutine.
func (s *replicationsScreen) load() func() {
	rows, err := s.u.ws.Replications()
	return func() {
		if err != nil {
			s.message.SetText("Could not read the replications: " + err.Error())
			return
		}
		s.rows = rows
		current := map[string]bool{}
		for _, r := range rows {
			s.live[r.Settings.Name], s.liveID[r.Settings.Name] = r.Status, r.ID
			if r.ID == "" {
				continue
			}
			current[r.ID] = true
			s.byID[r.ID] = r.Settings.Name
			if l := s.unnamed[r.ID]; l != nil {
				delete(s.unnamed, r.ID)
				s.logFor(r.Settings.Name).add(oldestFirst(l))
			}
			// An event may be newer than the snapshot, or older (still queued
			// when the snapshot was read): keep the newer.
			if h, ok := s.heard[r.ID]; ok && h.Seq > r.Status.Seq {
				s.live[r.Settings.Name] = h
			}
		}
		for id := range s.byID {
			if !current[id] { // a replicator replaced or deleted
				delete(s.byID, id)
				delete(s.heard, id)
			}
		}
		if s.u.activity != nil {
			s.u.activity.namesChanged() // IDs the log could not name yet
		}
		s.message.SetText(fmt.Sprintf("%d replications", len(rows)))
		s.list.Refresh()
		s.refreshes++
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

func (s *replicationsScreen) row(name string) *ReplicationState {
	for i := range s.rows {
		if name != "" && s.rows[i].Settings.Name == name {
			return &s.rows[i]
		}
	}
	return nil
}

// status is the newest known status of a replication.
func (s *replicationsScreen) status(name string) syncengine.ReplicatorStatus { return s.live[name] }

// statusChanged takes a ReplicatorStatusChanged event.
func (s *replicationsScreen) statusChanged(ev syncengine.ReplicatorStatusChanged) {
	if h, ok := s.heard[ev.ID]; !ok || ev.Status.Seq > h.Seq {
		s.heard[ev.ID] = ev.Status
	}
	name, ok := s.byID[ev.ID]
	if !ok {
		s.reload.trigger() // a replicator we have not seen: learn its name
		return
	}
	if s.liveID[name] == ev.ID && ev.Status.Seq <= s.live[name].Seq {
		return // older than what the screen shows (a load read a newer status)
	}
	if ev.Status.Activity == syncengine.Stopped && s.live[name].Activity != syncengine.Stopped {
		s.reload.trigger() // a run ended: read how it is recorded
	}
	s.live[name], s.liveID[name] = ev.Status, ev.ID
	s.throttle.changed(name)
}

// documentsReplicated takes a DocumentsReplicated event.
func (s *replicationsScreen) documentsReplicated(ev syncengine.DocumentsReplicated) {
	name, ok := s.byID[ev.ReplicatorID]
	if !ok {
		// A replication that finishes quickly can report its documents
		// before the screen has learned its replicator's name: keep them.
		l := s.unnamed[ev.ReplicatorID]
		if l == nil {
			l = &docLog{}
			s.unnamed[ev.ReplicatorID] = l
		}
		l.add(ev.Documents)
		s.reload.trigger()
		return
	}
	s.logFor(name).add(ev.Documents)
	s.throttle.changed(name)
}

func (s *replicationsScreen) logFor(name string) *docLog {
	l := s.logs[name]
	if l == nil {
		l = &docLog{}
		s.logs[name] = l
	}
	return l
}

// oldestFirst returns a log's entries in the order they were added.
func oldestFirst(l *docLog) []syncengine.DocEvent {
	evs := l.newestFirst()
	slices.Reverse(evs)
	return evs
}

// redraw shows one replication's news: its row, and its details and log
// when it is selected.
func (s *replicationsScreen) redraw(name string) {
	s.refreshes++
	for i := range s.rows {
		if s.rows[i].Settings.Name == name {
			s.list.RefreshItem(i)
		}
	}
	if name == s.selected {
		s.showDetail()
	}
}

// fillRow shows a replication in a list row: name and activity, progress,
// and this run's counts while it runs, else how its last run went.
func (s *replicationsScreen) fillRow(r ReplicationState, objs []fyne.CanvasObject) {
	st := s.status(r.Settings.Name)
	objs[0].(*widget.Label).SetText(r.Settings.Name + " — " + activityText(st))
	bar := objs[1].(*widget.ProgressBar)
	bar.Max = float64(max(st.Progress.Total, 1))
	bar.SetValue(float64(st.Progress.Completed))
	text := countsText(st)
	if st.Activity == syncengine.Stopped {
		text = r.History.Summary(s.now())
	}
	objs[2].(*widget.Label).SetText(text)
}

// historyText is the detail's account of the runs: the last one, when it
// last caught up, and the totals, which go on across restarts.
func historyText(h service.RunHistory, now time.Time) string {
	synced := h.LastSyncedText(now)
	if !h.LastSynced.IsZero() {
		synced += " (" + h.LastSynced.Local().Format("2006-01-02 15:04:05") + ")"
	}
	return "Last run: " + h.LastRunText(now) + "\nLast synced: " + synced + "\nTotal: " + h.Totals.Text()
}

func activityText(st syncengine.ReplicatorStatus) string {
	text := st.Activity.String()
	if st.Error != nil && st.Activity == syncengine.Stopped {
		text += " (failed)"
	}
	return text
}

func countsText(st syncengine.ReplicatorStatus) string {
	text := fmt.Sprintf("%d/%d · %d pushed · %d pulled", st.Progress.Completed, st.Progress.Total, st.Pushed, st.Pulled)
	if d := st.Delta; d.SentAsDelta+d.ReceivedAsDelta > 0 {
		text += fmt.Sprintf(" · deltas: %d sent, %d received, %d bytes saved", d.SentAsDelta, d.ReceivedAsDelta, d.BytesSaved)
	}
	if st.Protocol != "" {
		text += " · " + protocolText(st.Protocol)
	}
	return text
}

// protocolText names a negotiated subprotocol for people.
func protocolText(sub string) string {
	switch sub {
	case syncengine.SubprotocolV4:
		return "CBMobile_4 (version vectors)"
	case syncengine.SubprotocolV3:
		return "CBMobile_3 (revision trees)"
	}
	return sub
}

// errorText says what went wrong and what happens next.
func errorText(st syncengine.ReplicatorStatus, now time.Time) string {
	if st.Error == nil {
		return ""
	}
	text := "Last error: " + st.Error.Error()
	switch {
	case st.Transient && st.Activity == syncengine.Offline && !st.NextAttempt.IsZero():
		text += fmt.Sprintf("\nWill retry at %s (in %s).", st.NextAttempt.Format("15:04:05"), st.NextAttempt.Sub(now).Round(time.Second))
	case st.Transient && st.Activity != syncengine.Stopped:
		text += "\nWill retry."
	default:
		text += "\nWill not retry: fix the cause, then start it again."
	}
	return text
}

// showDetail fills the right-hand side for the selected replication.
func (s *replicationsScreen) showDetail() {
	r := s.row(s.selected)
	for _, b := range []*widget.Button{s.startBtn, s.stopBtn, s.resetBtn, s.retryBtn, s.editBtn, s.deleteBtn, s.trustBtn, s.diagnoseBtn} {
		enable(b, r != nil)
	}
	s.errDiagnoseBtn.Hide()
	if r == nil {
		s.info.SetText("Select a replication, or create one.")
		s.errLabel.SetText("")
		s.errLabel.Hide()
		s.docLines = nil
		s.docs.Refresh()
		return
	}
	st := s.status(r.Settings.Name)
	running := st.Activity != syncengine.Stopped
	enable(s.startBtn, !running)
	enable(s.stopBtn, running)
	enable(s.retryBtn, st.Activity == syncengine.Offline)
	enable(s.trustBtn, r.ServerFingerprint != "" && r.Settings.Pin != r.ServerFingerprint && st.Error != nil)
	set := r.Settings
	mode := "one-shot"
	if set.Continuous {
		mode = "continuous"
	}
	trust := "system roots"
	switch {
	case set.Pin != "":
		trust = "pinned certificate " + set.Pin // a PEM file
		if fp, err := tlsid.ParseFingerprint(set.Pin); err == nil {
			trust = "pinned certificate, code " + tlsid.ShortCode(fp)
		}
	case set.AcceptSelfSigned:
		trust = "any self-signed certificate"
	}
	now := activityText(st)
	switch {
	case running:
		now += " · this run: " + countsText(st)
	case s.liveID[set.Name] != "": // it ran since the app started
		now += " · " + countsText(st)
	}
	s.info.SetText(fmt.Sprintf("%s: %s ⇄ %s\n%s, %s · trust: %s\n%s\n%s", set.Name, set.Database, set.Target,
		set.Type, mode, trust, now, historyText(r.History.WithStatus(st), s.now())))
	msg := errorText(st, s.now())
	if syncengine.IsUntrustedCertificate(st.Error) && r.ServerFingerprint != "" {
		msg = "This computer does not trust the peer's certificate. Its code is " + tlsid.ShortCode(r.ServerFingerprint) +
			": if the peer's Listeners screen shows the same code, press “Trust server certificate…”.\n" + msg
	}
	setMessage(s.errLabel, s.detail, msg)
	if st.Error != nil && s.diagnosis.available() {
		s.errDiagnoseBtn.Show() // the last error links to the diagnosis
	}
	s.docLines = s.docLines[:0]
	if l := s.logs[r.Settings.Name]; l != nil {
		for _, ev := range l.newestFirst() {
			s.docLines = append(s.docLines, describeDoc(ev))
		}
	}
	s.docs.Refresh()
}

// act runs a workspace action on the selected replication, then reloads.
func (s *replicationsScreen) act(what string, fn func(Workspace, string) error) {
	name := s.selected
	if name == "" {
		return
	}
	call(s.u.run, func() (struct{}, error) { return struct{}{}, fn(s.u.ws, name) }, func(_ struct{}, err error) {
		if err != nil {
			showError(s.u.win, what+" replication “"+name+"”", err)
		}
		s.reload.trigger()
	})
}

func (s *replicationsScreen) askReset() {
	name := s.selected
	dialog.ShowConfirm("Reset checkpoint", "Replicate “"+name+"” from the beginning? Documents already in sync are checked again, not copied again.",
		func(ok bool) {
			if ok {
				s.act("reset", func(ws Workspace, n string) error { return ws.StartReplication(n, true) })
			}
		}, s.u.win)
}

func (s *replicationsScreen) askDelete() {
	name := s.selected
	dialog.ShowConfirm("Delete replication", "Stop and delete the replication “"+name+"”? The documents stay.",
		func(ok bool) {
			if ok {
				s.act("delete", Workspace.DeleteReplication)
			}
		}, s.u.win)
}

// askTrustServer offers to pin the certificate the server presented: trust
// on first use, after the user compared the fingerprint.
func (s *replicationsScreen) askTrustServer() {
	r := s.row(s.selected)
	if r == nil || r.ServerFingerprint == "" {
		return
	}
	set := r.Settings
	fp := r.ServerFingerprint
	s.u.askTrust(set.Target, fp, func() {
		set.Pin = fp
		set.AcceptSelfSigned = false
		s.save(set.Name, set)
	})
}

// save saves the settings in the background and reloads.
func (s *replicationsScreen) save(old string, set ReplicationSettings) {
	call(s.u.run, func() (struct{}, error) { return struct{}{}, s.u.ws.SaveReplication(old, set) }, func(_ struct{}, err error) {
		if err != nil {
			showError(s.u.win, "save replication “"+set.Name+"”", err)
		}
		s.selected = set.Name
		s.reload.trigger()
	})
}

// diagnose runs the connection doctor on the selected replication.
func (s *replicationsScreen) diagnose() {
	name := s.selected
	if name == "" {
		return
	}
	s.diagnosis.run("“"+name+"”", func(d Diagnoser) (doctor.Report, error) { return d.DiagnoseReplication(name) })
}
