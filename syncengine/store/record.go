package store

import (
	"encoding/binary"
	"fmt"

	"peersync/syncengine/hlv"
	"peersync/syncengine/revtree"
)

// A document record: uvarint(sequence) | flags | [vectors] | revtree
// encoding. The vectors (see appendVectors) are there when flagVectors is
// set; records written before version vectors have none.
// A change entry:    flags | uvarint(len) docID | uvarint(len) revID | uvarint(body size).

const (
	flagDeleted = 1 << iota
	flagConflicted
	flagVectors // record only
)

func encodeRecord(d *Document) []byte {
	buf := make([]byte, 0, 64+len(d.Body)+32*d.Tree.Len()+40*len(d.vectors))
	buf = binary.AppendUvarint(buf, d.Sequence)
	flags := docFlags(d)
	if len(d.vectors) > 0 {
		flags |= flagVectors
	}
	buf = append(buf, flags)
	if len(d.vectors) > 0 {
		buf = appendVectors(buf, &d.Tree, d.vectors)
	}
	return d.Tree.AppendBinary(buf)
}

func docFlags(d *Document) byte {
	var f byte
	if d.Deleted {
		f |= flagDeleted
	}
	if d.Conflicted {
		f |= flagConflicted
	}
	return f
}

// decodeRecord parses a record. The result aliases data, so callers copy
// data first when it came from bbolt and must outlive the transaction.
func decodeRecord(id string, data []byte) (*Document, error) {
	seq, n := binary.Uvarint(data)
	if n <= 0 || len(data) < n+1 {
		return nil, fmt.Errorf("%w: document %q: corrupt record", ErrDamaged, id)
	}
	flags, rest := data[n], data[n+1:]
	var entries []vectorEntry
	if flags&flagVectors != 0 {
		var ok bool
		if entries, rest, ok = readVectors(rest); !ok {
			return nil, fmt.Errorf("%w: document %q: corrupt version vectors", ErrDamaged, id)
		}
	}
	tree, err := revtree.Decode(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: document %q: %w", ErrDamaged, id, err)
	}
	d := &Document{ID: id, Sequence: seq, Tree: tree}
	if len(entries) > 0 {
		revs := tree.Revs()
		d.vectors = make([]revVector, len(entries))
		for i, e := range entries {
			if e.rev >= len(revs) {
				return nil, fmt.Errorf("%w: document %q: version vector of a revision not in its tree", ErrDamaged, id)
			}
			d.vectors[i] = revVector{revs[e.rev].ID, e.vec}
		}
	}
	d.refresh()
	return d, nil
}

// recordVector reads the vector of revision rev from a record without
// decoding the revision tree (see Document.VectorOf). The result does not
// alias data.
func recordVector(id string, data []byte, rev string) (hlv.Vector, error) {
	_, n := binary.Uvarint(data)
	if n <= 0 || len(data) < n+1 {
		return hlv.Vector{}, fmt.Errorf("%w: document %q: corrupt record", ErrDamaged, id)
	}
	flags, rest := data[n], data[n+1:]
	if flags&flagVectors != 0 {
		entries, tree, ok := readVectors(rest)
		if !ok {
			return hlv.Vector{}, fmt.Errorf("%w: document %q: corrupt version vectors", ErrDamaged, id)
		}
		i, found, err := revtree.IndexOf(tree, rev)
		if err != nil {
			return hlv.Vector{}, fmt.Errorf("%w: document %q: %w", ErrDamaged, id, err)
		}
		for _, e := range entries {
			if found && e.rev == i {
				return e.vec, nil
			}
		}
	}
	return legacyVector(rev), nil
}

func encodeChange(c *Change) []byte {
	buf := make([]byte, 0, 8+len(c.DocID)+len(c.RevID))
	var f byte
	if c.Deleted {
		f |= flagDeleted
	}
	if c.Conflicted {
		f |= flagConflicted
	}
	buf = append(buf, f)
	buf = binary.AppendUvarint(buf, uint64(len(c.DocID)))
	buf = append(buf, c.DocID...)
	buf = binary.AppendUvarint(buf, uint64(len(c.RevID)))
	buf = append(buf, c.RevID...)
	return binary.AppendUvarint(buf, uint64(c.BodySize))
}

func decodeChange(coll string, seq uint64, data []byte) (Change, error) {
	bad := func() (Change, error) {
		return Change{}, fmt.Errorf("%w: collection %s sequence %d: corrupt change entry", ErrDamaged, coll, seq)
	}
	if len(data) < 1 {
		return bad()
	}
	c := Change{Collection: coll, Sequence: seq, Deleted: data[0]&flagDeleted != 0, Conflicted: data[0]&flagConflicted != 0}
	data = data[1:]
	var ok bool
	if c.DocID, data, ok = readString(data); !ok {
		return bad()
	}
	if c.RevID, data, ok = readString(data); !ok {
		return bad()
	}
	size, n := binary.Uvarint(data)
	if n <= 0 {
		return bad()
	}
	c.BodySize = int(size)
	return c, nil
}

func readString(data []byte) (string, []byte, bool) {
	l, n := binary.Uvarint(data)
	if n <= 0 || l > uint64(len(data)-n) {
		return "", nil, false
	}
	return string(data[n : n+int(l)]), data[n+int(l):], true
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}
