package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxDocIDLength bounds document IDs (bytes), as Couchbase Lite does.
const MaxDocIDLength = 250

// ValidateDocID rejects empty, overlong, non-UTF-8 IDs and IDs with control
// characters or a leading underscore (reserved by the protocol).
func ValidateDocID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > MaxDocIDLength:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidID, MaxDocIDLength)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidID)
	case id[0] == '_':
		return fmt.Errorf("%w: %q starts with '_'", ErrInvalidID, id)
	case strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: %q has control characters", ErrInvalidID, id)
	}
	return nil
}

var collNamePart = regexp.MustCompile(`^(_default|[A-Za-z0-9][A-Za-z0-9_%-]{0,250})$`)

// ValidateCollectionName checks "scope.collection" with Couchbase's rules
// for each part.
func ValidateCollectionName(name string) error {
	scope, coll, ok := strings.Cut(name, ".")
	if !ok || !collNamePart.MatchString(scope) || !collNamePart.MatchString(coll) {
		return fmt.Errorf("%w: %q (want scope.collection, letters, digits, _ - %%)", ErrInvalidName, name)
	}
	return nil
}

// normalizeBody checks that body is a JSON object of valid UTF-8 within the
// size limit whose top-level keys do not start with '_' (except those in
// allowed), and returns it compacted: body itself when it already is, as
// bodies from peers are, so a replicated revision costs one pass and no copy.
// The caller must therefore own body (see Tx.Put).
func normalizeBody(body []byte, maxSize int, allowed ...string) ([]byte, error) {
	if len(body) > maxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, len(body), maxSize)
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalidBody)
	}
	spaced, err := scanObject(body, func(raw []byte) error {
		if len(raw) == 0 || raw[0] != '_' && raw[0] != '\\' {
			return nil
		}
		k, err := decodeKey(raw)
		if err != nil {
			return err
		}
		if strings.HasPrefix(k, "_") && !contains(allowed, k) {
			return fmt.Errorf("%w: top-level key %q is reserved (keys may not start with '_')", ErrInvalidBody, k)
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrInvalidBody):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrInvalidBody, err)
	case !spaced:
		return body, nil
	}
	var out bytes.Buffer
	out.Grow(len(body))
	if err := json.Compact(&out, body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidBody, err)
	}
	return out.Bytes(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CheckPut reports whether Put would accept id and body in this
// transaction, without writing: the ID, the body and the blobs it
// references.
func (tx *Tx) CheckPut(id string, body []byte) error {
	if err := ValidateDocID(id); err != nil {
		return err
	}
	body, err := normalizeBody(body, tx.db.opts.MaxBodySize, "_attachments")
	if err != nil {
		return err
	}
	return tx.checkBlobs(body)
}
