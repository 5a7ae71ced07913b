package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
)

// conflictsScreen lists documents in conflict in every database, shows the
// competing revisions side by side with differing top-level keys
// highlighted, and resolves them by picking one or saving a merge.
type conflictsScreen struct {
	u *mainUI

	list     *widget.List
	status   *widget.Label
	heading  *widget.Label
	legend   *widget.Label
	leafGrid *fyne.Container
	merge    *widget.Entry
	problem  *widget.Label
	mergeBtn *widget.Button
	mergeBox *fyne.Container // holds problem
	detail   *fyne.Container
	form     fyne.CanvasObject
	empty    *widget.Label
	content  fyne.CanvasObject

	tabs     *container.AppTabs // Open and Resolved
	resolved *resolvedPane
	main     *fyne.Container // shows the detail of the tab in front

	refs     []conflictRef
	selected *conflictRef
	coll     Collection // the selected document's collection
	leaves   []conflictLeaf
	keepBtns []*widget.Button // one per leaf, for tests
	confirm  *dialog.ConfirmDialog
	reload   reloader
}

func newConflictsScreen(u *mainUI) *conflictsScreen {
	s := &conflictsScreen{u: u}
	s.reload = reloader{run: u.run, prepare: func() backgroundWork { return s.load }}
	s.list = textList("database › id", func() int { return len(s.refs) }, func(i int) string { return s.refs[i].String() })
	s.list.OnSelected = func(i widget.ListItemID) {
		ref := s.refs[i]
		s.selected = &ref
		s.loadDetail()
	}
	s.status = widget.NewLabel("")
	s.heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.heading.Truncation = fyne.TextTruncateEllipsis
	s.legend = widget.NewLabel("Keys marked * (highlighted) differ between the revisions.")
	s.leafGrid = container.NewGridWithColumns(2)
	s.merge = widget.NewMultiLineEntry()
	s.merge.TextStyle = fyne.TextStyle{Monospace: true}
	s.merge.SetMinRowsVisible(6)
	s.merge.OnChanged = func(string) { s.validateMerge() }
	s.problem = widget.NewLabel("")
	s.problem.Importance = widget.DangerImportance
	s.problem.Hide()
	s.mergeBtn = widget.NewButtonWithIcon("Save merge", theme.DocumentSaveIcon(), s.saveMerge)
	s.mergeBtn.Importance = widget.HighImportance

	s.mergeBox = container.NewBorder(
		widget.NewLabelWithStyle("Or edit a merge (saved on top of the current winner):", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}),
		container.NewVBox(s.problem, container.NewHBox(layout.NewSpacer(), s.mergeBtn)), nil, nil, s.merge)
	s.form = container.NewVSplit(
		container.NewBorder(container.NewVBox(s.heading, s.legend), nil, nil, nil, s.leafGrid),
		s.mergeBox)
	s.empty = widget.NewLabelWithStyle("Select a document in conflict.", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	s.detail = container.NewStack(container.NewCenter(s.empty))

	s.status.Wrapping = fyne.TextWrapWord
	s.resolved = newResolvedPane(u)
	s.tabs = container.NewAppTabs(
		container.NewTabItem("Open", container.NewBorder(nil, s.status, nil, nil, s.list)),
		container.NewTabItem("Resolved", container.NewBorder(nil, s.resolved.status, nil, nil, s.resolved.list)))
	s.resolved.loaded = func(n int) { s.setTabTitle(1, "Resolved", n) }
	s.main = container.NewStack(s.detail)
	s.tabs.OnSelected = func(*container.TabItem) { s.showTab() }
	left := container.NewBorder(widget.NewLabelWithStyle("Conflicts", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, nil, nil, s.tabs)
	split := container.NewHSplit(left, s.main)
	split.Offset = 0.3
	s.content = split
	return s
}

func (s *conflictsScreen) view() fyne.CanvasObject { return s.content }

func (s *conflictsScreen) shown() {
	s.reload.trigger()
	s.resolved.reload.trigger()
}

// refresh rescans when the screen is in view; scanning every database is
// not free, so it waits until the user looks otherwise.
func (s *conflictsScreen) refresh() {
	if s.u.current == navConflicts {
		s.shown()
	}
}

// setTabTitle counts what a tab lists in its title, so a record waiting
// behind the other tab shows.
func (s *conflictsScreen) setTabTitle(i int, name string, n int) {
	title := name
	if n > 0 {
		title = fmt.Sprintf("%s (%d)", name, n)
	}
	if s.tabs.Items[i].Text != title {
		s.tabs.Items[i].Text = title
		s.tabs.Refresh()
	}
}

// showTab puts the detail of the tab in front beside the lists.
func (s *conflictsScreen) showTab() {
	detail := s.detail
	if s.tabs.SelectedIndex() == 1 {
		detail = s.resolved.detail
	}
	s.main.Objects = []fyne.CanvasObject{detail}
	s.main.Refresh()
}

func (s *conflictsScreen) load() func() {
	refs, err := findConflicts(s.u.eng)
	return func() {
		if err != nil {
			s.status.SetText("Could not look for conflicts: " + err.Error())
			return
		}
		s.refs = refs
		s.list.Refresh()
		s.setTabTitle(0, "Open", len(refs))
		switch len(refs) {
		case 0:
			s.status.SetText("No conflicts")
		case 1:
			s.status.SetText("1 document in conflict")
		default:
			s.status.SetText(fmt.Sprintf("%d documents in conflict", len(refs)))
		}
		if s.selected == nil {
			s.list.UnselectAll()
			return
		}
		for i, r := range refs {
			if r == *s.selected {
				s.list.Select(i) // no-op when already selected
				s.loadDetail()
				return
			}
		}
		s.list.UnselectAll()
		s.clearDetail("“" + s.selected.ID + "” is no longer in conflict.")
	}
}

func (s *conflictsScreen) clearDetail(note string) {
	s.selected, s.coll, s.leaves, s.keepBtns = nil, nil, nil, nil
	s.empty.SetText(note)
	s.detail.Objects = []fyne.CanvasObject{container.NewCenter(s.empty)}
	s.detail.Refresh()
}

type conflictDetail struct {
	coll Collection
	doc  *syncengine.Document
}

// loadDetail reads the selected document's competing leaves.
func (s *conflictsScreen) loadDetail() {
	ref := *s.selected
	call(s.u.run, func() (conflictDetail, error) {
		db, err := s.u.eng.OpenDatabase(ref.Database)
		if err != nil {
			return conflictDetail{}, err
		}
		c, err := db.Collection(ref.Collection)
		if err != nil {
			return conflictDetail{}, err
		}
		d, err := c.GetWithTombstone(ref.ID)
		return conflictDetail{c, d}, err
	}, func(cd conflictDetail, err error) {
		if s.selected == nil || *s.selected != ref {
			return // the selection moved on
		}
		switch {
		case err != nil:
			s.clearDetail("")
			showError(s.u.win, "read “"+ref.ID+"”", err)
		case !cd.doc.Conflicted:
			s.clearDetail("“" + ref.ID + "” is no longer in conflict.")
		default:
			s.showLeaves(ref, cd)
		}
	})
}

func (s *conflictsScreen) showLeaves(ref conflictRef, cd conflictDetail) {
	s.coll, s.leaves = cd.coll, liveLeaves(cd.doc)
	diff := differingKeys(leafBodies(s.leaves))
	s.heading.SetText(fmt.Sprintf("%s — %d competing revisions", ref, len(s.leaves)))
	s.leafGrid.Layout = layout.NewGridLayoutWithColumns(max(len(s.leaves), 1))
	s.leafGrid.Objects = nil
	s.keepBtns = nil
	for _, l := range s.leaves {
		title := "Revision " + l.Rev
		if l.Winner {
			title += " (current winner)"
		}
		keep := widget.NewButtonWithIcon("Keep this revision", theme.ConfirmIcon(), func() { s.askKeep(l) })
		s.keepBtns = append(s.keepBtns, keep)
		heading := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		heading.Truncation = fyne.TextTruncateEllipsis
		var top fyne.CanvasObject = heading
		if l.Version != "" {
			version := widget.NewLabel("Version " + l.Version)
			version.Truncation = fyne.TextTruncateEllipsis
			top = container.NewVBox(heading, version)
		}
		// Each body scrolls on its own so long values never push the
		// other revisions off screen.
		card := container.NewBorder(top, keep, nil, nil, container.NewScroll(leafText(l.Body, diff)))
		s.leafGrid.Objects = append(s.leafGrid.Objects, card)
	}
	s.leafGrid.Refresh()
	s.merge.SetText(prettyJSON(s.leaves[0].Body))
	s.validateMerge()
	s.detail.Objects = []fyne.CanvasObject{s.form}
	s.detail.Refresh()
}

// leafText renders a body member by member, the differing ones highlighted.
func leafText(body []byte, diff map[string]bool) *widget.RichText {
	blocks, ok := objectBlocks(body)
	if !ok {
		return widget.NewRichTextWithText(prettyJSON(body))
	}
	mono := fyne.TextStyle{Monospace: true}
	segs := []widget.RichTextSegment{&widget.TextSegment{Text: "{", Style: widget.RichTextStyle{TextStyle: mono}}}
	for i, b := range blocks {
		text := b.Text
		if i < len(blocks)-1 {
			text += ","
		}
		style := widget.RichTextStyle{TextStyle: mono}
		if diff[b.Key] {
			// Colour plus a marker in the indent, so the difference shows
			// without colour too. (Bold monospace has no font of its own.)
			style.ColorName = theme.ColorNameWarning
			text = "*" + text[1:]
		}
		segs = append(segs, &widget.TextSegment{Text: text, Style: style})
	}
	segs = append(segs, &widget.TextSegment{Text: "}", Style: widget.RichTextStyle{TextStyle: mono}})
	return widget.NewRichText(segs...)
}

// askKeep confirms picking a leaf: the others get tombstones, which
// replicate like any other change.
func (s *conflictsScreen) askKeep(l conflictLeaf) {
	ref := *s.selected
	d := dialog.NewConfirm("Keep this revision?",
		fmt.Sprintf("Keep revision %s of “%s” and delete the %d other revisions? The resolution replicates to peers.", l.Rev, ref.ID, len(s.leaves)-1),
		func(ok bool) {
			s.confirm = nil
			if ok {
				s.resolve(ref, l.Rev, nil)
			}
		}, s.u.win)
	d.SetConfirmText("Keep it")
	d.Show()
	s.confirm = d
}

func (s *conflictsScreen) validateMerge() {
	err := checkBody(s.merge.Text)
	problem := ""
	if err != nil {
		problem = err.Error()
	}
	setMessage(s.problem, s.mergeBox, problem)
	enable(s.mergeBtn, err == nil && len(s.leaves) > 0)
}

// saveMerge saves the edited body on top of the current winner.
func (s *conflictsScreen) saveMerge() {
	if s.selected == nil || len(s.leaves) == 0 || checkBody(s.merge.Text) != nil {
		return
	}
	s.resolve(*s.selected, s.leaves[0].Rev, []byte(s.merge.Text))
}

func (s *conflictsScreen) resolve(ref conflictRef, winner string, merged []byte) {
	coll := s.coll
	s.mergeBtn.Disable()
	call(s.u.run, func() (*syncengine.Document, error) { return coll.Resolve(ref.ID, winner, merged) },
		func(_ *syncengine.Document, err error) {
			if err != nil {
				s.validateMerge()
				showError(s.u.win, "resolve “"+ref.ID+"”", err)
				return
			}
			s.list.UnselectAll()
			s.clearDetail("Resolved " + ref.String() + ".")
			s.reload.trigger()
		})
}
