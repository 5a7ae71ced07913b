package revtree

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt reports encoded tree bytes that cannot be decoded.
var ErrCorrupt = errors.New("corrupt revision tree encoding")

// Encoding, per revision: uvarint(len(ID)) ID, uvarint(parent index + 1;
// 0 = none), flags byte (1 = deleted, 2 = has body), and for a body
// uvarint(len) bytes. Preceded by uvarint(count).

const (
	flagDeleted = 1 << iota
	flagHasBody
)

// AppendBinary appends the tree's encoding to buf.
func (t *Tree) AppendBinary(buf []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(t.revs)))
	for _, r := range t.revs {
		buf = binary.AppendUvarint(buf, uint64(len(r.ID)))
		buf = append(buf, r.ID...)
		buf = binary.AppendUvarint(buf, uint64(t.indexOf(r.Parent)+1))
		var flags byte
		if r.Deleted {
			flags |= flagDeleted
		}
		if r.Body != nil {
			flags |= flagHasBody
		}
		buf = append(buf, flags)
		if r.Body != nil {
			buf = binary.AppendUvarint(buf, uint64(len(r.Body)))
			buf = append(buf, r.Body...)
		}
	}
	return buf
}

// Decode parses an encoding made by AppendBinary. Bodies alias data.
func Decode(data []byte) (Tree, error) {
	r := reader{data: data}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(data)) {
		return Tree{}, ErrCorrupt
	}
	revs := make([]Rev, 0, n)
	seen := make(map[string]bool, n)
	parents := make([]uint64, 0, n)
	for range n {
		var rev Rev
		rev.ID = string(r.bytes())
		parents = append(parents, r.uvarint())
		flags := r.byte()
		rev.Deleted = flags&flagDeleted != 0
		if flags&flagHasBody != 0 {
			rev.Body = r.bytes()
			if rev.Body == nil {
				rev.Body = []byte{}
			}
		}
		if r.err != nil {
			return Tree{}, r.err
		}
		if _, _, err := ParseRevID(rev.ID); err != nil {
			return Tree{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if seen[rev.ID] {
			return Tree{}, fmt.Errorf("%w: duplicate revision %q", ErrCorrupt, rev.ID)
		}
		seen[rev.ID] = true
		revs = append(revs, rev)
	}
	for i, p := range parents {
		// Parents precede children, which also rules out cycles.
		if p > uint64(i) {
			return Tree{}, fmt.Errorf("%w: bad parent index", ErrCorrupt)
		}
		if p > 0 {
			revs[i].Parent = revs[p-1].ID
		}
	}
	if len(r.data) != 0 {
		return Tree{}, fmt.Errorf("%w: trailing bytes", ErrCorrupt)
	}
	return Tree{revs: revs}, nil
}

// IndexOf finds revision id in an encoded tree without decoding it: its
// position among the tree's revisions, as Decode and Revs order them.
// Unlike Decode it does not check the encoding beyond what it reads.
func IndexOf(data []byte, id string) (int, bool, error) {
	r := reader{data: data}
	n := r.uvarint()
	for i := range n {
		found := string(r.bytes()) == id // compared without allocating
		r.uvarint()                      // parent
		if flags := r.byte(); flags&flagHasBody != 0 {
			r.bytes()
		}
		if r.err != nil {
			return 0, false, r.err
		}
		if found {
			return int(i), true, nil
		}
	}
	return 0, false, r.err
}

type reader struct {
	data []byte
	err  error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data)
	if n <= 0 {
		r.err = ErrCorrupt
		return 0
	}
	r.data = r.data[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.data) == 0 {
		r.err = ErrCorrupt
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.data)) {
		r.err = ErrCorrupt
		return nil
	}
	b := r.data[:n:n]
	r.data = r.data[n:]
	return b
}
