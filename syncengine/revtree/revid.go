package revtree

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadRevID reports a revision ID that is not "N-digest" with N ≥ 1.
var ErrBadRevID = errors.New("invalid revision ID")

// maxGeneration bounds generations so arithmetic on them never overflows.
const maxGeneration = 1 << 40

// ParseRevID splits "N-digest" into its generation and digest.
func ParseRevID(id string) (gen int, digest string, err error) {
	dash := strings.IndexByte(id, '-')
	if dash <= 0 || dash == len(id)-1 || dash > 12 {
		return 0, "", fmt.Errorf("%w: %q", ErrBadRevID, id)
	}
	n, err := strconv.ParseUint(id[:dash], 10, 64)
	if err != nil || n == 0 || n > maxGeneration {
		return 0, "", fmt.Errorf("%w: %q", ErrBadRevID, id)
	}
	return int(n), id[dash+1:], nil
}

// Generation returns the generation of a revision ID, or 0 if it is invalid.
func Generation(id string) int {
	gen, _, err := ParseRevID(id)
	if err != nil {
		return 0
	}
	return gen
}

// CompareRevIDs orders revision IDs by generation, then by digest bytes.
// Invalid IDs sort before valid ones.
func CompareRevIDs(a, b string) int {
	ga, da, _ := ParseRevID(a)
	gb, db, _ := ParseRevID(b)
	switch {
	case ga < gb:
		return -1
	case ga > gb:
		return 1
	}
	return strings.Compare(da, db)
}

// NewRevID makes the ID of a child of parent ("" for a first revision): the
// next generation and a SHA-1 over the parent's ID, the deleted flag and the
// body, so equal edits made on two peers get equal IDs.
func NewRevID(parent string, deleted bool, body []byte) string {
	h := sha1.New()
	h.Write([]byte{byte(len(parent))})
	h.Write([]byte(parent))
	if deleted {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	h.Write(body)
	// Built in one buffer on the stack: this runs for every revision stored.
	var sum [sha1.Size]byte
	var buf [24 + 2*sha1.Size]byte
	id := strconv.AppendInt(buf[:0], int64(Generation(parent)+1), 10)
	id = append(id, '-')
	id = hex.AppendEncode(id, h.Sum(sum[:0]))
	return string(id)
}
