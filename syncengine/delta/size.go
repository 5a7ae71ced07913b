package delta

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// encodedSize returns the length of v as compact JSON (the way encode writes
// it, without HTML escaping), or some number above limit once the size is
// known to exceed limit. The early stop keeps "is the delta smaller than the
// new value?" cheap when the value is large and the delta small.
func encodedSize(v any, limit int) int {
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		if x {
			return 4
		}
		return 5
	case string:
		return stringSize(x)
	case json.Number:
		return len(x)
	case map[string]any:
		size := 2 + max(len(x)-1, 0) // braces and commas
		for k, item := range x {
			size += stringSize(k) + 1 // key and colon
			if size > limit {
				return size
			}
			size += encodedSize(item, limit-size)
			if size > limit {
				return size
			}
		}
		return size
	case []any:
		size := 2 + max(len(x)-1, 0)
		for _, item := range x {
			if size > limit {
				return size
			}
			size += encodedSize(item, limit-size)
		}
		return size
	default:
		// Values that did not come from decoding JSON (ints, floats, ...).
		b, err := json.Marshal(v)
		if err != nil {
			return limit + 1
		}
		return len(b)
	}
}

// stringSize is the length of s as a JSON string literal, matching
// encoding/json with HTML escaping off.
func stringSize(s string) int {
	size := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				size += 2
			case c < 0x20:
				size += 6 // \u00XX
			default:
				size++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			size += 6 // written as \ufffd
		case r == '\u2028' || r == '\u2029':
			size += 6
		default:
			size += n
		}
		i += n
	}
	return size
}

// digits is the length of n written in decimal.
func digits(n int) int { return len(strconv.Itoa(n)) }
