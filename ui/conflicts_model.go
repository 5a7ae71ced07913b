package ui

import (
	"slices"

	"peersync/syncengine"
)

// conflictRef names one document in conflict.
type conflictRef struct{ Database, Collection, ID string }

func (r conflictRef) String() string {
	if r.Collection == syncengine.DefaultCollection {
		return r.Database + " › " + r.ID
	}
	return r.Database + " › " + r.Collection + " › " + r.ID
}

// findConflicts lists the documents in conflict in every collection of
// every database.
func findConflicts(eng Engine) ([]conflictRef, error) {
	names, err := eng.DatabaseNames()
	if err != nil {
		return nil, err
	}
	var refs []conflictRef
	for _, name := range names {
		db, err := eng.OpenDatabase(name)
		if err != nil {
			continue // the Databases screen shows why
		}
		colls, err := db.Collections()
		if err != nil {
			return nil, err
		}
		for _, cn := range colls {
			c, err := db.Collection(cn)
			if err != nil {
				return nil, err
			}
			ids, err := c.Conflicts()
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				refs = append(refs, conflictRef{name, cn, id})
			}
		}
	}
	return refs, nil
}

// conflictLeaf is one competing live revision.
type conflictLeaf struct {
	Rev     string
	Version string // its current version; "" for a legacy revision
	Body    []byte
	Winner  bool // the engine's current choice
}

// liveLeaves returns the document's live leaves, the current winner first.
func liveLeaves(d *syncengine.Document) []conflictLeaf {
	var leaves []conflictLeaf
	for _, r := range d.Tree.Leaves() {
		if r.Deleted {
			continue
		}
		body := r.Body
		if body == nil {
			body = []byte("{}")
		}
		leaf := conflictLeaf{Rev: r.ID, Body: body, Winner: r.ID == d.RevID}
		if v := d.VectorOf(r.ID); !v.IsZero() && !v.Current.IsLegacy() {
			leaf.Version = v.Current.String()
		}
		leaves = append(leaves, leaf)
	}
	slices.SortStableFunc(leaves, func(a, b conflictLeaf) int {
		switch {
		case a.Winner == b.Winner:
			return 0
		case a.Winner:
			return -1
		}
		return 1
	})
	return leaves
}

// leafBodies returns the leaves' bodies for differingKeys.
func leafBodies(leaves []conflictLeaf) [][]byte {
	bodies := make([][]byte, len(leaves))
	for i, l := range leaves {
		bodies[i] = l.Body
	}
	return bodies
}
