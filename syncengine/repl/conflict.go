package repl

import (
	"fmt"

	"peersync/syncengine/hlv"
	"peersync/syncengine/revtree"
	"peersync/syncengine/store"
)

// Revision is one side of a conflict.
type Revision struct {
	RevID   string
	Body    []byte // JSON; nil for a tombstone
	Deleted bool
	// Vector is the revision's version vector over CBMobile_4; zero over
	// CBMobile_3.
	Vector hlv.Vector
	// Rule, in a resolver's answer, says in a few words why it won ("newer
	// edit wins"); it is recorded with the resolution. Empty: the
	// resolution is recorded as the custom resolver's.
	Rule string
}

// Conflict is a document whose local winner and a pulled revision are on
// different branches.
type Conflict struct {
	Collection string
	DocID      string
	Local      Revision
	Remote     Revision
}

// ConflictResolver picks the resolved revision: return c.Local, c.Remote,
// or a new Revision with a merged Body (or Deleted set). An error leaves
// the conflict in place and is reported as a document error.
type ConflictResolver func(c Conflict) (Revision, error)

// Rules that DefaultResolver, LocalWins and RemoteWins give (Revision.Rule).
const (
	RuleDeletionWins  = "deletion wins"
	RuleNewerEditWins = "newer edit wins"
	RuleTieLocalWins  = "same time: local edit wins"
	RuleMoreEditsWin  = "edit with the longer history wins"
	RuleRevIDWins     = "same history length: higher revision ID wins"
	RuleLocalWins     = "local wins"
	RuleRemoteWins    = "remote wins"
	RuleCustom        = "custom resolver"
	RuleCustomMerge   = "merged by custom resolver"
)

// DefaultResolver is Couchbase Lite's rule for the protocol spoken. Over
// CBMobile_4 it is Couchbase Lite 4's: last writer wins by the current
// versions' clocks, a deletion winning over a live revision, the local side
// on a tie. Over CBMobile_3: a deletion wins; otherwise the higher
// generation (the longer edit history, which need not be the newer edit)
// wins, ties broken by the greater revision ID.
func DefaultResolver(c Conflict) (Revision, error) {
	won := func(r Revision, rule string) (Revision, error) {
		r.Rule = rule
		return r, nil
	}
	if !isLegacy(c.Local.Vector) && !isLegacy(c.Remote.Vector) {
		rule := RuleNewerEditWins
		switch {
		case c.Local.Deleted != c.Remote.Deleted:
			rule = RuleDeletionWins
		case c.Local.Vector.Current.Time == c.Remote.Vector.Current.Time:
			rule = RuleTieLocalWins
		}
		if hlv.LastWriteWins(c.Local.Vector, c.Local.Deleted, c.Remote.Vector, c.Remote.Deleted) {
			return won(c.Remote, rule)
		}
		return won(c.Local, rule)
	}
	rule := RuleMoreEditsWin
	if revtree.Generation(c.Remote.RevID) == revtree.Generation(c.Local.RevID) {
		rule = RuleRevIDWins
	}
	switch {
	case c.Remote.Deleted:
		return won(c.Remote, RuleDeletionWins)
	case c.Local.Deleted:
		return won(c.Local, RuleDeletionWins)
	case revtree.CompareRevIDs(c.Remote.RevID, c.Local.RevID) >= 0:
		return won(c.Remote, rule)
	}
	return won(c.Local, rule)
}

// LocalWins keeps the local revision.
func LocalWins(c Conflict) (Revision, error) {
	r := c.Local
	r.Rule = RuleLocalWins
	return r, nil
}

// RemoteWins keeps the pulled revision.
func RemoteWins(c Conflict) (Revision, error) {
	r := c.Remote
	r.Rule = RuleRemoteWins
	return r, nil
}

// resolveAll runs the resolver for each conflict and saves the outcome on
// top of the remote revision, tombstoning the local branch, so that pushing
// it back is a plain update for the peer.
func (r *receiver) resolveAll(conflicts []conflict) {
	for _, c := range conflicts {
		if err := r.resolve(c); err != nil {
			r.s.emit(DocEvent{Collection: c.coll, DocID: c.id, RevID: c.remote, Err: fmt.Errorf("conflict not resolved: %w", err)})
		}
	}
}

func (r *receiver) resolve(c conflict) error {
	var cf Conflict
	err := r.s.db.View(func(tx *store.Tx) error {
		d, err := tx.Get(c.coll, c.id)
		if err != nil {
			return err
		}
		local, okL := d.Tree.Get(c.local)
		remote, okR := d.Tree.Get(c.remote)
		if !okL || !okR || !d.Tree.IsLeaf(c.local) || !d.Tree.IsLeaf(c.remote) {
			return errStale
		}
		cf = Conflict{Collection: c.coll, DocID: c.id,
			Local:  Revision{RevID: local.ID, Body: bodyOf(local), Deleted: local.Deleted},
			Remote: Revision{RevID: remote.ID, Body: bodyOf(remote), Deleted: remote.Deleted}}
		if r.s.opts.VersionVectors {
			cf.Local.Vector, cf.Remote.Vector = d.VectorOf(local.ID), d.VectorOf(remote.ID)
		}
		return nil
	})
	if err == errStale {
		return nil // already resolved or superseded
	}
	if err != nil {
		return err
	}
	res, err := r.s.act.ConflictResolver(cf)
	if err != nil {
		return err
	}
	return r.s.db.Update(func(tx *store.Tx) error {
		var d *store.Document
		var err error
		if r.s.opts.VersionVectors {
			d, err = resolveOnLocal(tx, c, cf, res)
		} else {
			var merged []byte
			if res.RevID != cf.Remote.RevID {
				merged = res.Body
				if merged == nil {
					merged = []byte("{}")
				}
			}
			d, err = tx.Resolve(c.coll, c.id, c.remote, merged, res.Deleted)
		}
		if err != nil {
			return err
		}
		rec := resolutionRecord(cf, res, d)
		return tx.RecordResolution(&rec)
	})
}

// resolutionRecord describes a resolution that left the document at d.
// The loser is the side that did not win; for a merge, the local side,
// whose body the merge replaced here.
func resolutionRecord(cf Conflict, res Revision, d *store.Document) store.Resolution {
	loser, rule := cf.Local, res.Rule
	switch res.RevID {
	case cf.Local.RevID:
		loser = cf.Remote
	case cf.Remote.RevID:
	default:
		if rule == "" {
			rule = RuleCustomMerge
		}
	}
	if rule == "" {
		rule = RuleCustom
	}
	return store.Resolution{Collection: cf.Collection, DocID: cf.DocID, Rule: rule,
		Winner: d.RevID, WinnerDeleted: d.Deleted,
		Loser: loser.RevID, LoserDeleted: loser.Deleted, LoserBody: loser.Body}
}

var errStale = fmt.Errorf("conflict no longer current")

// resolveOnLocal saves a resolution made over CBMobile_4 on top of the
// local branch. The peer compares vectors, so the tree's shape means
// nothing to it, but peers that sync with us over CBMobile_3 may hold the
// local branch and can take the outcome only as its descendant. A remote
// revision that wins unchanged keeps its version, so the peer is not sent
// it back as new.
func resolveOnLocal(tx *store.Tx, c conflict, cf Conflict, res Revision) (*store.Document, error) {
	switch {
	case res.RevID == cf.Remote.RevID:
		return tx.ResolveOnto(c.coll, c.id, c.local, c.remote)
	case res.RevID == cf.Local.RevID:
		return tx.Resolve(c.coll, c.id, c.local, nil, false)
	}
	merged := res.Body
	if merged == nil {
		merged = []byte("{}")
	}
	return tx.Resolve(c.coll, c.id, c.local, merged, res.Deleted)
}

func bodyOf(r revtree.Rev) []byte {
	if r.Deleted {
		return nil
	}
	return r.Body
}
