package store

import (
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// Compact deletes blobs that no document revision references any more and
// rewrites the file without free pages. It returns how many blobs it
// removed. Other calls wait while the file is swapped. When it fails (a
// full disk) the original file stays as it was and the copy is removed.
func (db *DB) Compact() (removed int, err error) {
	removed, err = db.collectBlobs()
	if err != nil {
		return 0, err
	}
	defer db.guard(&err)
	defer faultsPanic()()
	db.mu.Lock()
	defer db.mu.Unlock()
	tmp := db.path + ".compact"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		os.Remove(tmp) // bbolt leaves a partly initialised file behind
		return removed, fmt.Errorf("compact: %w", err)
	}
	defer os.Remove(tmp) // gone once renamed; removed on any failure
	if err := bolt.Compact(dst, db.bolt, 16<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return removed, fmt.Errorf("compact: %w", err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return removed, fmt.Errorf("compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		return removed, fmt.Errorf("compact: %w", err)
	}
	if err := db.bolt.Close(); err != nil {
		return removed, err
	}
	renameErr := os.Rename(tmp, db.path) // on failure the original stays
	b, err := openBolt(db.path, db.opts.LockTimeout)
	if err != nil {
		return removed, fmt.Errorf("reopen after compact: %w", err)
	}
	db.bolt = b
	return removed, renameErr
}

func (db *DB) collectBlobs() (int, error) {
	removed := 0
	err := db.Update(func(tx *Tx) error {
		used := map[string]bool{}
		for _, coll := range tx.Collections() {
			b, _ := tx.coll(coll)
			err := b.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
				d, err := decodeRecord(string(k), v)
				if err != nil {
					return err
				}
				for _, r := range d.Tree.Revs() {
					for _, ref := range BlobRefs(r.Body) {
						used[ref.Digest] = true
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		resolvedBlobRefs(tx, used)
		blobs := tx.btx.Bucket(bucketBlobs)
		var unused [][]byte
		blobs.ForEach(func(k, _ []byte) error {
			if !used[string(k)] {
				unused = append(unused, k)
			}
			return nil
		})
		for _, k := range unused {
			if err := blobs.Delete(k); err != nil {
				return err
			}
		}
		removed = len(unused)
		return nil
	})
	return removed, err
}
