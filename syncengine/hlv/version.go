package hlv

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SourceID names the author of a version: 16 bytes, written as standard
// base64 without the trailing "==", always 22 characters. A Couchbase Lite
// database uses its public UUID; a PeerSync database has one of its own.
type SourceID [16]byte

// LegacySource is the source of versions synthesised from a revision-tree
// revision ID ("Revision+Tree+Encoding"); see LegacyVersion.
var LegacySource = mustSource("Revision+Tree+Encoding")

// NewSourceID returns a random source ID.
func NewSourceID() (SourceID, error) {
	var s SourceID
	if _, err := rand.Read(s[:]); err != nil {
		return SourceID{}, fmt.Errorf("hlv: new source ID: %w", err)
	}
	return s, nil
}

// ParseSourceID reads the 22-character form. Only the canonical spelling is
// accepted: Couchbase Lite refuses any other (non-zero padding bits, "*",
// other lengths), so PeerSync neither accepts nor emits one.
func ParseSourceID(s string) (SourceID, error) {
	var id SourceID
	if len(s) != 22 {
		return id, fmt.Errorf("%w: source ID %q is not 22 characters", ErrInvalid, s)
	}
	n, err := base64.RawStdEncoding.Strict().Decode(id[:], []byte(s))
	if err != nil || n != 16 {
		return SourceID{}, fmt.Errorf("%w: source ID %q is not canonical base64", ErrInvalid, s)
	}
	return id, nil
}

func mustSource(s string) SourceID {
	id, err := ParseSourceID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func (s SourceID) String() string { return base64.RawStdEncoding.EncodeToString(s[:]) }

// IsZero reports whether s is the zero source (never valid on the wire).
func (s SourceID) IsZero() bool { return s == SourceID{} }

// ErrInvalid is wrapped by every parse and validation error of this package.
var ErrInvalid = errors.New("invalid version")

// Version is one entry of a vector: a hybrid-logical time and its author.
type Version struct {
	Time   uint64
	Source SourceID
}

// ParseVersion reads "<hex time>@<source>": lowercase hex, no leading zeros,
// no "0x", a non-zero time. Whether the time is plausible (not too old or
// too far ahead) is CheckTime's job, since that depends on the clock.
func ParseVersion(s string) (Version, error) {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return Version{}, fmt.Errorf("%w: %q has no '@'", ErrInvalid, s)
	}
	hex := s[:at]
	if hex == "" || len(hex) > 16 || hex[0] == '0' {
		return Version{}, fmt.Errorf("%w: %q: time must be lowercase hex without leading zeros", ErrInvalid, s)
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return Version{}, fmt.Errorf("%w: %q: time must be lowercase hex without leading zeros", ErrInvalid, s)
		}
	}
	t, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %q: %v", ErrInvalid, s, err)
	}
	src, err := ParseSourceID(s[at+1:])
	if err != nil {
		return Version{}, err
	}
	return Version{Time: t, Source: src}, nil
}

func (v Version) String() string {
	return strconv.FormatUint(v.Time, 16) + "@" + v.Source.String()
}

// IsZero reports whether v is the zero Version.
func (v Version) IsZero() bool { return v == Version{} }

// IsLegacy reports whether v was synthesised from a revision ID.
func (v Version) IsLegacy() bool { return v.Source == LegacySource }

// LegacyVersion maps a revision-tree revision ID "G-<hex digest>" to its
// version: source LegacySource, time G<<40 | the first 40 bits of the
// digest (its first 10 hex digits, right-padded with zeros). Couchbase Lite
// and Sync Gateway treat a revision ID and this version as the same
// revision.
func LegacyVersion(revID string) (Version, error) {
	gen, digest, err := splitRevID(revID)
	if err != nil {
		return Version{}, err
	}
	if gen >= 1<<24 {
		return Version{}, fmt.Errorf("%w: revision ID %q: generation too large for a version", ErrInvalid, revID)
	}
	if len(digest) > 10 {
		digest = digest[:10]
	}
	digest += strings.Repeat("0", 10-len(digest))
	low, err := strconv.ParseUint(digest, 16, 64)
	if err != nil {
		return Version{}, fmt.Errorf("%w: revision ID %q: digest is not hex", ErrInvalid, revID)
	}
	return Version{Time: gen<<40 | low, Source: LegacySource}, nil
}

// IsRevID reports whether s looks like a revision-tree revision ID rather
// than a version: Couchbase Lite tells them apart by '@' versus '-'.
func IsRevID(s string) bool {
	return !strings.Contains(s, "@") && strings.Contains(s, "-")
}

func splitRevID(revID string) (uint64, string, error) {
	dash := strings.IndexByte(revID, '-')
	if dash <= 0 || dash == len(revID)-1 {
		return 0, "", fmt.Errorf("%w: %q is not a revision ID", ErrInvalid, revID)
	}
	gen, err := strconv.ParseUint(revID[:dash], 10, 64)
	if err != nil || gen == 0 {
		return 0, "", fmt.Errorf("%w: %q is not a revision ID", ErrInvalid, revID)
	}
	digest := revID[dash+1:]
	for i := 0; i < len(digest); i++ {
		if c := digest[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return 0, "", fmt.Errorf("%w: %q: digest is not lowercase hex", ErrInvalid, revID)
		}
	}
	return gen, digest, nil
}
