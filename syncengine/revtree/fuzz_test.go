package revtree

import (
	"fmt"
	"testing"
)

// FuzzTreeOps drives a tree through inserts, child edits and prunes chosen
// by the input bytes and checks the invariants after each step.
func FuzzTreeOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{3, 3, 3, 3, 0, 0, 200, 17, 5, 2, 9, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 128 {
			ops = ops[:128] // trees in a store are pruned; keep steps cheap
		}
		var tr Tree
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%4, int(ops[i+1])
			switch op {
			case 0: // insert a branch of generations arg%5+1 .. down to 1
				top := arg%5 + 1
				var h []string
				for g := top; g >= 1; g-- {
					h = append(h, fmt.Sprintf("%d-%c", g, 'a'+byte((arg>>3+g)%3)))
				}
				tr.Insert(h, arg%7 == 0, []byte(`{}`))
			case 1: // extend some leaf
				leaves := tr.Leaves()
				if len(leaves) > 0 {
					tr.AddChild(leaves[arg%len(leaves)].ID, arg%5 == 0, []byte{byte(arg)})
				}
			case 2:
				tr.Prune(arg%6 + 1)
			case 3:
				decoded, err := Decode(tr.AppendBinary(nil))
				if err != nil || !equalTrees(tr, decoded) {
					t.Fatalf("encode round trip failed: %v", err)
				}
			}
			checkInvariants(t, &tr)
		}
	})
}

func checkInvariants(t *testing.T, tr *Tree) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range tr.revs {
		if seen[r.ID] {
			t.Fatalf("duplicate revision %s", r.ID)
		}
		seen[r.ID] = true
		if r.Parent != "" {
			if !tr.Contains(r.Parent) {
				t.Fatalf("%s has missing parent %s", r.ID, r.Parent)
			}
			if Generation(r.Parent) != Generation(r.ID)-1 {
				t.Fatalf("%s has parent %s of the wrong generation", r.ID, r.Parent)
			}
		}
		if h := tr.History(r.ID, 0); len(h) > len(tr.revs) {
			t.Fatalf("history of %s loops", r.ID)
		}
	}
	if w, ok := tr.Winner(); ok {
		if !tr.IsLeaf(w.ID) {
			t.Fatalf("winner %s is not a leaf", w.ID)
		}
		for _, l := range tr.Leaves() {
			if compareForWin(l, w) > 0 {
				t.Fatalf("leaf %s beats winner %s", l.ID, w.ID)
			}
		}
	} else if tr.Len() != 0 {
		t.Fatal("non-empty tree without winner")
	}
}

// FuzzDecode feeds arbitrary bytes to Decode: it must fail cleanly or give
// a tree whose re-encoding decodes to the same tree.
func FuzzDecode(f *testing.F) {
	var tr Tree
	tr.Insert([]string{"2-b", "1-a"}, false, []byte(`{"x":1}`))
	f.Add(tr.AppendBinary(nil))
	f.Add([]byte{2, 1, 'a', 0, 0, 1, 'b', 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Decode(data)
		if err != nil {
			return
		}
		again, err := Decode(tr.AppendBinary(nil))
		if err != nil || !equalTrees(tr, again) {
			t.Fatalf("re-decode differs: %v", err)
		}
		tr.Winner()
		for i, r := range tr.revs {
			if len(tr.History(r.ID, 0)) > tr.Len() {
				t.Fatal("history loops")
			}
			if at, ok, err := IndexOf(data, r.ID); err != nil || !ok || at != i {
				t.Fatalf("IndexOf(%q) = %d, %v, %v; Decode has it at %d", r.ID, at, ok, err, i)
			}
		}
		if _, ok, _ := IndexOf(data, "0-not-a-revision"); ok {
			t.Fatal("IndexOf found a revision the tree does not have")
		}
	})
}
