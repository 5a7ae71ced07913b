package ui

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/service"
	"peersync/syncengine"
)

// resolvedRef is one recorded automatic resolution and its database.
type resolvedRef struct {
	Database string
	syncengine.Resolution
}

func (r resolvedRef) doc() conflictRef { return conflictRef{r.Database, r.Collection, r.DocID} }

// listText is the row in the Resolved list: what and when, newest first.
func (r resolvedRef) listText() string {
	return r.At.Local().Format("01-02 15:04") + "  " + r.doc().String()
}

// findResolutions lists the recorded resolutions of every database,
// newest first.
func findResolutions(eng Engine) ([]resolvedRef, error) {
	names, err := eng.DatabaseNames()
	if err != nil {
		return nil, err
	}
	var refs []resolvedRef
	for _, name := range names {
		db, err := eng.OpenDatabase(name)
		if err != nil {
			continue // the Databases screen shows why
		}
		rs, err := db.Resolutions(0)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			refs = append(refs, resolvedRef{name, r})
		}
	}
	slices.SortStableFunc(refs, func(a, b resolvedRef) int { return b.At.Compare(a.At) })
	return refs, nil
}

// maxShownLoser is how much of a losing body the pane shows: a body can
// be as large as a document, and the label has to lay all of it out.
const maxShownLoser = 64 << 10

// loserText is what the pane shows of a losing revision's body.
func loserText(r syncengine.Resolution) string {
	if r.LoserDeleted {
		return "(the losing revision was a deletion)"
	}
	body := r.LoserBody
	if len(body) > maxShownLoser {
		return string(body[:maxShownLoser]) + fmt.Sprintf("\n… the first %s of %s; restore it to see all of it.",
			service.FormatBytes(maxShownLoser), service.FormatBytes(int64(len(body))))
	}
	return prettyJSON(body)
}

// resolvedPane is the Conflicts screen's second tab: the conflicts that
// replications resolved on their own, each with the revision that lost,
// which the user can restore (a new edit on top) or dismiss.
type resolvedPane struct {
	u *mainUI

	list       *widget.List
	status     *widget.Label
	heading    *widget.Label
	info       *widget.Label
	body       *widget.Label
	restoreBtn *widget.Button
	dismissBtn *widget.Button
	form       fyne.CanvasObject
	empty      *widget.Label
	detail     *fyne.Container
	confirm    *dialog.ConfirmDialog

	refs     []resolvedRef
	selected *resolvedRef // with its loser's body once read
	reload   reloader
	loaded   func(n int) // after each load, with how many records there are
}

func newResolvedPane(u *mainUI) *resolvedPane {
	p := &resolvedPane{u: u}
	p.reload = reloader{run: u.run, prepare: func() backgroundWork { return p.load }}
	p.list = textList("01-02 15:04  database › id", func() int { return len(p.refs) }, func(i int) string { return p.refs[i].listText() })
	p.list.OnSelected = func(i widget.ListItemID) { p.loadDetail(p.refs[i]) }
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.heading.Truncation = fyne.TextTruncateEllipsis
	p.info = widget.NewLabel("")
	p.info.Wrapping = fyne.TextWrapWord
	p.body = widget.NewLabel("")
	p.body.TextStyle = fyne.TextStyle{Monospace: true}
	p.body.Selectable = true
	p.restoreBtn = widget.NewButtonWithIcon("Restore the losing revision", theme.HistoryIcon(), p.askRestore)
	p.dismissBtn = widget.NewButtonWithIcon("Dismiss", theme.DeleteIcon(), p.askDismiss)
	p.form = container.NewBorder(container.NewVBox(p.heading, p.info), container.NewHBox(layout.NewSpacer(), p.dismissBtn, p.restoreBtn),
		nil, nil, container.NewScroll(p.body))
	p.empty = widget.NewLabelWithStyle("Select a resolved conflict.", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	p.empty.Wrapping = fyne.TextWrapWord
	p.detail = container.NewStack(container.NewCenter(p.empty))
	return p
}

func (p *resolvedPane) load() func() {
	refs, err := findResolutions(p.u.eng)
	return func() {
		if err != nil {
			p.status.SetText("Could not read the resolved conflicts: " + err.Error())
			return
		}
		p.refs = refs
		p.list.Refresh()
		if p.loaded != nil {
			p.loaded(len(refs))
		}
		switch len(refs) {
		case 0:
			p.status.SetText("No conflicts were resolved automatically.")
		case 1:
			p.status.SetText("1 conflict resolved automatically; its losing revision is kept.")
		default:
			p.status.SetText(fmt.Sprintf("%d conflicts resolved automatically; their losing revisions are kept.", len(refs)))
		}
		if p.selected == nil {
			p.list.UnselectAll()
			return
		}
		i := slices.IndexFunc(refs, func(r resolvedRef) bool { return r.Database == p.selected.Database && r.ID == p.selected.ID })
		if i < 0 {
			p.list.UnselectAll()
			p.clearDetail("That record is no longer kept.")
			return
		}
		p.list.Select(i) // no-op when already selected
	}
}

func (p *resolvedPane) clearDetail(note string) {
	p.selected = nil
	p.empty.SetText(note)
	p.detail.Objects = []fyne.CanvasObject{container.NewCenter(p.empty)}
	p.detail.Refresh()
}

type resolvedDetail struct {
	ref  resolvedRef
	text string // the loser's body as shown
}

// loadDetail reads the record with its loser's body and formats the body,
// both off the UI goroutine.
func (p *resolvedPane) loadDetail(ref resolvedRef) {
	if p.selected != nil && p.selected.Database == ref.Database && p.selected.ID == ref.ID {
		return
	}
	p.selected = &ref
	call(p.u.run, func() (resolvedDetail, error) {
		db, err := p.u.eng.OpenDatabase(ref.Database)
		if err != nil {
			return resolvedDetail{}, err
		}
		r, err := db.Resolution(ref.ID)
		if err != nil {
			return resolvedDetail{}, err
		}
		return resolvedDetail{resolvedRef{ref.Database, r}, loserText(r)}, nil
	}, func(d resolvedDetail, err error) {
		if p.selected == nil || p.selected.Database != ref.Database || p.selected.ID != ref.ID {
			return // the selection moved on
		}
		if err != nil {
			p.clearDetail("")
			showError(p.u.win, "read the resolution of “"+ref.DocID+"”", err)
			return
		}
		p.show(d)
	})
}

func (p *resolvedPane) show(d resolvedDetail) {
	r := d.ref
	p.selected = &r
	p.heading.SetText(r.doc().String())
	kept := "revision " + r.Winner
	if r.WinnerDeleted {
		kept = "its deletion (" + r.Winner + ")"
	}
	lost := fmt.Sprintf("revision %s (%s)", r.Loser, service.FormatBytes(int64(r.LoserSize)))
	if r.LoserDeleted {
		lost = "a deletion (" + r.Loser + ")"
	}
	p.info.SetText(fmt.Sprintf("Resolved automatically on %s by the rule “%s”.\nThe document was left at %s; the losing %s is kept below.",
		r.At.Local().Format("2006-01-02 15:04:05"), r.Rule, kept, lost))
	p.body.SetText(d.text)
	enable(p.restoreBtn, true)
	enable(p.dismissBtn, true)
	p.detail.Objects = []fyne.CanvasObject{p.form}
	p.detail.Refresh()
}

func (p *resolvedPane) askRestore() {
	if p.selected == nil {
		return
	}
	r := *p.selected
	msg := fmt.Sprintf("Make the losing revision of “%s” its current version? It is saved as a new edit and replicates to peers.", r.DocID)
	if r.LoserDeleted {
		msg = fmt.Sprintf("Delete “%s” again, as the losing revision did? The deletion replicates to peers.", r.DocID)
	}
	p.ask("Restore the losing revision?", msg, "Restore", func() {
		p.act(r, func(db Database) (string, error) {
			d, err := db.RestoreResolution(r.ID)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Restored “%s”: it is now at revision %s.", r.DocID, d.RevID), nil
		})
	})
}

func (p *resolvedPane) askDismiss() {
	if p.selected == nil {
		return
	}
	r := *p.selected
	p.ask("Dismiss this resolution?",
		fmt.Sprintf("Keep “%s” as it is and forget its losing revision %s? The losing body cannot be restored afterwards.", r.DocID, r.Loser),
		"Dismiss", func() {
			p.act(r, func(db Database) (string, error) {
				return fmt.Sprintf("Dismissed the resolution of “%s”.", r.DocID), db.DismissResolution(r.ID)
			})
		})
}

func (p *resolvedPane) ask(title, msg, confirm string, yes func()) {
	d := dialog.NewConfirm(title, msg, func(ok bool) {
		p.confirm = nil
		if ok {
			yes()
		}
	}, p.u.win)
	d.SetConfirmText(confirm)
	d.Show()
	p.confirm = d
}

// act runs a restore or dismiss in the background and, once done, says
// what happened and reloads the list.
func (p *resolvedPane) act(r resolvedRef, fn func(Database) (string, error)) {
	p.restoreBtn.Disable()
	p.dismissBtn.Disable()
	call(p.u.run, func() (string, error) {
		db, err := p.u.eng.OpenDatabase(r.Database)
		if err != nil {
			return "", err
		}
		return fn(db)
	}, func(done string, err error) {
		if err != nil {
			enable(p.restoreBtn, true)
			enable(p.dismissBtn, true)
			showError(p.u.win, "change the resolution of “"+r.DocID+"”", err)
			return
		}
		p.list.UnselectAll()
		p.clearDetail(done)
		p.reload.trigger()
	})
}
