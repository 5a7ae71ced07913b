package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"peersync/syncengine"
)

// pullConflicts makes "a" and "b" in db and on a peer separately, then
// pulls once: each is a conflict the replication resolves on its own,
// recording the revision that lost.
func pullConflicts(t *testing.T, h *harness, db *syncengine.Database) {
	t.Helper()
	l := peerListener(t, "notes", false)
	peerDB := l.Config().Database
	for _, id := range []string{"a", "b"} {
		save(t, db, id, "", `{"from":"here","id":"`+id+`"}`)
		save(t, peerDB, id, "", `{"from":"peer","id":"`+id+`"}`)
	}
	r, err := h.e.NewReplicator(syncengine.ReplicatorConfig{Database: db, Target: l.URLs()[0], Type: syncengine.Pull})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	if err := r.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rs, err := db.Resolutions(0); err != nil || len(rs) != 2 {
		t.Fatalf("setup: %d resolutions recorded (%v); want 2", len(rs), err)
	}
}

// A replication's automatic resolutions show under Conflicts › Resolved as
// they happen, with the rule and the losing body; restoring one makes the
// loser current, dismissing one forgets it.
func TestResolvedConflictsCanBeRestoredOrDismissed(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	s := h.u.conflicts
	h.u.show(navConflicts)
	h.settle()
	if s.tabs.Items[1].Text != "Resolved" {
		t.Errorf("tab before any resolution: %q", s.tabs.Items[1].Text)
	}
	pullConflicts(t, h, db)
	// The ConflictResolved events reload the tab, though no one looks at it.
	h.waitFor("the resolutions to be listed", func() bool { return len(s.resolved.refs) == 2 })
	if got := s.tabs.Items[1].Text; got != "Resolved (2)" {
		t.Errorf("tab title %q; want Resolved (2)", got)
	}
	s.tabs.SelectIndex(1)
	h.settle()
	if s.main.Objects[0] != s.resolved.detail {
		t.Fatal("the Resolved tab does not show its detail")
	}

	p := s.resolved
	byDoc := map[string]int{}
	for i, r := range p.refs {
		byDoc[r.DocID] = i
	}
	p.list.Select(byDoc["a"])
	h.settle()
	rec := *p.selected
	if !strings.Contains(p.info.Text, "by the rule “"+rec.Rule+"”") || rec.Rule == "" ||
		!strings.Contains(p.info.Text, "revision "+rec.Winner) || !strings.Contains(p.info.Text, "revision "+rec.Loser) {
		t.Errorf("detail says %q; want the rule, the kept and the losing revision", p.info.Text)
	}
	cur, err := db.DefaultCollection().Get("a")
	if err != nil {
		t.Fatal(err)
	}
	loserFrom := "peer"
	if strings.Contains(string(cur.Body), `"peer"`) {
		loserFrom = "here"
	}
	if !strings.Contains(p.body.Text, `"from": "`+loserFrom+`"`) {
		t.Errorf("losing body shown as %q; want the %s edit", p.body.Text, loserFrom)
	}

	test.Tap(p.restoreBtn)
	if p.confirm == nil {
		t.Fatal("restore asks no confirmation")
	}
	p.confirm.Confirm()
	h.settle()
	d, err := db.DefaultCollection().Get("a")
	if err != nil || !strings.Contains(string(d.Body), `"from":"`+loserFrom+`"`) || d.Conflicted {
		t.Errorf("after restore: %v (%v); want the losing body current", d, err)
	}
	if !strings.HasPrefix(p.empty.Text, "Restored “a”: it is now at revision "+d.RevID) {
		t.Errorf("after restore the pane says %q", p.empty.Text)
	}
	if len(p.refs) != 1 || p.refs[0].DocID != "b" {
		t.Errorf("after restore the list is %+v; want only b", p.refs)
	}

	before, _ := db.DefaultCollection().Get("b")
	p.list.Select(0)
	h.settle()
	test.Tap(p.dismissBtn)
	p.confirm.Confirm()
	h.settle()
	after, _ := db.DefaultCollection().Get("b")
	if after.RevID != before.RevID {
		t.Errorf("dismiss changed b from %s to %s", before.RevID, after.RevID)
	}
	if rs, _ := db.Resolutions(0); len(rs) != 0 || len(p.refs) != 0 || s.tabs.Items[1].Text != "Resolved" {
		t.Errorf("after dismissing: %d records, %d listed, tab %q", len(rs), len(p.refs), s.tabs.Items[1].Text)
	}
	if !strings.Contains(p.status.Text, "No conflicts were resolved automatically") {
		t.Errorf("status %q", p.status.Text)
	}
}

func TestLoserTextCutsLargeBodies(t *testing.T) {
	big := `{"x":"` + strings.Repeat("y", maxShownLoser*2) + `"}`
	got := loserText(syncengine.Resolution{LoserBody: []byte(big)})
	if len(got) > maxShownLoser+200 || !strings.Contains(got, "the first 64.0 KiB of 128.0 KiB") {
		t.Errorf("a %d-byte body shown as %d bytes ending %q", len(big), len(got), got[len(got)-80:])
	}
	if got := loserText(syncengine.Resolution{LoserDeleted: true}); !strings.Contains(got, "deletion") {
		t.Errorf("a deleted loser shown as %q", got)
	}
}
