package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Resolutions are the records of conflicts resolved automatically during
// replication. The revision tree prunes a losing branch's body once it has
// a tombstone on top, so the record keeps it: the user can see what was
// lost and bring it back (Tx.RestoreResolution). Records live in the
// top-level bucket "resolved", made by the first one (files without it read
// as having none, so the format does not change): big-endian record number
// → record, plus "count". They are kept for Options.KeepResolved and at
// most Options.MaxResolved of them, the oldest dropped first.

// Defaults for the resolution records.
const (
	DefaultKeepResolved = 30 * 24 * time.Hour
	DefaultMaxResolved  = 10000
)

var bucketResolved = []byte("resolved")

// resolutionVersion is the first byte of every record.
const resolutionVersion = 1

const (
	resLoserDeleted  = 1 << 0
	resWinnerDeleted = 1 << 1
)

// Resolution records one conflict resolved automatically.
type Resolution struct {
	ID         uint64 // its number in this database, in the order recorded
	Collection string
	DocID      string
	At         time.Time
	// Rule says what decided: "deletion wins", "newer edit wins", "local
	// wins", a custom resolver's own words.
	Rule string
	// Winner is the revision the document was left at.
	Winner        string
	WinnerDeleted bool
	// The losing revision, with its body as it was (nil for a tombstone).
	Loser        string
	LoserDeleted bool
	LoserBody    []byte // nil in Resolutions' lists: Resolution reads it
	LoserSize    int    // the body's length in bytes
}

// resolvedBucket returns the bucket, making it when create (in a write).
func (tx *Tx) resolvedBucket(create bool) (*bolt.Bucket, error) {
	if b := tx.btx.Bucket(bucketResolved); b != nil || !create {
		return b, nil
	}
	return tx.btx.CreateBucket(bucketResolved)
}

func (db *DB) now() time.Time {
	if db.opts.Wall != nil {
		return db.opts.Wall()
	}
	return time.Now()
}

// KeepResolved returns how long resolution records are kept.
func (db *DB) KeepResolved() time.Duration { return time.Duration(db.keepResolved.Load()) }

// SetKeepResolved changes how long resolution records are kept (≤ 0: the
// default). Older ones are no longer listed, and are deleted by the next
// PurgeResolutions or recorded resolution.
func (db *DB) SetKeepResolved(d time.Duration) {
	if d <= 0 {
		d = DefaultKeepResolved
	}
	db.keepResolved.Store(int64(d))
}

func (db *DB) resolvedCutoff() time.Time { return db.now().Add(-db.KeepResolved()) }

// RecordResolution records a resolution in this transaction, so that it is
// kept exactly when the resolution is. It fills in r.ID and, when zero,
// r.At, and drops the oldest records beyond Options.MaxResolved and a few
// expired ones.
func (tx *Tx) RecordResolution(r *Resolution) error {
	if !tx.writable {
		return errors.New("record resolution: read-only transaction")
	}
	if r.Collection == "" || r.DocID == "" {
		return errors.New("record resolution: no collection or document")
	}
	b, err := tx.resolvedBucket(true)
	if err != nil {
		return err
	}
	if r.At.IsZero() {
		r.At = tx.db.now()
	}
	if r.ID, err = b.NextSequence(); err != nil {
		return err
	}
	if r.LoserDeleted {
		r.LoserBody = nil
	}
	if err := b.Put(seqKey(r.ID), encodeResolution(r)); err != nil {
		return err
	}
	n := resolvedCount(b) + 1
	// Bounded work per record: the expired ones at the front, a few at a
	// time, and whatever exceeds the limit (one, unless it was lowered).
	expired, err := deleteOldest(b, 8, tx.db.resolvedCutoff())
	if err != nil {
		return err
	}
	n -= expired
	if over := n - int64(tx.db.opts.MaxResolved); over > 0 {
		d, err := deleteOldest(b, int(over), time.Time{})
		if err != nil {
			return err
		}
		n -= d
	}
	tx.resolved = append(tx.resolved, *r)
	return setResolvedCount(b, n)
}

// deleteOldest deletes up to limit records from the oldest on; with a
// non-zero before, only those recorded before it. It returns how many.
func deleteOldest(b *bolt.Bucket, limit int, before time.Time) (int64, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(keys) < limit; k, v = c.Next() {
		if len(k) != 8 {
			continue
		}
		if !before.IsZero() {
			if at, ok := resolutionTime(v); ok && !at.Before(before) {
				break
			}
		}
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return int64(len(keys)), nil
}

var keyResolvedCount = []byte("count")

func resolvedCount(b *bolt.Bucket) int64 {
	v := b.Get(keyResolvedCount)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func setResolvedCount(b *bolt.Bucket, n int64) error {
	return b.Put(keyResolvedCount, binary.BigEndian.AppendUint64(nil, uint64(max(n, 0))))
}

// Resolutions lists up to limit records (≤ 0: all), newest first, leaving
// out those older than the database keeps them. They are copies without
// the losing bodies (LoserSize says how big), so that a list of many costs
// little memory; Resolution reads one with its body.
func (tx *Tx) Resolutions(limit int) ([]Resolution, error) {
	b, _ := tx.resolvedBucket(false)
	if b == nil {
		return nil, nil
	}
	cutoff := tx.db.resolvedCutoff()
	var out []Resolution
	c := b.Cursor()
	for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
		if len(k) != 8 {
			continue
		}
		r, err := decodeResolutionHead(binary.BigEndian.Uint64(k), v)
		if err != nil {
			return nil, err
		}
		if r.At.Before(cutoff) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// Resolution returns one record (a copy).
func (tx *Tx) Resolution(id uint64) (Resolution, error) {
	b, _ := tx.resolvedBucket(false)
	var v []byte
	if b != nil {
		v = b.Get(seqKey(id))
	}
	if v == nil {
		return Resolution{}, fmt.Errorf("resolution %d: %w", id, ErrNotFound)
	}
	return decodeResolution(id, v)
}

// DismissResolution deletes a record; the document stays as it is.
func (tx *Tx) DismissResolution(id uint64) error {
	if _, err := tx.Resolution(id); err != nil {
		return err
	}
	b, _ := tx.resolvedBucket(false)
	if err := b.Delete(seqKey(id)); err != nil {
		return err
	}
	return setResolvedCount(b, resolvedCount(b)-1)
}

// RestoreResolution makes a record's losing revision the document's
// current one, as a new local edit on top of whatever is current (so it
// replicates as an ordinary update), and deletes the record. A losing
// tombstone deletes the document. A document purged since is made anew.
func (tx *Tx) RestoreResolution(id uint64) (*Document, error) {
	r, err := tx.Resolution(id)
	if err != nil {
		return nil, err
	}
	cur, err := tx.Get(r.Collection, r.DocID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var d *Document
	switch {
	case r.LoserDeleted && (cur == nil || cur.Deleted):
		d = cur // already as the loser left it
	case r.LoserDeleted:
		d, err = tx.Put(r.Collection, r.DocID, nil, PutOptions{LastWriteWins: true, Deleted: true})
	default:
		d, err = tx.Put(r.Collection, r.DocID, r.LoserBody, PutOptions{LastWriteWins: true})
	}
	if err != nil {
		return nil, fmt.Errorf("restore %q: %w", r.DocID, err)
	}
	return d, tx.DismissResolution(id)
}

// PurgeResolutions deletes up to limit records older than the database
// keeps them, oldest first, and returns how many it deleted.
func (tx *Tx) PurgeResolutions(limit int) (int, error) {
	b, _ := tx.resolvedBucket(false)
	if b == nil {
		return 0, nil
	}
	n, err := deleteOldest(b, limit, tx.db.resolvedCutoff())
	if err != nil || n == 0 {
		return 0, err
	}
	return int(n), setResolvedCount(b, resolvedCount(b)-n)
}

// purgeBatch is how many expired records one transaction deletes.
const purgeBatch = 500

// PurgeResolutions deletes every record older than the database keeps
// them, purgeBatch per transaction; it writes nothing when none is. Open
// calls it.
func (db *DB) PurgeResolutions() (int, error) {
	total := 0
	for {
		expired := false
		err := db.View(func(tx *Tx) error {
			b, _ := tx.resolvedBucket(false)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if len(k) == 8 {
					at, ok := resolutionTime(v)
					expired = ok && at.Before(tx.db.resolvedCutoff())
					break
				}
			}
			return nil
		})
		if err != nil || !expired {
			return total, err
		}
		var n int
		if err := db.Update(func(tx *Tx) (err error) {
			n, err = tx.PurgeResolutions(purgeBatch)
			return err
		}); err != nil {
			return total, err
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

// ObserveResolutions registers fn to hear of every committed resolution
// record, in commit order, as Observe does for changes.
func (db *DB) ObserveResolutions(fn func([]Resolution)) (cancel func()) {
	db.obsMu.Lock()
	defer db.obsMu.Unlock()
	id := db.nextObs
	db.nextObs++
	db.resolvedObs[id] = fn
	return func() {
		db.obsMu.Lock()
		defer db.obsMu.Unlock()
		delete(db.resolvedObs, id)
	}
}

func (db *DB) notifyResolved(rs []Resolution) {
	db.obsMu.Lock()
	defer db.obsMu.Unlock()
	for _, fn := range db.resolvedObs {
		fn(rs)
	}
}

// encodeResolution: version | uvarint(unix nanoseconds) | flags |
// collection, document, rule, winner, loser (each uvarint length + bytes) |
// the loser's body (the rest).
func encodeResolution(r *Resolution) []byte {
	v := []byte{resolutionVersion}
	v = binary.AppendUvarint(v, uint64(r.At.UnixNano()))
	var flags byte
	if r.LoserDeleted {
		flags |= resLoserDeleted
	}
	if r.WinnerDeleted {
		flags |= resWinnerDeleted
	}
	v = append(v, flags)
	for _, s := range []string{r.Collection, r.DocID, r.Rule, r.Winner, r.Loser} {
		v = binary.AppendUvarint(v, uint64(len(s)))
		v = append(v, s...)
	}
	return append(v, r.LoserBody...)
}

// resolutionTime reads only a record's time.
func resolutionTime(v []byte) (time.Time, bool) {
	if len(v) < 2 || v[0] != resolutionVersion {
		return time.Time{}, false
	}
	ns, n := binary.Uvarint(v[1:])
	if n <= 0 || ns > 1<<63-1 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(ns)), true
}

func decodeResolution(id uint64, v []byte) (Resolution, error) {
	r, err := decodeResolutionHead(id, v)
	if err == nil && r.LoserSize > 0 {
		r.LoserBody = bytes.Clone(v[len(v)-r.LoserSize:])
	}
	return r, err
}

// decodeResolutionHead decodes a record but for its body (LoserSize says
// how long it is: the record's last bytes).
func decodeResolutionHead(id uint64, v []byte) (Resolution, error) {
	bad := func(what string) (Resolution, error) {
		return Resolution{}, fmt.Errorf("%w: resolution %d: %s", ErrDamaged, id, what)
	}
	at, ok := resolutionTime(v)
	if !ok {
		return bad("bad version or time")
	}
	_, n := binary.Uvarint(v[1:])
	rest := v[1+n:]
	if len(rest) == 0 {
		return bad("truncated")
	}
	flags := rest[0]
	if flags&^(resLoserDeleted|resWinnerDeleted) != 0 {
		return bad("unknown flags")
	}
	rest = rest[1:]
	r := Resolution{ID: id, At: at, LoserDeleted: flags&resLoserDeleted != 0, WinnerDeleted: flags&resWinnerDeleted != 0}
	for _, s := range []*string{&r.Collection, &r.DocID, &r.Rule, &r.Winner, &r.Loser} {
		if *s, rest, ok = readString(rest); !ok {
			return bad("truncated")
		}
	}
	if r.Collection == "" || r.DocID == "" {
		return bad("no collection or document")
	}
	if len(rest) > 0 && r.LoserDeleted {
		return bad("a deleted loser with a body")
	}
	r.LoserSize = len(rest)
	return r, nil
}

// checkResolutions is Verify's look at the records.
func checkResolutions(btx *bolt.Tx, rep *VerifyReport) {
	b := btx.Bucket(bucketResolved)
	if b == nil {
		return
	}
	var n int64
	b.ForEach(func(k, v []byte) error {
		switch {
		case bytes.Equal(k, keyResolvedCount):
		case len(k) != 8 || v == nil:
			rep.problem("resolutions: unexpected key %q", k)
		default:
			n++
			if _, err := decodeResolution(binary.BigEndian.Uint64(k), v); err != nil {
				rep.problem("%v", err)
			}
		}
		return nil
	})
	if c := resolvedCount(b); c != n {
		rep.problem("resolutions: count says %d, there are %d", c, n)
	}
}

// resolvedBlobRefs adds the blobs the kept losing bodies reference, which
// Compact keeps so that a restore finds them.
func resolvedBlobRefs(tx *Tx, used map[string]bool) {
	b, _ := tx.resolvedBucket(false)
	if b == nil {
		return
	}
	b.ForEach(func(k, v []byte) error {
		if len(k) == 8 {
			if r, err := decodeResolution(binary.BigEndian.Uint64(k), v); err == nil {
				for _, ref := range BlobRefs(r.LoserBody) {
					used[ref.Digest] = true
				}
			}
		}
		return nil
	})
}
