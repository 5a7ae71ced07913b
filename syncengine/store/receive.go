package store

import (
	"errors"
	"fmt"
	"slices"

	"peersync/syncengine/hlv"
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
