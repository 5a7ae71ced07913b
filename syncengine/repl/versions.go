package repl

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"peersync/syncengine/hlv"
	"peersync/syncengine/store"
)

// What changes over CBMobile_4, where a revision is named by its version
// vector: changes rows and rev messages carry the current version,
// proposeChanges the whole vector, and the known revisions a puller lists
// are versions. Revision IDs remain for revisions that have no vector
// (legacy ones, named as a peer before version vectors named them).

// versioning is the subChanges property a CBMobile_4 puller sends; a
// passive pusher refuses a v4 subChanges that asks for anything else, as
// Couchbase Lite does.
const versioningVectors = "version-vectors"

// wireName is how a revision is named on the wire: its revision ID over
// CBMobile_3; over CBMobile_4 its current version, or still its revision ID
// when it has no vector of its own (made before version vectors, or
// received over CBMobile_3), so that peers place it in their trees.
func (s *Session) wireName(d *store.Document, rev string) string {
	return vectorName(s.opts.VersionVectors, d.VectorOf(rev), rev)
}

func vectorName(v4 bool, vec hlv.Vector, rev string) string {
	if !v4 || isLegacy(vec) {
		return rev
	}
	return vec.Current.String()
}

// isLegacy: the revision has no vector of its own, only its legacy version
// (a legacy current version with earlier versions is a vector: one that a
// CBMobile_3 peer's edit on top of versions got, see store.PutRevision).
func isLegacy(vec hlv.Vector) bool {
	return vec.IsZero() || (vec.Current.IsLegacy() && len(vec.Previous) == 0 && len(vec.Merges) == 0)
}

// parseOffered reads the revision named in a changes row or a
// proposeChanges row over CBMobile_4: a version or a whole vector (its
// current version is the revision), or a legacy revision ID. Times are
// checked as Couchbase Lite checks them.
func parseOffered(s string, now time.Time) (vec hlv.Vector, legacy []string, err error) {
	if hlv.IsRevID(s) {
		return hlv.Vector{}, []string{s}, nil
	}
	vec, legacy, err = hlv.ParseStrict(s, now)
	if err != nil {
		return hlv.Vector{}, nil, fmt.Errorf("invalid version %.80q: %w", s, err)
	}
	return vec, legacy, nil
}

// localRev finds the revision of d that the peer names by a version or a
// revision ID.
func localRev(d *store.Document, name string) (string, bool) {
	if hlv.IsRevID(name) {
		return name, d.Tree.Contains(name)
	}
	v, err := hlv.CurrentOf(name)
	if err != nil {
		return "", false
	}
	return d.RevOfVersion(v)
}

// knownVersions is what a CBMobile_4 puller says it has of d: its current
// version (the delta base) and its revision ID, or only the revision ID
// when d has no vector of its own. Sync Gateway refuses a list with more
// than two entries.
func knownVersions(d *store.Document) []string {
	if isLegacy(d.Vector) {
		return []string{d.RevID}
	}
	return []string{d.Vector.Current.String(), d.RevID}
}

// offerName is how a change's revision is named, read again (for a norev,
// when the revision itself is gone).
func (s *Session) offerName(c store.Change) string {
	name := c.RevID
	s.db.View(func(tx *store.Tx) error {
		if d, err := tx.Get(c.Collection, c.DocID); err == nil {
			name = s.wireName(d, c.RevID)
		}
		return nil
	})
	return name
}

// versionHistory is a CBMobile_4 rev's "history": the vector after its
// current version; for a revision with no vector of its own (a legacy
// version, named by its revision ID), the revision IDs of its ancestors, up to the first the
// peer knows, so that the peer's tree can place it.
func versionHistory(d *store.Document, rev string, known []string, max int) []string {
	vec := d.VectorOf(rev)
	if !isLegacy(vec) {
		if h := vec.History(); h != "" {
			return []string{h}
		}
		return nil
	}
	return treeHistory(d, rev, known, max)
}

// treeHistory is rev's ancestors in the revision tree, newest first, up to
// max of them or to the first the peer knows.
func treeHistory(d *store.Document, rev string, known []string, max int) []string {
	var out []string
	for _, h := range d.Tree.History(rev, max+1)[1:] {
		out = append(out, h)
		if slices.Contains(known, h) {
			break
		}
	}
	return out
}

// knownV4 answers one CBMobile_4 changes row: nil when we have the
// revision, else what we have of the document (knownVersions, or [] for
// none). name is the revision's name as its rev message will carry it.
func (r *receiver) knownV4(tx *store.Tx, coll, id, offered string) (known []string, name string, err error) {
	vec, legacy, err := parseOffered(offered, time.Now())
	if err != nil {
		return nil, "", err
	}
	d, err := tx.Get(coll, id)
	if errors.Is(err, store.ErrNotFound) {
		return []string{}, offeredName(vec, legacy), nil
	}
	if err != nil {
		return nil, "", err
	}
	if vec.IsZero() {
		if d.Tree.Contains(legacy[0]) {
			return nil, legacy[0], nil
		}
		return knownVersions(d), legacy[0], nil
	}
	if _, has := d.RevOfVersion(vec.Current); has || d.Vector.Dominates(vec.Current) {
		return nil, vec.Current.String(), nil
	}
	return knownVersions(d), vec.Current.String(), nil
}

func offeredName(vec hlv.Vector, legacy []string) string {
	if vec.IsZero() {
		return legacy[0]
	}
	return vec.Current.String()
}

// proposedV4 answers one CBMobile_4 proposeChanges row, much as Sync
// Gateway decides: 304 we have it, 0 send it (a new document, its vector
// includes our current version, or the peer's parent is our current
// revision),
// 409 a conflict (with our vector when the peer asked for it), 400 a
// version Couchbase Lite would refuse.
func (r *receiver) proposedV4(tx *store.Tx, coll, id, offered, parent string, withRev bool) any {
	vec, legacy, err := parseOffered(offered, time.Now())
	if err != nil {
		return 400
	}
	d, err := tx.Get(coll, id)
	if err != nil {
		return 0
	}
	if vec.IsZero() { // a legacy revision: the tree decides
		if d.Tree.Contains(legacy[0]) {
			return 304
		}
		if rev, ok := localRev(d, parent); ok && rev == d.RevID {
			return 0
		}
	} else {
		rel, err := tx.CompareVersion(coll, id, vec, legacy...)
		switch {
		case err != nil:
			return 500
		case rel == store.HaveIt:
			return 304
		case rel == store.FastForward, parent != "" && (parent == d.RevID || parent == d.Vector.Current.String()):
			return 0
		}
	}
	if withRev { // our whole vector, as Couchbase Lite answers
		rev := d.RevID
		if !isLegacy(d.Vector) {
			rev = d.Vector.String()
		}
		return map[string]any{"status": 409, "rev": rev}
	}
	return 409
}

// parseVersions reads a CBMobile_4 rev's "rev" and "history": a vector
// (checked as Couchbase Lite checks it) with any revision IDs after it, or
// a legacy revision with its ancestors, saved through the tree as over
// CBMobile_3. The revision's name becomes the canonical one.
func (in *incoming) parseVersions(history string) error {
	vec, legacy, err := hlv.ParseRevHistory(in.rev, history)
	if err == nil && !vec.IsZero() {
		err = vec.CheckTimes(time.Now())
	}
	if err != nil {
		return fmt.Errorf("invalid version: %w", err)
	}
	if vec.IsZero() {
		in.history = legacy
		return nil
	}
	in.vec, in.legacy, in.rev = vec, legacy, vec.Current.String()
	return nil
}

// saveVersioned saves a CBMobile_4 revision in the batch's transaction. A
// conflict is refused with 409 by a passive peer; the active one keeps the
// revision beside its own and returns the conflict to resolve.
func (r *receiver) saveVersioned(tx *store.Tx, in *incoming, before *store.Document) (*conflict, error) {
	active := r.s.isActive()
	_, _, err := tx.PutVersioned(in.coll, in.id, in.body, in.deleted, in.vec, in.legacy)
	var c *conflict
	if errors.Is(err, store.ErrConflict) && active && before != nil {
		var rev string
		if rev, err = tx.PutConflicting(in.coll, in.id, in.body, in.deleted, in.vec); err == nil {
			c = &conflict{in.coll, in.id, before.RevID, rev}
		}
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		in.err = httpError(409, "conflict: %q is at %s, which %s does not include", in.id, before.Vector.Current, in.rev)
		return nil, nil
	case err != nil && badRevision(err):
		in.err = httpError(400, "rev %s of %q: %v", in.rev, in.id, err)
		return nil, nil
	case err != nil:
		return nil, err
	}
	if active {
		if err := tx.SetRemoteRev(in.coll, r.s.act.RemoteID, in.id, in.rev); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// versioning is the subChanges property saying which revisions we expect.
func (s *Session) versioning() string {
	if s.opts.VersionVectors {
		return versioningVectors
	}
	return "rev-trees"
}
