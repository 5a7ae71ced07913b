package revtree

import (
	"errors"
	"slices"
	"testing"
)

// build makes a tree from literal branches, each listed root first, e.g.
// {"1-a", "2-b", "3-c"}. A "*" suffix marks a deleted revision. Every leaf
// gets the body `{"rev":"<id>"}`.
func build(t *testing.T, branches ...[]string) Tree {
	t.Helper()
	var tr Tree
	for _, b := range branches {
		hist := make([]string, len(b))
		deleted := false
		for i, id := range b {
			if id[len(id)-1] == '*' {
				id = id[:len(id)-1]
				if i == len(b)-1 {
					deleted = true
				}
			}
			hist[len(b)-1-i] = id
		}
		if _, err := tr.Insert(hist, deleted, []byte(`{"rev":"`+hist[0]+`"}`)); err != nil {
			t.Fatalf("build %v: %v", b, err)
		}
	}
	return tr
}

func TestWinnerAndConflicts(t *testing.T) {
	tests := []struct {
		name       string
		branches   [][]string
		winner     string
		conflicted bool
		leaves     []string
	}{
		{"single", [][]string{{"1-a"}}, "1-a", false, []string{"1-a"}},
		{"linear", [][]string{{"1-a", "2-b", "3-c"}}, "3-c", false, []string{"3-c"}},
		{"longer branch wins", [][]string{{"1-a", "2-b", "3-c"}, {"1-a", "2-z"}}, "3-c", true, []string{"3-c", "2-z"}},
		{"same generation: greater digest", [][]string{{"1-a", "2-b"}, {"1-a", "2-c"}}, "2-c", true, []string{"2-c", "2-b"}},
		{"live beats longer tombstone", [][]string{{"1-a", "2-b", "3-c*"}, {"1-a", "2-d"}}, "2-d", false, []string{"2-d", "3-c"}},
		{"all deleted: highest tombstone", [][]string{{"1-a", "2-b*"}, {"1-a", "2-c", "3-d*"}}, "3-d", false, []string{"3-d", "2-b"}},
		{"generation compares as number", [][]string{{"9-a", "10-a"}, {"9-a", "10-b"}}, "10-b", true, []string{"10-b", "10-a"}},
		{"two roots", [][]string{{"1-x"}, {"1-y"}}, "1-y", true, []string{"1-y", "1-x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := build(t, tc.branches...)
			w, ok := tr.Winner()
			if !ok || w.ID != tc.winner {
				t.Errorf("winner = %q, want %q", w.ID, tc.winner)
			}
			if got := tr.Conflicted(); got != tc.conflicted {
				t.Errorf("conflicted = %v, want %v", got, tc.conflicted)
			}
			var ids []string
			for _, l := range tr.Leaves() {
				ids = append(ids, l.ID)
			}
			if !slices.Equal(ids, tc.leaves) {
				t.Errorf("leaves = %v, want %v", ids, tc.leaves)
			}
		})
	}
}

func TestInsert(t *testing.T) {
	tr := build(t, []string{"1-a", "2-b"})
	n, err := tr.Insert([]string{"4-d", "3-c", "2-b", "1-a"}, false, []byte(`{}`))
	if err != nil || n != 2 {
		t.Fatalf("Insert = %d, %v; want 2 added", n, err)
	}
	if h := tr.History("4-d", 0); !slices.Equal(h, []string{"4-d", "3-c", "2-b", "1-a"}) {
		t.Errorf("history = %v", h)
	}
	if r, _ := tr.Get("3-c"); r.Body != nil {
		t.Errorf("ancestor 3-c got a body: %s", r.Body)
	}
	if n, err := tr.Insert([]string{"4-d", "3-c"}, false, nil); err != nil || n != 0 {
		t.Errorf("re-insert = %d, %v; want 0, nil", n, err)
	}

	bad := [][]string{
		{},
		{"3-c", "1-a"},       // skips a generation
		{"2-b", "2-a"},       // does not descend
		{"2-b", "3-c"},       // goes backwards
		{"x-b"},              // not a revID
		{"0-a"},              // generation zero
		{"-a"},               // no generation
		{"1-"},               // no digest
		{"99999999999999-a"}, // absurd generation
	}
	for _, h := range bad {
		before := tr.Len()
		if _, err := tr.Insert(h, false, nil); !errors.Is(err, ErrBadHistory) {
			t.Errorf("Insert(%q) error = %v, want ErrBadHistory", h, err)
		}
		if tr.Len() != before {
			t.Errorf("Insert(%q) changed the tree", h)
		}
	}
}

func TestAddChild(t *testing.T) {
	var tr Tree
	r1, err := tr.AddChild("", false, []byte(`{"v":1}`))
	if err != nil || Generation(r1.ID) != 1 {
		t.Fatalf("first = %v, %v", r1, err)
	}
	if _, err := tr.AddChild("", false, []byte(`{"v":1}`)); !errors.Is(err, ErrNotLeaf) {
		t.Errorf("second root on live doc: %v, want ErrNotLeaf", err)
	}
	r2, err := tr.AddChild(r1.ID, false, []byte(`{"v":2}`))
	if err != nil || r2.Parent != r1.ID || Generation(r2.ID) != 2 {
		t.Fatalf("child = %v, %v", r2, err)
	}
	if _, err := tr.AddChild(r1.ID, false, []byte(`{"v":3}`)); !errors.Is(err, ErrNotLeaf) {
		t.Errorf("child of non-leaf: %v, want ErrNotLeaf", err)
	}
	if _, err := tr.AddChild("7-nope", false, nil); !errors.Is(err, ErrNoParent) {
		t.Errorf("child of missing: %v, want ErrNoParent", err)
	}
	// Same edit twice on the same parent gives the same ID and no new revision.
	other := tr.Clone()
	a, _ := tr.AddChild(r2.ID, true, nil)
	b, _ := other.AddChild(r2.ID, true, nil)
	if a.ID != b.ID {
		t.Errorf("deterministic IDs differ: %s vs %s", a.ID, b.ID)
	}
	// Re-creating after deletion continues from the tombstone.
	r4, err := tr.AddChild("", false, []byte(`{"v":4}`))
	if err != nil || r4.Parent != a.ID {
		t.Errorf("re-create = %v, %v; want parent %s", r4, err, a.ID)
	}
}

func TestPrune(t *testing.T) {
	tr := build(t, []string{"1-a", "2-a", "3-a", "4-a", "5-a", "6-a"}, []string{"1-a", "2-a", "3-b"})
	tr.SetBody("5-a", []byte(`{"old":true}`))
	tr.SetBody("4-a", []byte(`{"old":true}`))
	removed := tr.Prune(3, "4-a")
	// Depths: 6-a 0, 5-a 1, 4-a 2, 3-a 3 (gone), 3-b 0, 2-a 1 via 3-b, 1-a 2.
	if removed != 1 || tr.Contains("3-a") {
		t.Fatalf("removed %d, tree %v", removed, tr.Revs())
	}
	if r, _ := tr.Get("4-a"); r.Parent != "" || r.Body == nil {
		t.Errorf("4-a after prune = %+v; want root with kept body", r)
	}
	if r, _ := tr.Get("5-a"); r.Body != nil {
		t.Errorf("5-a kept its body")
	}
	if r, _ := tr.Get("6-a"); r.Body == nil {
		t.Errorf("leaf lost its body")
	}
	if w, _ := tr.Winner(); w.ID != "6-a" {
		t.Errorf("winner after prune = %s", w.ID)
	}
}

func TestHistoryLimit(t *testing.T) {
	tr := build(t, []string{"1-a", "2-a", "3-a", "4-a"})
	if h := tr.History("4-a", 2); !slices.Equal(h, []string{"4-a", "3-a"}) {
		t.Errorf("History(max 2) = %v", h)
	}
	if h := tr.History("9-z", 0); h != nil {
		t.Errorf("History(missing) = %v", h)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	tr := build(t, []string{"1-a", "2-b", "3-c*"}, []string{"1-a", "2-d"})
	tr.SetBody("1-a", []byte{})
	got, err := Decode(tr.AppendBinary(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !equalTrees(tr, got) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got.Revs(), tr.Revs())
	}
	for _, bad := range [][]byte{nil, {5}, {1, 1, 'x', 1, 0}, {2, 1, 'a', 0, 0, 1, 'a', 0, 0}} {
		if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode(%v) error = %v, want ErrCorrupt", bad, err)
		}
	}
}

func equalTrees(a, b Tree) bool {
	return slices.EqualFunc(a.revs, b.revs, func(x, y Rev) bool {
		return x.ID == y.ID && x.Parent == y.Parent && x.Deleted == y.Deleted &&
			(x.Body == nil) == (y.Body == nil) && string(x.Body) == string(y.Body)
	})
}

func TestCompareRevIDs(t *testing.T) {
	if CompareRevIDs("10-a", "9-z") <= 0 || CompareRevIDs("2-a", "2-b") >= 0 || CompareRevIDs("3-q", "3-q") != 0 {
		t.Error("CompareRevIDs order is wrong")
	}
}
