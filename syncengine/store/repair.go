package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"peersync/syncengine/hlv"
	"peersync/syncengine/store/boltfile"
)

// Progress hears how far a long operation has come: a phase ("pages",
// "documents"), and done out of total (total < 0 when unknown).
type Progress func(phase string, done, total int64)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Pages     int64    // pages walked
	Documents int      // document records read
	Problems  []string // what is wrong (at most boltfile.MaxProblems); empty when sound
}

// Damaged reports whether Verify found anything wrong.
func (r VerifyReport) Damaged() bool { return len(r.Problems) > 0 }

func (r *VerifyReport) problem(format string, args ...any) {
	if len(r.Problems) < boltfile.MaxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// Verify checks an open database: its pages, bbolt's consistency check,
// and the store's own records (every document, change-feed entry, live
// count, local document and blob digest). Writes wait meanwhile.
func (db *DB) Verify(progress Progress) (VerifyReport, error) {
	if err := db.brokenErr(); err != nil {
		return VerifyReport{Problems: []string{err.Error()}}, nil
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	return verify(db.path, db.bolt, progress)
}

// VerifyFile checks a database file that is not open, as Verify does. It
// never writes to the file.
func VerifyFile(path string, opts Options, progress Progress) (VerifyReport, error) {
	opts = opts.withDefaults()
	if fi, err := os.Stat(path); err != nil {
		return VerifyReport{}, err
	} else if fi.Size() == 0 {
		return VerifyReport{Problems: []string{"the file is empty (0 bytes)"}}, nil
	}
	b, err := openReadOnly(path, opts.LockTimeout)
	if errors.Is(err, ErrInUse) {
		return VerifyReport{}, err
	}
	if err == nil {
		defer b.Close()
	}
	rep, verr := verify(path, b, progress)
	if verr == nil && !rep.Damaged() && err != nil {
		rep.problem("bbolt cannot open the file: %v", err)
	}
	return rep, verr
}

// verify walks the pages of the file at path, then, when they are sound
// and b (the same file, opened by bbolt) is not nil, runs bbolt's check
// and the store's.
func verify(path string, b *bolt.DB, progress Progress) (rep VerifyReport, err error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	bf, err := boltfile.Open(path)
	if errors.Is(err, boltfile.ErrUnreadable) {
		rep.problem("%v", err)
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	defer bf.Close()
	pages := bf.Check(0, func(done, total int64) { progress("pages", done, total) })
	rep.Pages, rep.Problems = pages.Pages, pages.Problems
	if pages.More > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("and %d more problems", pages.More))
	}
	if rep.Damaged() || b == nil {
		return rep, nil
	}
	defer guard(&err)
	defer faultsPanic()()
	err = b.View(func(btx *bolt.Tx) error {
		for err := range btx.Check() {
			rep.problem("%v", err)
		}
		checkRecords(btx, &rep, progress)
		return nil
	})
	return rep, err
}

// checkMeta checks the file's identity: a format this code reads, and
// from format 2 on a source ID and a clock.
func checkMeta(meta *bolt.Bucket, rep *VerifyReport) {
	format, err := loadFormat(meta)
	if err != nil {
		rep.problem("%v", err)
		return
	}
	if meta.Get(keyUUID) == nil {
		rep.problem("meta: no UUID")
	}
	if format < 2 {
		return // upgraded when next opened
	}
	if _, err := hlv.ParseSourceID(string(meta.Get(keySource))); err != nil {
		rep.problem("meta: source ID: %v", err)
	}
	if _, err := loadClock(meta); err != nil || meta.Get(keyClock) == nil {
		rep.problem("meta: clock missing or corrupt")
	}
}

// checkRecords checks what the store keeps in the file, beyond bbolt's
// structure.
func checkRecords(btx *bolt.Tx, rep *VerifyReport, progress Progress) {
	for _, name := range [][]byte{bucketMeta, bucketColls, bucketLocal, bucketBlobs} {
		if btx.Bucket(name) == nil {
			rep.problem("bucket %s is missing", name)
			return
		}
	}
	checkMeta(btx.Bucket(bucketMeta), rep)
	btx.Bucket(bucketColls).ForEachBucket(func(name []byte) error {
		coll := btx.Bucket(bucketColls).Bucket(name)
		docs, seqs := coll.Bucket(bucketDocs), coll.Bucket(bucketSeqs)
		if docs == nil || seqs == nil {
			rep.problem("collection %s: docs or seqs bucket missing", name)
			return nil
		}
		live, records := int64(0), 0
		docs.ForEach(func(k, v []byte) error {
			rep.Documents++
			records++
			if rep.Documents%1000 == 0 {
				progress("documents", int64(rep.Documents), -1)
			}
			d, err := decodeRecord(string(k), v)
			if err != nil {
				rep.problem("collection %s: %v", name, err)
				return nil
			}
			for _, rv := range d.vectors {
				if err := rv.vec.Validate(); err != nil {
					rep.problem("collection %s: document %q revision %s: %v", name, k, rv.rev, err)
				}
			}
			if !d.Deleted {
				live++
			}
			ch, err := decodeChange(string(name), d.Sequence, seqs.Get(seqKey(d.Sequence)))
			if err != nil || ch.DocID != d.ID || ch.RevID != d.RevID {
				rep.problem("collection %s: document %q: its change-feed entry (sequence %d) is missing or wrong", name, k, d.Sequence)
			}
			return nil
		})
		if n := seqs.Stats().KeyN; n != records {
			rep.problem("collection %s: %d change-feed entries for %d documents", name, n, records)
		}
		if n := countOf(coll); n != live {
			rep.problem("collection %s: live count says %d, there are %d", name, n, live)
		}
		return nil
	})
	btx.Bucket(bucketLocal).ForEach(func(k, v []byte) error {
		if _, _, ok := readString(v); !ok {
			rep.problem("local document %q: corrupt", k)
		}
		return nil
	})
	btx.Bucket(bucketBlobs).ForEach(func(k, v []byte) error {
		if BlobDigest(v) != string(k) {
			rep.problem("blob %s: its bytes do not match its digest", k)
		}
		return nil
	})
	checkResolutions(btx, rep)
	progress("documents", int64(rep.Documents), int64(rep.Documents))
}

// SalvageReport says what Salvage copied and what it could not read.
type SalvageReport struct {
	Documents      int      // documents copied, with their revision trees
	LocalDocuments int      // local documents (checkpoints) copied
	Blobs          int      // blobs copied (each checked against its digest)
	LostDocuments  []string // "collection/ID" of documents known to exist (from the change feed) but unreadable
	LostBlobs      []string // digests copied documents reference that could not be copied
	Problems       []string // unreadable pages and records
	// Recovered counts the copied documents found only on pages the
	// damage cut off from the tree (or that bbolt had freed): each is the
	// newest version found, which may be older than the one lost.
	Recovered int
}

func (r *SalvageReport) note(pages boltfile.Report) {
	r.Problems = append(r.Problems, pages.Problems...)
	if pages.More > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("and %d more problems", pages.More))
	}
}

// Salvage copies every document (with its revision tree), local document
// and blob that can still be read from the database file at src into a new
// database at dst, skipping damaged pages and records. When damage cut
// pages off the tree, every page is scanned for documents and blobs too
// (see SalvageReport.Recovered). It never writes to src. The copy has a new
// UUID, so peers send it everything again, which brings back what was lost
// from them.
func Salvage(src, dst string, opts Options) (SalvageReport, error) {
	opts = opts.withDefaults()
	unlock, err := lockShared(src, opts.LockTimeout)
	if err != nil && !errors.Is(err, ErrDamaged) {
		return SalvageReport{}, err
	}
	if unlock != nil {
		defer unlock()
	}
	return salvage(src, dst, opts)
}

// Salvage copies this open database as the package's Salvage does; writes
// wait meanwhile.
func (db *DB) Salvage(dst string) (SalvageReport, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	return salvage(db.path, dst, db.opts)
}

func salvage(src, dst string, opts Options) (rep SalvageReport, err error) {
	bf, err := boltfile.Open(src)
	if errors.Is(err, boltfile.ErrUnreadable) {
		return rep, damaged("nothing can be read: %v", err)
	}
	if err != nil {
		return rep, err
	}
	defer bf.Close()
	err = createWith(dst, opts, func(out *DB) error { return copyReadable(bf, out, &rep) })
	return rep, err
}

// A salvage commits at most salvageBatch entries or about salvageBytes
// of local documents or blobs per transaction.
const (
	salvageBatch = 500
	salvageBytes = 16 << 20
)

func copyReadable(bf *boltfile.File, out *DB, rep *SalvageReport) error {
	// Local documents and blobs first: documents may reference blobs.
	blobs := map[string]bool{}
	var pending [][2][]byte
	pendingBytes := 0
	full := func() bool { return len(pending) == salvageBatch || pendingBytes >= salvageBytes }
	flushRaw := func(bucket []byte) error {
		err := out.Update(func(tx *Tx) error {
			for _, kv := range pending {
				if err := tx.btx.Bucket(bucket).Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		})
		pending, pendingBytes = pending[:0], 0
		return err
	}
	pages, err := bf.ForEach([][]byte{bucketLocal}, func(k, v []byte, bucket bool) error {
		if _, _, ok := readString(v); bucket || !ok {
			rep.Problems = append(rep.Problems, fmt.Sprintf("local document %q: corrupt", k))
			return nil
		}
		pending, pendingBytes = append(pending, [2][]byte{k, v}), pendingBytes+len(v)
		rep.LocalDocuments++
		if full() {
			return flushRaw(bucketLocal)
		}
		return nil
	})
	rep.note(pages)
	if err := errors.Join(rep.missing(err), flushRaw(bucketLocal)); err != nil {
		return err
	}
	pages, err = bf.ForEach([][]byte{bucketBlobs}, func(k, v []byte, bucket bool) error {
		if bucket || BlobDigest(v) != string(k) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("blob %q: its bytes do not match its digest", k))
			return nil
		}
		blobs[string(k)] = true
		pending, pendingBytes = append(pending, [2][]byte{k, v}), pendingBytes+len(v)
		rep.Blobs++
		if full() {
			return flushRaw(bucketBlobs)
		}
		return nil
	})
	rep.note(pages)
	if err := errors.Join(rep.missing(err), flushRaw(bucketBlobs)); err != nil {
		return err
	}

	var colls []string
	pages, err = bf.ForEach([][]byte{bucketColls}, func(k, _ []byte, bucket bool) error {
		if bucket {
			colls = append(colls, string(k))
		}
		return nil
	})
	rep.note(pages)
	if err := rep.missing(err); err != nil {
		return err
	}
	referenced := map[string]bool{}
	var defaultCopied map[string]bool
	for _, coll := range colls {
		copied, err := copyCollection(bf, out, coll, rep, referenced)
		if err != nil {
			return err
		}
		if coll == DefaultCollection {
			defaultCopied = copied
		}
	}
	if len(rep.Problems) > 0 {
		if err := recoverCutOff(bf, out, colls, defaultCopied, blobs, referenced, rep); err != nil {
			return err
		}
	}
	for _, d := range slices.Sorted(maps.Keys(referenced)) {
		if !blobs[d] {
			rep.LostBlobs = append(rep.LostBlobs, d)
		}
	}
	slices.Sort(rep.LostDocuments)
	return nil
}

func copyCollection(bf *boltfile.File, out *DB, coll string, rep *SalvageReport, referenced map[string]bool) (map[string]bool, error) {
	if coll != DefaultCollection {
		if ValidateCollectionName(coll) != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("collection %x: bad name", coll))
			return nil, nil
		}
		if err := out.Update(func(tx *Tx) error { return tx.createCollection(coll) }); err != nil {
			return nil, err
		}
	}
	path := func(sub []byte) [][]byte { return [][]byte{bucketColls, []byte(coll), sub} }
	// The change feed names every document, so what cannot be copied is
	// known by ID even when its record's page is unreadable.
	known := map[string]bool{}
	pages, err := bf.ForEach(path(bucketSeqs), func(k, v []byte, bucket bool) error {
		if len(k) == 8 && !bucket {
			if ch, err := decodeChange(coll, binary.BigEndian.Uint64(k), v); err == nil {
				known[ch.DocID] = true
			}
		}
		return nil
	})
	rep.note(pages)
	if err := rep.missing(err); err != nil {
		return nil, err
	}
	copied := map[string]bool{}
	var batch []*Document
	flush := func() error {
		err := out.Update(func(tx *Tx) error {
			for _, d := range batch {
				if err := tx.write(&Document{Collection: coll}, d); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	pages, err = bf.ForEach(path(bucketDocs), func(k, v []byte, bucket bool) error {
		id := string(k)
		d, derr := decodeRecord(id, v)
		if copied[id] {
			return nil // a page reached twice
		}
		if derr == nil && !bodiesReadable(d) {
			derr = errCorruptBody
		}
		if bucket || derr != nil || ValidateDocID(id) != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("collection %s: document %q: corrupt record", coll, k))
			if ValidateDocID(id) == nil {
				known[id] = true
			}
			return nil
		}
		d.Collection = coll
		for _, r := range d.Tree.Revs() {
			for _, ref := range BlobRefs(r.Body) {
				referenced[ref.Digest] = true
			}
		}
		copied[id] = true
		batch = append(batch, d)
		rep.Documents++
		if len(batch) == salvageBatch {
			return flush()
		}
		return nil
	})
	rep.note(pages)
	if err := errors.Join(rep.missing(err), flush()); err != nil {
		return nil, err
	}
	for id := range known {
		if !copied[id] {
			rep.LostDocuments = append(rep.LostDocuments, coll+"/"+id)
		}
	}
	return copied, nil
}

var errCorruptBody = errors.New("corrupt body")

// bodiesReadable reports whether every body kept in d's tree is still a
// JSON object: damage inside a body leaves the record's lengths intact, so
// decoding alone does not catch it.
func bodiesReadable(d *Document) bool {
	for _, r := range d.Tree.Revs() {
		if r.Body != nil {
			if _, err := normalizeBody(r.Body, math.MaxInt, "_attachments"); err != nil {
				return false
			}
		}
	}
	return true
}

// recoverCutOff scans every leaf page for documents and blobs the tree
// walk could not reach. Documents carry no collection, so they are placed
// only when the default collection is the only one the file is known to
// have. The newest version of each (by sequence) is taken: a first scan
// finds it, a second copies it, so nothing is held in memory but IDs.
func recoverCutOff(bf *boltfile.File, out *DB, colls []string, copied, blobs, referenced map[string]bool, rep *SalvageReport) error {
	placeDocs := len(colls) == 0 || len(colls) == 1 && colls[0] == DefaultCollection
	if copied == nil {
		copied = map[string]bool{} // the default collection was unreadable
	}
	// record decodes a leaf entry that looks like a document not yet copied.
	record := func(k, v []byte) *Document {
		id := string(k)
		if !placeDocs || copied[id] || ValidateDocID(id) != nil {
			return nil
		}
		d, err := decodeRecord(id, v)
		if err != nil || d.RevID == "" {
			return nil
		}
		if _, err := normalizeBody(d.Body, out.opts.MaxBodySize, "_attachments"); err != nil {
			return nil
		}
		d.Collection = DefaultCollection
		return d
	}
	newest := map[string]uint64{}
	var pending [][2][]byte
	flushBlobs := func() error {
		err := out.Update(func(tx *Tx) error {
			for _, kv := range pending {
				if err := tx.btx.Bucket(bucketBlobs).Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		})
		pending = pending[:0]
		return err
	}
	err := bf.ScanLeaves(func(k, v []byte) error {
		if d := string(k); strings.HasPrefix(d, "sha1-") && !blobs[d] && BlobDigest(v) == d {
			blobs[d] = true
			rep.Blobs++
			if pending = append(pending, [2][]byte{k, v}); len(pending) == 64 {
				return flushBlobs()
			}
			return nil
		}
		if d := record(k, v); d != nil && d.Sequence >= newest[d.ID] {
			newest[d.ID] = d.Sequence
		}
		return nil
	})
	if err := errors.Join(err, flushBlobs()); err != nil {
		return err
	}
	var batch []*Document
	flushDocs := func() error {
		err := out.Update(func(tx *Tx) error {
			for _, d := range batch {
				if err := tx.write(&Document{Collection: DefaultCollection}, d); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	err = bf.ScanLeaves(func(k, v []byte) error {
		d := record(k, v)
		if d == nil || copied[d.ID] || d.Sequence != newest[d.ID] {
			return nil
		}
		copied[d.ID] = true
		for _, r := range d.Tree.Revs() {
			for _, ref := range BlobRefs(r.Body) {
				referenced[ref.Digest] = true
			}
		}
		rep.Documents++
		rep.Recovered++
		if batch = append(batch, d); len(batch) == salvageBatch {
			return flushDocs()
		}
		return nil
	})
	if err := errors.Join(err, flushDocs()); err != nil {
		return err
	}
	rep.LostDocuments = slices.DeleteFunc(rep.LostDocuments, func(cid string) bool {
		id, ok := strings.CutPrefix(cid, DefaultCollection+"/")
		return ok && copied[id]
	})
	if !placeDocs {
		rep.Problems = append(rep.Problems, "documents on pages cut off from the tree were not copied: the file has several collections and a page does not say whose they are")
	}
	return nil
}

// missing treats a bucket that cannot be found as nothing to copy, and
// notes it.
func (r *SalvageReport) missing(err error) error {
	if errors.Is(err, boltfile.ErrNoBucket) {
		r.Problems = append(r.Problems, err.Error())
		return nil
	}
	return err
}
