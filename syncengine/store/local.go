package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Local documents are not replicated: checkpoints live here. Their revs are
// "N-cc" with N counting saves, as Couchbase peers expect for checkpoints.

// GetLocal returns a local document's current rev and body (a copy).
func (tx *Tx) GetLocal(id string) (rev string, body []byte, err error) {
	v := tx.btx.Bucket(bucketLocal).Get([]byte(id))
	if v == nil {
		return "", nil, fmt.Errorf("local document %q: %w", id, ErrNotFound)
	}
	rev, rest, ok := readString(v)
	if !ok {
		return "", nil, fmt.Errorf("%w: local document %q: corrupt", ErrDamaged, id)
	}
	return rev, bytes.Clone(rest), nil
}

// PutLocal saves a local document if prevRev is its current rev ("" when
// it must not exist yet) and returns the new rev; otherwise ErrConflict.
func (tx *Tx) PutLocal(id string, body []byte, prevRev string) (string, error) {
	cur, _, err := tx.GetLocal(id)
	if err != nil && cur == "" && prevRev != "" {
		return "", fmt.Errorf("%w: local document %q does not exist", ErrConflict, id)
	}
	if cur != prevRev {
		return "", fmt.Errorf("%w: local document %q is at %q, not %q", ErrConflict, id, cur, prevRev)
	}
	gen := 0
	if cur != "" {
		gen, _ = strconv.Atoi(strings.TrimSuffix(cur, "-cc"))
	}
	rev := strconv.Itoa(gen+1) + "-cc"
	v := binary.AppendUvarint(nil, uint64(len(rev)))
	v = append(v, rev...)
	v = append(v, body...)
	return rev, tx.btx.Bucket(bucketLocal).Put([]byte(id), v)
}

// DeleteLocal removes a local document; missing is not an error.
func (tx *Tx) DeleteLocal(id string) error {
	return tx.btx.Bucket(bucketLocal).Delete([]byte(id))
}
