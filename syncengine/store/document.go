package store

import (
	"peersync/syncengine/hlv"
	"peersync/syncengine/revtree"
)

// Document is a stored document as of one transaction.
type Document struct {
	Collection string
	ID         string
	RevID      string // the winning revision
	Deleted    bool   // the winning revision is a tombstone
	Conflicted bool   // two or more live leaves
	Sequence   uint64 // the change-feed sequence of the last write
	Body       []byte // the winning revision's JSON body ("{}" for a tombstone without one)
	Tree       revtree.Tree

	// Vector is the winning revision's version vector (see VectorOf): the
	// one recorded when this database wrote the revision, or its legacy
	// version.
	Vector hlv.Vector

	vectors []revVector // recorded vectors; revisions pruned from Tree are dropped on write
}

// refresh derives the winner fields from the tree.
func (d *Document) refresh() {
	w, _ := d.Tree.Winner()
	d.RevID, d.Deleted, d.Body = w.ID, w.Deleted, w.Body
	if d.Body == nil {
		d.Body = []byte("{}")
	}
	d.Conflicted = d.Tree.Conflicted()
	d.Vector = d.VectorOf(d.RevID)
}

// Change is one entry of a collection's change feed: the latest write to a
// document.
type Change struct {
	Collection string
	Sequence   uint64
	DocID      string
	RevID      string
	Deleted    bool
	Conflicted bool
	BodySize   int
	Purged     bool // the document was purged; it has no entry in the feed
}
