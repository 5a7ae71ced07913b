package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"peersync/syncengine/hlv"
	"peersync/syncengine/revtree"
)

// Tx is a transaction. It and everything read through it are valid only
// until the function given to View or Update returns, except values the
// methods document as copies.
type Tx struct {
	btx       *bolt.Tx
	db        *DB
	writable  bool
	changes   []Change
	resolved  []Resolution // recorded resolutions, told after the commit
	clockUsed bool         // the clock moved: Update saves it before committing
}

func (tx *Tx) coll(name string) (*bolt.Bucket, error) {
	b := tx.btx.Bucket(bucketColls).Bucket([]byte(name))
	if b == nil {
		return nil, fmt.Errorf("collection %q: %w", name, ErrNotFound)
	}
	return b, nil
}

// NewVersion issues a version for a local write: this database's source at
// a time later than any it has issued or seen. The clock's new time is saved
// with the transaction.
func (tx *Tx) NewVersion() (hlv.Version, error) {
	if !tx.writable {
		return hlv.Version{}, fmt.Errorf("new version: %w", berrors.ErrTxNotWritable)
	}
	tx.clockUsed = true
	return hlv.Version{Time: tx.db.clock.Now(), Source: tx.db.source}, nil
}

// See advances the clock past a version received from a peer, so the next
// local version is newer. It refuses a time Couchbase Lite would refuse
// (see hlv.CheckTime) and then leaves the clock as it was.
func (tx *Tx) See(v hlv.Version) error {
	if !tx.writable {
		return fmt.Errorf("see version: %w", berrors.ErrTxNotWritable)
	}
	if err := tx.db.clock.See(v); err != nil {
		return err
	}
	tx.clockUsed = true
	return nil
}

// Collections lists the collection names, sorted.
func (tx *Tx) Collections() []string {
	var names []string
	tx.btx.Bucket(bucketColls).ForEachBucket(func(k []byte) error {
		names = append(names, string(k))
		return nil
	})
	return names
}

// CreateCollection adds an empty collection.
func (tx *Tx) CreateCollection(name string) error {
	if err := ValidateCollectionName(name); err != nil {
		return err
	}
	return tx.createCollection(name)
}

func (tx *Tx) createCollection(name string) error {
	parent := tx.btx.Bucket(bucketColls)
	if parent.Bucket([]byte(name)) != nil {
		return fmt.Errorf("%w: %s", ErrCollectionExist, name)
	}
	b, err := parent.CreateBucket([]byte(name))
	if err != nil {
		return err
	}
	if _, err := b.CreateBucket(bucketDocs); err != nil {
		return err
	}
	_, err = b.CreateBucket(bucketSeqs)
	return err
}

// DeleteCollection removes a collection and its documents.
func (tx *Tx) DeleteCollection(name string) error {
	if name == DefaultCollection {
		return ErrDefaultColl
	}
	if _, err := tx.coll(name); err != nil {
		return err
	}
	return tx.btx.Bucket(bucketColls).DeleteBucket([]byte(name))
}

// Get returns a document, including tombstones. The Document is a copy that
// outlives the transaction.
func (tx *Tx) Get(coll, id string) (*Document, error) {
	b, err := tx.coll(coll)
	if err != nil {
		return nil, err
	}
	data := b.Bucket(bucketDocs).Get([]byte(id))
	if data == nil {
		return nil, docNotFound{id}
	}
	tx.db.touched.Add(int64(len(data)))
	d, err := decodeRecord(id, bytes.Clone(data))
	if err != nil {
		return nil, err
	}
	d.Collection = coll
	return d, nil
}

// VectorOf returns the version vector of revision rev of a document (its
// legacy version when it has none of its own). Unlike Get it copies
// nothing out of the transaction but the vector: pushers read one for
// every change they offer.
func (tx *Tx) VectorOf(coll, id, rev string) (hlv.Vector, error) {
	b, err := tx.coll(coll)
	if err != nil {
		return hlv.Vector{}, err
	}
	data := b.Bucket(bucketDocs).Get([]byte(id))
	if data == nil {
		return hlv.Vector{}, docNotFound{id}
	}
	return recordVector(id, data, rev)
}

// docNotFound is ErrNotFound for one document. It is formatted only when
// printed: receiving a new document looks it up first, and formatting
// there was a measurable share of a replication's CPU.
type docNotFound struct{ id string }

func (e docNotFound) Error() string { return fmt.Sprintf("document %q: %v", e.id, ErrNotFound) }
func (e docNotFound) Unwrap() error { return ErrNotFound }

// PutOptions qualify a local save.
type PutOptions struct {
	// ParentRev is the revision the edit was based on: "" for a new document.
	// When it is not the current winner the save fails with ErrConflict,
	// unless LastWriteWins, which saves on top of the current winner.
	ParentRev     string
	LastWriteWins bool
	Deleted       bool // save a tombstone (body may be nil)
}

// Put saves a new revision of a document made locally.
func (tx *Tx) Put(coll, id string, body []byte, opts PutOptions) (*Document, error) {
	if err := ValidateDocID(id); err != nil {
		return nil, err
	}
	if opts.Deleted && len(body) == 0 {
		body = []byte("{}")
	}
	// "_attachments" stays allowed so a document pulled from Sync Gateway
	// keeps its attachments when edited. The body is the application's
	// buffer, which it may reuse: the document keeps a copy.
	body, err := normalizeBody(bytes.Clone(body), tx.db.opts.MaxBodySize, "_attachments")
	if err != nil {
		return nil, err
	}
	if err := tx.checkBlobs(body); err != nil {
		return nil, err
	}
	d, err := tx.Get(coll, id)
	switch {
	case errors.Is(err, ErrNotFound):
		d = &Document{Collection: coll, ID: id}
		if opts.ParentRev != "" && !opts.LastWriteWins {
			return nil, fmt.Errorf("%w: document %q does not exist (saved against %s)", ErrConflict, id, opts.ParentRev)
		}
		if opts.Deleted {
			return nil, fmt.Errorf("document %q: %w", id, ErrNotFound)
		}
	case err != nil:
		return nil, err
	}
	parent := opts.ParentRev
	if opts.LastWriteWins || (parent == "" && d.Deleted) {
		parent = d.RevID
	}
	if parent != d.RevID {
		return nil, fmt.Errorf("%w: document %q is at %s, not %s", ErrConflict, id, d.RevID, opts.ParentRev)
	}
	if opts.Deleted && d.Deleted {
		return nil, fmt.Errorf("document %q is already deleted: %w", id, ErrNotFound)
	}
	before := *d
	r, err := d.Tree.AddChild(parent, opts.Deleted, body)
	if err != nil {
		return nil, fmt.Errorf("%w: document %q: %v", ErrConflict, id, err)
	}
	if err := tx.addVersion(d, parent, r.ID); err != nil {
		return nil, err
	}
	return d, tx.write(&before, d)
}

// addVersion records the vector of rev, made locally on top of parent (""
// for none): a new version of this database, after the parent's vector.
func (tx *Tx) addVersion(d *Document, parent, rev string) error {
	x, err := tx.NewVersion()
	if err != nil {
		return err
	}
	var pv hlv.Vector
	if parent != "" {
		pv = d.VectorOf(parent)
	}
	d.setVector(rev, pv.Add(x))
	return nil
}

// PutRevision inserts a revision received from a peer, with its history
// (history[0] is the revision, then its ancestors newest first). When its
// parent has a version vector, the revision's vector is its legacy version
// on top of it (see inheritVector). It reports
// false when the document already had that revision. Bodies may carry the
// protocol's "_attachments" key; other top-level "_" keys are refused. The
// returned document may share body's bytes: the caller hands body over.
func (tx *Tx) PutRevision(coll, id string, history []string, deleted bool, body []byte) (bool, *Document, error) {
	if err := ValidateDocID(id); err != nil {
		return false, nil, err
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	body, err := normalizeBody(body, tx.db.opts.MaxBodySize, "_attachments")
	if err != nil {
		return false, nil, err
	}
	d, err := tx.Get(coll, id)
	if errors.Is(err, ErrNotFound) {
		d, err = &Document{Collection: coll, ID: id}, nil
	}
	if err != nil {
		return false, nil, err
	}
	before := *d
	before.Tree = d.Tree.Clone()
	added, err := d.Tree.Insert(history, deleted, body)
	if err != nil || added == 0 {
		return false, d, err
	}
	if len(history) > 1 {
		d.inheritVector(history[0], history[1])
	}
	return true, d, tx.write(&before, d)
}

// Resolve settles a conflict: every live leaf other than winner gets a
// tombstone child, and when merged is not nil it is saved as a new revision
// (a tombstone when mergedDeleted) on top of winner. The resolution is
// ordinary revisions, so it replicates.
func (tx *Tx) Resolve(coll, id, winner string, merged []byte, mergedDeleted bool) (*Document, error) {
	return tx.resolve(coll, id, winner, merged, mergedDeleted, hlv.Vector{})
}

// ResolveOnto settles a conflict in favour of revision winner while the
// outcome continues base's branch: every live leaf but base gets a
// tombstone child, and winner's body is saved on top of base with winner's
// current version (a trivial merge: no new version is made). A peer with a
// revision tree that has base takes the outcome as an update; one that has
// winner already has its version. With base == winner it is
// Resolve(winner, nil, false).
func (tx *Tx) ResolveOnto(coll, id, base, winner string) (*Document, error) {
	if base == winner {
		return tx.Resolve(coll, id, winner, nil, false)
	}
	d, err := tx.Get(coll, id)
	if err != nil {
		return nil, err
	}
	w, ok := d.Tree.Get(winner)
	if !ok || !d.Tree.IsLeaf(winner) || w.Body == nil {
		return nil, fmt.Errorf("%w: %s is not a leaf of %q", ErrConflict, winner, id)
	}
	keep := d.VectorOf(winner)
	if keep.IsZero() {
		return nil, fmt.Errorf("resolve %q: %s has no version", id, winner)
	}
	return tx.resolve(coll, id, base, w.Body, w.Deleted, keep)
}

// resolve is Resolve; a non-zero keep is the version the merged body keeps
// (trivially merged with everything the sides hold) instead of a new one.
func (tx *Tx) resolve(coll, id, winner string, merged []byte, mergedDeleted bool, keep hlv.Vector) (*Document, error) {
	d, err := tx.Get(coll, id)
	if err != nil {
		return nil, err
	}
	if !d.Tree.IsLeaf(winner) {
		return nil, fmt.Errorf("%w: %s is not a leaf of %q", ErrConflict, winner, id)
	}
	if merged != nil {
		if merged, err = normalizeBody(bytes.Clone(merged), tx.db.opts.MaxBodySize, "_attachments"); err != nil {
			return nil, err
		}
	}
	before := *d
	before.Tree = d.Tree.Clone()
	// The winner's vector takes in every loser's versions, so that it
	// includes them as the protocol's resolution does.
	winnerVec := d.VectorOf(winner)
	absorbed := winnerVec
	var losers []hlv.Vector
	for _, leaf := range d.Tree.Leaves() {
		if leaf.ID != winner && !leaf.Deleted {
			r, err := d.Tree.AddChild(leaf.ID, true, []byte("{}"))
			if err != nil {
				return nil, err
			}
			lv := d.VectorOf(leaf.ID)
			if err := tx.addVersion(d, leaf.ID, r.ID); err != nil {
				return nil, err
			}
			losers = append(losers, lv)
			if !absorbed.IsZero() {
				absorbed = hlv.TrivialMerge(absorbed, lv)
			}
		}
	}
	if merged != nil {
		w, _ := d.Tree.Get(winner)
		if w.Deleted != mergedDeleted || !bytes.Equal(w.Body, merged) {
			r, err := d.Tree.AddChild(winner, mergedDeleted, merged)
			if err != nil {
				return nil, err
			}
			if !keep.IsZero() {
				d.setVector(r.ID, hlv.TrivialMerge(keep, absorbed))
				return d, tx.write(&before, d)
			}
			x, err := tx.NewVersion()
			if err != nil {
				return nil, err
			}
			d.setVector(r.ID, mergeVector(winnerVec, losers, absorbed, x))
			return d, tx.write(&before, d)
		}
	}
	if len(losers) > 0 && !absorbed.IsZero() {
		d.setVector(winner, absorbed) // one side won unchanged: no new version
	}
	return d, tx.write(&before, d)
}

// mergeVector is the vector of a merged body made at x on top of winner: a
// merge of the two current versions when there was one loser by another
// author; otherwise (several losers, two legacy versions, or a revision ID
// with no legacy version) x after everything the sides hold.
func mergeVector(winner hlv.Vector, losers []hlv.Vector, absorbed hlv.Vector, x hlv.Version) hlv.Vector {
	if len(losers) == 1 && !winner.IsZero() && !losers[0].IsZero() && losers[0].Current.Source != winner.Current.Source {
		return hlv.Merge(winner, losers[0], x)
	}
	base := absorbed
	for _, l := range losers { // a winner with no vector has absorbed nothing
		switch {
		case !absorbed.IsZero() || l.IsZero():
		case base.IsZero():
			base = l
		default:
			base = hlv.TrivialMerge(base, l)
		}
	}
	return base.Add(x)
}

// write stores d after an edit: prunes its tree, gives it the next
// sequence, moves its change-feed entry and keeps the live count.
func (tx *Tx) write(before, d *Document) error {
	b, err := tx.coll(d.Collection)
	if err != nil {
		return err
	}
	// Keep the winner's parent body too: it is the revision a peer most
	// likely has, so it can be the source of a delta.
	w, _ := d.Tree.Winner()
	if d.Tree.Prune(tx.db.opts.MaxRevTreeDepth, w.Parent) > 0 && len(d.vectors) > 0 {
		d.vectors = slices.DeleteFunc(slices.Clone(d.vectors), func(rv revVector) bool { return !d.Tree.Contains(rv.rev) })
	}
	d.refresh()
	seqs := b.Bucket(bucketSeqs)
	if before.Sequence != 0 {
		if err := seqs.Delete(seqKey(before.Sequence)); err != nil {
			return err
		}
	}
	if d.Sequence, err = seqs.NextSequence(); err != nil {
		return err
	}
	record := encodeRecord(d)
	tx.db.touched.Add(int64(len(record)))
	if err := b.Bucket(bucketDocs).Put([]byte(d.ID), record); err != nil {
		return err
	}
	c := Change{Collection: d.Collection, Sequence: d.Sequence, DocID: d.ID, RevID: d.RevID,
		Deleted: d.Deleted, Conflicted: d.Conflicted, BodySize: len(d.Body)}
	if err := seqs.Put(seqKey(d.Sequence), encodeChange(&c)); err != nil {
		return err
	}
	wasLive := before.RevID != "" && !before.Deleted
	if wasLive != !d.Deleted {
		delta := int64(1)
		if wasLive {
			delta = -1
		}
		if err := addCount(b, delta); err != nil {
			return err
		}
	}
	tx.changes = append(tx.changes, c)
	return nil
}

func addCount(b *bolt.Bucket, delta int64) error {
	n := countOf(b) + delta
	return b.Put(keyCount, binary.BigEndian.AppendUint64(nil, uint64(max(n, 0))))
}

func countOf(b *bolt.Bucket) int64 {
	v := b.Get(keyCount)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// Purge removes a document and its history entirely; it does not replicate.
func (tx *Tx) Purge(coll, id string) error {
	d, err := tx.Get(coll, id)
	if err != nil {
		return err
	}
	b, _ := tx.coll(coll)
	if err := b.Bucket(bucketSeqs).Delete(seqKey(d.Sequence)); err != nil {
		return err
	}
	if err := b.Bucket(bucketDocs).Delete([]byte(id)); err != nil {
		return err
	}
	if !d.Deleted {
		if err := addCount(b, -1); err != nil {
			return err
		}
	}
	tx.changes = append(tx.changes, Change{Collection: coll, DocID: id, RevID: d.RevID, Purged: true})
	return nil
}

// Count returns the number of live (not deleted) documents.
func (tx *Tx) Count(coll string) (int, error) {
	b, err := tx.coll(coll)
	if err != nil {
		return 0, err
	}
	return int(countOf(b)), nil
}

// ListOptions page through a collection in ID order.
type ListOptions struct {
	Prefix         string
	StartAfter     string // resume after this ID
	Limit          int    // 0 = no limit
	IncludeDeleted bool
}

// List returns documents in ID order. Documents are copies.
func (tx *Tx) List(coll string, opts ListOptions) ([]*Document, error) {
	b, err := tx.coll(coll)
	if err != nil {
		return nil, err
	}
	c := b.Bucket(bucketDocs).Cursor()
	start := []byte(opts.Prefix)
	if opts.StartAfter != "" && opts.StartAfter >= opts.Prefix {
		start = append([]byte(opts.StartAfter), 0)
	}
	var docs []*Document
	for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, []byte(opts.Prefix)); k, v = c.Next() {
		d, err := decodeRecord(string(k), bytes.Clone(v))
		if err != nil {
			return nil, err
		}
		if d.Deleted && !opts.IncludeDeleted {
			continue
		}
		d.Collection = coll
		docs = append(docs, d)
		if opts.Limit > 0 && len(docs) >= opts.Limit {
			break
		}
	}
	return docs, nil
}

// ChangesSince returns up to limit change-feed entries with sequences
// greater than since, in sequence order (limit ≤ 0 means all).
func (tx *Tx) ChangesSince(coll string, since uint64, limit int) ([]Change, error) {
	b, err := tx.coll(coll)
	if err != nil {
		return nil, err
	}
	c := b.Bucket(bucketSeqs).Cursor()
	var out []Change
	for k, v := c.Seek(seqKey(since + 1)); k != nil; k, v = c.Next() {
		ch, err := decodeChange(coll, binary.BigEndian.Uint64(k), v)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, nil
}

// LastSequence returns the collection's latest assigned sequence.
func (tx *Tx) LastSequence(coll string) (uint64, error) {
	b, err := tx.coll(coll)
	if err != nil {
		return 0, err
	}
	return b.Bucket(bucketSeqs).Sequence(), nil
}

// ConflictedIDs returns the IDs of documents with conflicts, sorted.
func (tx *Tx) ConflictedIDs(coll string) ([]string, error) {
	b, err := tx.coll(coll)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = b.Bucket(bucketSeqs).ForEach(func(k, v []byte) error {
		if len(v) > 0 && v[0]&flagConflicted != 0 {
			ch, err := decodeChange(coll, binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			ids = append(ids, ch.DocID)
		}
		return nil
	})
	slices.Sort(ids)
	return ids, err
}

// GetRevision returns one revision of a document with its body, if kept.
func (tx *Tx) GetRevision(coll, id, rev string) (revtree.Rev, error) {
	d, err := tx.Get(coll, id)
	if err != nil {
		return revtree.Rev{}, err
	}
	r, ok := d.Tree.Get(rev)
	if !ok {
		return revtree.Rev{}, fmt.Errorf("document %q revision %s: %w", id, rev, ErrNotFound)
	}
	return r, nil
}
