package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// revRow is one revision of a document's tree, as the history lists it.
type revRow struct {
	ID, Parent string
	Deleted    bool
	Leaf       bool
	Winner     bool
	BodyKept   bool
}

// revisionRows lists a document's revisions, newest generation first.
func revisionRows(d *syncengine.Document) []revRow {
	revs := d.Tree.Revs()
	rows := make([]revRow, 0, len(revs))
	for _, r := range revs {
		rows = append(rows, revRow{ID: r.ID, Parent: r.Parent, Deleted: r.Deleted,
			Leaf: d.Tree.IsLeaf(r.ID), Winner: r.ID == d.RevID, BodyKept: r.Body != nil})
	}
	slices.SortStableFunc(rows, func(a, b revRow) int {
		if c := cmp.Compare(syncengine.RevisionGeneration(b.ID), syncengine.RevisionGeneration(a.ID)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return rows
}

// flags describes a revision in words.
func (r revRow) flags() string {
	var f []string
	if r.Winner {
		f = append(f, "winner")
	} else if r.Leaf {
		f = append(f, "leaf")
	}
	if r.Deleted {
		f = append(f, "deleted")
	}
	if !r.BodyKept {
		f = append(f, "body pruned")
	}
	return strings.Join(f, ", ")
}

func (r revRow) parentText() string {
	if r.Parent == "" {
		return "(root)"
	}
	return r.Parent
}

// showHistory lists the revision tree of the document in the editor.
func (e *editor) showHistory() {
	if e.doc == nil {
		return
	}
	id, coll := e.doc.ID, e.b.coll
	call(e.b.u.run, func() (*syncengine.Document, error) { return coll.GetWithTombstone(id) },
		func(d *syncengine.Document, err error) {
			if err != nil {
				showError(e.b.u.win, "read the history of “"+id+"”", err)
				return
			}
			rows := revisionRows(d)
			list := widget.NewList(
				func() int { return len(rows) },
				func() fyne.CanvasObject {
					l := widget.NewLabel("")
					l.TextStyle = fyne.TextStyle{Monospace: true}
					return l
				},
				func(i widget.ListItemID, o fyne.CanvasObject) {
					r := rows[i]
					o.(*widget.Label).SetText(fmt.Sprintf("%s\n  parent %s  %s", r.ID, r.parentText(), r.flags()))
				})
			dlg := dialog.NewCustom(fmt.Sprintf("History of “%s” (%d revisions)", id, len(rows)), "Close", list, e.b.u.win)
			dlg.Resize(fyne.NewSize(640, 420))
			dlg.Show()
		})
}
