package revtree

import (
	"errors"
	"fmt"
	"slices"
)

// Errors returned by tree edits.
var (
	ErrNotLeaf    = errors.New("parent revision is not a leaf")
	ErrNoParent   = errors.New("parent revision not found")
	ErrBadHistory = errors.New("invalid revision history")
)

// Rev is one revision in a tree.
type Rev struct {
	ID      string
	Parent  string // "" for a root (or when the parent was pruned)
	Deleted bool
	Body    []byte // JSON body; nil when not kept (pruned ancestors)
}

// Generation returns the revision's generation.
func (r Rev) Generation() int { return Generation(r.ID) }

// Tree is a document's revision tree. The zero value is an empty tree. Copy
// it with Clone: revisions share their body slices, which are never modified.
type Tree struct {
	revs []Rev
}

// Len returns the number of revisions in the tree.
func (t *Tree) Len() int { return len(t.revs) }

// Revs returns the revisions in insertion order. The slice is the caller's.
func (t *Tree) Revs() []Rev { return slices.Clone(t.revs) }

// Clone returns an independent copy.
func (t *Tree) Clone() Tree { return Tree{revs: slices.Clone(t.revs)} }

func (t *Tree) indexOf(id string) int {
	for i := range t.revs {
		if t.revs[i].ID == id {
			return i
		}
	}
	return -1
}

// Get returns the revision with the given ID.
func (t *Tree) Get(id string) (Rev, bool) {
	i := t.indexOf(id)
	if i < 0 {
		return Rev{}, false
	}
	return t.revs[i], true
}

// Contains reports whether the tree has the revision.
func (t *Tree) Contains(id string) bool { return t.indexOf(id) >= 0 }

func (t *Tree) hasChild(id string) bool {
	for i := range t.revs {
		if t.revs[i].Parent == id {
			return true
		}
	}
	return false
}

// IsLeaf reports whether id is in the tree and has no children.
func (t *Tree) IsLeaf(id string) bool { return t.Contains(id) && !t.hasChild(id) }

// Leaves returns the leaf revisions, winner first, then in descending
// winner order.
func (t *Tree) Leaves() []Rev {
	var leaves []Rev
	for _, r := range t.revs {
		if !t.hasChild(r.ID) {
			leaves = append(leaves, r)
		}
	}
	slices.SortFunc(leaves, func(a, b Rev) int { return -compareForWin(a, b) })
	return leaves
}

// compareForWin orders by (not deleted, generation, digest).
func compareForWin(a, b Rev) int {
	if a.Deleted != b.Deleted {
		if a.Deleted {
			return -1
		}
		return 1
	}
	return CompareRevIDs(a.ID, b.ID)
}

// Winner returns the winning leaf; false for an empty tree.
func (t *Tree) Winner() (Rev, bool) {
	var best Rev
	found := false
	for _, r := range t.revs {
		if t.hasChild(r.ID) {
			continue
		}
		if !found || compareForWin(r, best) > 0 {
			best, found = r, true
		}
	}
	return best, found
}

// Conflicted reports whether two or more leaves are live.
func (t *Tree) Conflicted() bool {
	live := 0
	for _, r := range t.revs {
		if !r.Deleted && !t.hasChild(r.ID) {
			live++
		}
	}
	return live > 1
}

// History returns id followed by its ancestors, newest first, at most max
// entries (max ≤ 0 means all).
func (t *Tree) History(id string, max int) []string {
	var h []string
	for i := t.indexOf(id); i >= 0; i = t.indexOf(t.revs[i].Parent) {
		h = append(h, t.revs[i].ID)
		if (max > 0 && len(h) >= max) || t.revs[i].Parent == "" {
			break
		}
	}
	return h
}

// AddChild adds a new revision under parent, which must be a leaf; parent ""
// starts a new root and is allowed only when the tree has no live leaf (a
// new document, or one re-created after deletion: then the new revision
// continues the winning tombstone's branch).
func (t *Tree) AddChild(parent string, deleted bool, body []byte) (Rev, error) {
	if parent == "" {
		if w, ok := t.Winner(); ok {
			if !w.Deleted {
				return Rev{}, fmt.Errorf("%w: document exists", ErrNotLeaf)
			}
			parent = w.ID
		}
	} else if !t.Contains(parent) {
		return Rev{}, fmt.Errorf("%w: %s", ErrNoParent, parent)
	} else if t.hasChild(parent) {
		return Rev{}, fmt.Errorf("%w: %s", ErrNotLeaf, parent)
	}
	r := Rev{ID: NewRevID(parent, deleted, body), Parent: parent, Deleted: deleted, Body: body}
	if t.Contains(r.ID) {
		// Same edit on the same parent: the revision already exists.
		return r, nil
	}
	t.revs = append(t.revs, r)
	return r, nil
}

// Insert adds a revision with its history, as replication delivers it:
// history[0] is the new revision, the rest its ancestors newest first, each
// one generation below the previous. Ancestors the tree lacks are added
// without bodies; the chain attaches to the newest ancestor the tree has (or
// becomes a new root). Returns how many revisions were added: 0 when the tree
// already had history[0].
func (t *Tree) Insert(history []string, deleted bool, body []byte) (int, error) {
	if err := checkHistory(history); err != nil {
		return 0, err
	}
	known := len(history)
	for i, id := range history {
		if t.Contains(id) {
			known = i
			break
		}
	}
	if known == 0 {
		return 0, nil
	}
	for i := known - 1; i >= 0; i-- {
		r := Rev{ID: history[i]}
		if i+1 < len(history) {
			r.Parent = history[i+1]
		}
		if i == 0 {
			r.Deleted, r.Body = deleted, body
		}
		t.revs = append(t.revs, r)
	}
	return known, nil
}

func checkHistory(history []string) error {
	if len(history) == 0 {
		return fmt.Errorf("%w: empty", ErrBadHistory)
	}
	prev := 0
	for i, id := range history {
		gen, _, err := ParseRevID(id)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadHistory, err)
		}
		if i > 0 && gen != prev-1 {
			return fmt.Errorf("%w: %s does not follow %s", ErrBadHistory, id, history[i-1])
		}
		prev = gen
	}
	return nil
}

// SetBody replaces the body kept for a revision (used after resolving or
// when a leaf's body arrives later). It reports whether id exists.
func (t *Tree) SetBody(id string, body []byte) bool {
	i := t.indexOf(id)
	if i < 0 {
		return false
	}
	t.revs[i].Body = body
	return true
}

// Prune removes revisions that are maxDepth or more generations behind
// every leaf that descends from them, and drops the bodies of non-leaf
// revisions except those listed in keep (bodies a peer may need as a delta
// source). It returns the number of revisions removed.
func (t *Tree) Prune(maxDepth int, keep ...string) int {
	if maxDepth <= 0 {
		return 0
	}
	// depth[i] = distance from revision i to its nearest descendant leaf.
	depth := make([]int, len(t.revs))
	for i := range depth {
		depth[i] = -1
	}
	for i, r := range t.revs {
		if t.hasChild(r.ID) {
			continue
		}
		d := 0
		for j := i; j >= 0; j = t.indexOf(t.revs[j].Parent) {
			if depth[j] >= 0 && depth[j] <= d {
				break
			}
			depth[j] = d
			d++
			if t.revs[j].Parent == "" {
				break
			}
		}
	}
	kept := t.revs[:0]
	removed := map[string]bool{}
	for i, r := range t.revs {
		if depth[i] >= maxDepth {
			removed[r.ID] = true
			continue
		}
		if depth[i] > 0 && !slices.Contains(keep, r.ID) {
			r.Body = nil
		}
		kept = append(kept, r)
	}
	for i := range kept {
		if removed[kept[i].Parent] {
			kept[i].Parent = ""
		}
	}
	clear(t.revs[len(kept):])
	t.revs = kept
	return len(removed)
}
