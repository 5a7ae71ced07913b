package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// maxJSONDepth is how deeply arrays and objects may nest: encoding/json's own
// limit, so that what this scanner accepts json.Valid accepts too.
const maxJSONDepth = 10000

// errJSONSyntax is what scanObject reports for any malformed input; the
// caller wraps it with the offset.
var errJSONSyntax = errors.New("invalid JSON")

// objectScan is one pass over a JSON object that checks its syntax, notes
// whether it holds insignificant whitespace, and calls key for each
// top-level key. Incoming bodies are almost always compact already, so the
// store can keep their bytes as they are instead of decoding them into a
// map and encoding them again. UTF-8 is the caller's check (utf8.Valid).
type objectScan struct {
	data     []byte
	pos      int
	spaced   bool // whitespace was skipped somewhere: the text is not compact
	topLevel func(rawKey []byte) error
}

// scanObject checks that data is exactly one JSON object (surrounding
// whitespace allowed), calling topLevel with each top-level key's raw text
// (between the quotes, escapes not decoded). It reports whether data holds
// whitespace that compaction would remove.
func scanObject(data []byte, topLevel func(rawKey []byte) error) (spaced bool, err error) {
	s := &objectScan{data: data, topLevel: topLevel}
	s.space()
	if s.pos >= len(data) || data[s.pos] != '{' {
		return false, fmt.Errorf("%w: not a JSON object", errJSONSyntax)
	}
	if err := s.value(0); err != nil {
		return false, err
	}
	s.space()
	if s.pos != len(data) {
		return false, s.fail("data after the object")
	}
	return s.spaced, nil
}

func (s *objectScan) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errJSONSyntax, what, s.pos)
}

func (s *objectScan) space() {
	start := s.pos
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			s.spaced = s.spaced || s.pos > start
			return
		}
	}
	s.spaced = s.spaced || s.pos > start
}

func (s *objectScan) value(depth int) error {
	if s.pos >= len(s.data) {
		return s.fail("unexpected end")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail("unexpected character")
}

func (s *objectScan) object(depth int) error {
	if depth > maxJSONDepth {
		return s.fail("nested too deeply")
	}
	s.pos++ // '{'
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail("expected a key")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if depth == 1 && s.topLevel != nil {
			if err := s.topLevel(key); err != nil {
				return err
			}
		}
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail("expected ':'")
		}
		s.pos++
		s.space()
		if err := s.value(depth); err != nil {
			return err
		}
		s.space()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.space()
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

func (s *objectScan) array(depth int) error {
	if depth > maxJSONDepth {
		return s.fail("nested too deeply")
	}
	s.pos++ // '['
	s.space()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.value(depth); err != nil {
			return err
		}
		s.space()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.space()
		case ']':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or ']'")
		}
	}
}

// str scans a string and returns its raw contents.
func (s *objectScan) str() ([]byte, error) {
	s.pos++ // '"'
	start := s.pos
	for s.pos < len(s.data) {
		s.pos = plainRun(s.data, s.pos)
		if s.pos >= len(s.data) {
			break
		}
		switch c := s.data[s.pos]; {
		case c == '"':
			raw := s.data[start:s.pos]
			s.pos++
			return raw, nil
		case c == '\\':
			if s.pos+1 >= len(s.data) {
				return nil, s.fail("unexpected end")
			}
			switch s.data[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				if s.pos+6 > len(s.data) || !isHex4(s.data[s.pos+2:s.pos+6]) {
					return nil, s.fail(`bad \u escape`)
				}
				s.pos += 6
			default:
				return nil, s.fail("bad escape")
			}
		case c < 0x20:
			return nil, s.fail("control character in a string")
		default:
			s.pos++
		}
	}
	return nil, s.fail("unterminated string")
}

// Masks for plainRun: every byte 0x01, 0x80, '"', '\\', or 0x20.
const (
	ones      = 0x0101010101010101
	highBits  = 0x8080808080808080
	quotes    = '"' * ones
	backslash = '\\' * ones
	spaces    = ' ' * ones
)

// plainRun returns the index of the first byte at or after i that ends a
// plain run inside a string (a quote, a backslash or a control character),
// or len(data). It looks at eight bytes at a time: strings are most of a
// body, and a byte at a time they were the largest cost of storing one.
func plainRun(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		w := binary.LittleEndian.Uint64(data[i:])
		// special has a high bit set exactly when some byte of w is below
		// 0x20, '"' or '\\' (the classic "has a zero byte" test, on w with
		// each of those bytes XORed away); bytes of UTF-8 sequences pass.
		q, bs := w^quotes, w^backslash
		special := (w-spaces)&^w | (q-ones)&^q | (bs-ones)&^bs
		if special&highBits != 0 {
			break
		}
	}
	for ; i < len(data); i++ {
		if c := data[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *objectScan) digits() int {
	start := s.pos
	for s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos - start
}

func (s *objectScan) number() error {
	if s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case s.digits() == 0:
		return s.fail("bad number")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.fail("bad number")
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.fail("bad number")
		}
	}
	return nil
}

func (s *objectScan) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.fail("unexpected character")
	}
	s.pos += len(word)
	return nil
}

// decodeKey returns a raw key's text with its escapes decoded.
func decodeKey(raw []byte) (string, error) {
	for _, c := range raw {
		if c == '\\' {
			var k string
			err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &k)
			return k, err
		}
	}
	return string(raw), nil
}
