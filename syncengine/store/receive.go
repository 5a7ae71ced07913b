package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"peersync/syncengine/hlv"
	"peersync/syncengine/revtree"
)

// Relation is how a revision received with a version vector relates to what
// the store holds for its document.
type Relation int

const (
	Unknown     Relation = iota // the store has no such document
	HaveIt                      // the store already includes the incoming revision (same or newer)
	FastForward                 // the incoming revision includes the current winner: store it
	Concurrent                  // neither includes the other: a conflict
)

func (r Relation) String() string {
	return [...]string{"unknown", "have it", "fast-forward", "conflict"}[r]
}

// CompareVersion says how a revision received with vector incoming relates
// to the winner of document id: what a passive side answers to a v4
// proposeChanges (HaveIt 304, Concurrent 409) and a puller to v4 changes.
// legacy are the revision IDs a peer sent after the versions: naming the
// winner's revision ID, they make incoming its descendant, as a legacy
// revision ID and its legacy version are the same revision. Two legacy
// versions of the same generation conflict (hlv.Dominates needs an exact
// match for legacy versions).
func (tx *Tx) CompareVersion(coll, id string, incoming hlv.Vector, legacy ...string) (Relation, error) {
	if incoming.IsZero() {
		return 0, fmt.Errorf("compare %q: %w", id, hlv.ErrInvalid)
	}
	d, err := tx.Get(coll, id)
	if errors.Is(err, ErrNotFound) {
		if _, cerr := tx.coll(coll); cerr != nil {
			return 0, cerr
		}
		return Unknown, nil
	}
	if err != nil {
		return 0, err
	}
	return d.relation(incoming, legacy), nil
}

func (d *Document) relation(incoming hlv.Vector, legacy []string) Relation {
	local := d.Vector
	if !local.IsZero() {
		switch hlv.Compare(local, incoming) {
		case hlv.Same, hlv.Newer:
			return HaveIt
		case hlv.Older:
			return FastForward
		}
	}
	if d.has(incoming.Current) {
		return HaveIt
	}
	if slices.Contains(legacy, d.RevID) {
		return FastForward
	}
	return Concurrent
}

// has reports whether the store holds revision x of d other than through
// the winner's vector: as the current version recorded for any revision, or
// as the legacy version of a revision ID in the tree.
func (d *Document) has(x hlv.Version) bool {
	for _, rv := range d.vectors {
		if rv.vec.Current == x {
			return true
		}
	}
	if !x.IsLegacy() {
		return false
	}
	for _, r := range d.Tree.Revs() {
		if v, err := hlv.LegacyVersion(r.ID); err == nil && v == x {
			return true
		}
	}
	return false
}

// PutVersioned stores a revision received from a peer with its version
// vector vec (legacy: the revision IDs the peer sent after the versions). It
// reports false, writing nothing, when the store already has the revision,
// and refuses a conflict with ErrConflict, writing nothing, since a passive
// side answers 409 and only the active side resolves.
//
// The revision becomes a child of the winner in the revision tree (or, when
// legacy's newest revision the tree has is a leaf, of that one), with the ID that
// revtree.NewRevID derives from the parent's ID, the deleted flag and the
// body, as Sync Gateway derives the IDs of v4 writes: identical content
// under an identical parent gets an identical ID on every peer. Its vector
// is vec plus every local entry newer than vec's for its source
// (hlv.FastForward; a legacy winner adds nothing, the tree holds it), and the clock sees vec's current version in this
// transaction. A tombstone's body is "{}" when none is given.
func (tx *Tx) PutVersioned(coll, id string, body []byte, deleted bool, vec hlv.Vector, legacy []string) (bool, *Document, error) {
	if err := ValidateDocID(id); err != nil {
		return false, nil, err
	}
	if err := vec.Validate(); err != nil {
		return false, nil, fmt.Errorf("document %q: %w", id, err)
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	body, err := normalizeBody(bytes.Clone(body), tx.db.opts.MaxBodySize, "_attachments")
	if err != nil {
		return false, nil, err
	}
	d, err := tx.Get(coll, id)
	rel := Unknown
	switch {
	case errors.Is(err, ErrNotFound):
		if _, err := tx.coll(coll); err != nil {
			return false, nil, err
		}
		d = &Document{Collection: coll, ID: id}
	case err != nil:
		return false, nil, err
	default:
		rel = d.relation(vec, legacy)
	}
	switch rel {
	case HaveIt:
		return false, d, nil
	case Concurrent:
		return false, nil, fmt.Errorf("%w: document %q is at %s, which %s does not include", ErrConflict, id, d.Vector.Current, vec.Current)
	}
	parent := d.RevID
	// legacy is newest first: the first revision the tree has is where the
	// peer's history meets ours. Only a leaf can take a child; otherwise
	// the vector's fast-forward continues the winner.
	for _, rev := range legacy {
		if d.Tree.Contains(rev) {
			if d.Tree.IsLeaf(rev) {
				parent = rev
			}
			break
		}
	}
	if err := tx.See(vec.Current); err != nil {
		return false, nil, fmt.Errorf("document %q: %w", id, err)
	}
	before := *d
	local := d.Vector
	if local.Current.IsLegacy() {
		// The tree already records that revision as the parent; a legacy
		// version in pv would say it twice.
		local = hlv.Vector{}
	}
	r, err := d.Tree.AddChild(parent, deleted, body)
	if err != nil {
		return false, nil, fmt.Errorf("%w: document %q: %v", ErrConflict, id, err)
	}
	d.setVector(r.ID, hlv.FastForward(vec, local))
	return true, d, tx.write(&before, d)
}

// RevOfVersion returns the revision of d whose version is x: the one whose
// recorded vector has x as its current version, or the one whose legacy
// version x is. A peer names revisions this way in deltaSrc and in what it
// says it has.
func (d *Document) RevOfVersion(x hlv.Version) (string, bool) {
	for _, rv := range d.vectors {
		if rv.vec.Current == x && d.Tree.Contains(rv.rev) {
			return rv.rev, true
		}
	}
	if !x.IsLegacy() {
		return "", false
	}
	for _, r := range d.Tree.Revs() {
		if v, err := hlv.LegacyVersion(r.ID); err == nil && v == x {
			return r.ID, true
		}
	}
	return "", false
}

// PutConflicting stores a revision received from a peer that conflicts with
// the winner (PutVersioned refused it), so that the active side can resolve
// the conflict with Resolve. The revision becomes the winner's sibling in
// the tree, with vector vec; it returns the revision's ID.
func (tx *Tx) PutConflicting(coll, id string, body []byte, deleted bool, vec hlv.Vector) (string, error) {
	if err := vec.Validate(); err != nil {
		return "", fmt.Errorf("document %q: %w", id, err)
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	body, err := normalizeBody(bytes.Clone(body), tx.db.opts.MaxBodySize, "_attachments")
	if err != nil {
		return "", err
	}
	d, err := tx.Get(coll, id)
	if err != nil {
		return "", err
	}
	if err := tx.See(vec.Current); err != nil {
		return "", fmt.Errorf("document %q: %w", id, err)
	}
	before := *d
	before.Tree = d.Tree.Clone()
	history := d.Tree.History(d.RevID, 2)[1:] // the winner's parent, if any
	parent := ""
	if len(history) > 0 {
		parent = history[0]
	}
	rev := revtree.NewRevID(parent, deleted, body)
	if _, err := d.Tree.Insert(append([]string{rev}, history...), deleted, body); err != nil {
		return "", fmt.Errorf("document %q: %w", id, err)
	}
	d.setVector(rev, vec)
	return rev, tx.write(&before, d)
}
