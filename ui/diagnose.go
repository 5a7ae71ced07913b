package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"peersync/discovery"
	"peersync/syncengine/doctor"
)

// Diagnoser is a Workspace that can run the connection doctor. The app's
// workspace is one; screens offer "Diagnose" only when theirs is.
type Diagnoser interface {
	// DiagnoseReplication checks the way to a saved replication's target
	// with its credentials and trust settings.
	DiagnoseReplication(name string) (doctor.Report, error)
	// DiagnosePeer checks the way to a discovered or manual peer.
	DiagnosePeer(p discovery.Peer) (doctor.Report, error)
}

// diagnoseAction runs a diagnosis off the UI goroutine and shows the
// report in a dialog.
type diagnoseAction struct {
	u      *mainUI
	dialog dialog.Dialog  // the last report shown, for tests
	report *doctor.Report // its report
}

func (d *diagnoseAction) available() bool {
	_, ok := d.u.ws.(Diagnoser)
	return ok
}

func (d *diagnoseAction) run(title string, work func(Diagnoser) (doctor.Report, error)) {
	dg, ok := d.u.ws.(Diagnoser)
	if !ok {
		return
	}
	wait := dialog.NewCustomWithoutButtons("Diagnosing "+title+"…",
		widget.NewLabel("Checking the connection step by step; this takes at most a minute."), d.u.win)
	wait.Show()
	call(d.u.run, func() (doctor.Report, error) { return work(dg) }, func(rep doctor.Report, err error) {
		wait.Hide()
		if err != nil {
			dialog.ShowError(err, d.u.win)
			return
		}
		d.show(title, rep)
	})
}

// show lists each step: a mark, its name and duration, what happened and,
// for a failed step, what to do.
func (d *diagnoseAction) show(title string, rep doctor.Report) {
	rows := container.NewVBox()
	for _, s := range rep.Steps {
		mark, took := "✓", ""
		switch {
		case !s.Ran:
			mark = "–"
		case !s.OK:
			mark = "✗"
		}
		if s.Ran {
			took = " · " + s.Took.Round(time.Millisecond).String()
		}
		head := widget.NewLabelWithStyle(fmt.Sprintf("%s %s%s", mark, s.Name, took), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		detail := widget.NewLabel(s.Detail)
		detail.Wrapping = fyne.TextWrapWord
		rows.Add(head)
		rows.Add(detail)
		if s.Advice != "" {
			advice := widget.NewLabel("What to do: " + s.Advice)
			advice.Wrapping = fyne.TextWrapWord
			advice.Importance = widget.WarningImportance
			rows.Add(advice)
		}
	}
	summary := "Every step passed: a replication can connect."
	if f := rep.Failed(); f != nil {
		summary = "The " + f.Name + " step failed; see what to do below it."
	}
	top := widget.NewLabel(rep.Target + "\n" + summary)
	top.Wrapping = fyne.TextWrapWord
	dlg := dialog.NewCustom("Diagnosis: "+title, "Close", container.NewBorder(top, nil, nil, nil, container.NewVScroll(rows)), d.u.win)
	dlg.Resize(fyne.NewSize(680, 520))
	dlg.Show()
	d.dialog, d.report = dlg, &rep
}
