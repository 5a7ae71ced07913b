package delta

import (
	"strings"
	"unicode/utf8"
)

// applyStringPatch edits old with a string patch ("N=", "N-", "N+bytes|"
// ops). Every count is checked against what is left of old or of the patch
// before it is used, so the output never exceeds len(old)+len(patch).
func applyStringPatch(old, patch string, p *path) (string, error) {
	if patch == "" {
		return "", malformed(p, "empty string patch")
	}
	var out strings.Builder
	out.Grow(len(old))
	pos := 0 // bytes of old consumed
	i := 0   // bytes of patch consumed
	for i < len(patch) {
		n, next, ok := readCount(patch, i)
		if !ok {
			return "", malformed(p, "string patch: expected a byte count")
		}
		if next >= len(patch) {
			return "", malformed(p, "string patch: count without an op")
		}
		op := patch[next]
		i = next + 1
		switch op {
		case '=', '-':
			if n > len(old)-pos {
				return "", malformed(p, "string patch: counts exceed the old string's length")
			}
			if op == '=' {
				out.WriteString(old[pos : pos+n])
			}
			pos += n
		case '+':
			if n >= len(patch)-i || patch[i+n] != '|' {
				return "", malformed(p, "string patch: insertion not followed by '|'")
			}
			out.WriteString(patch[i : i+n])
			i += n + 1
		default:
			return "", malformed(p, "string patch: unknown op "+quoteByte(op))
		}
	}
	if pos != len(old) {
		return "", malformed(p, "string patch: counts do not sum to the old string's length")
	}
	result := out.String()
	// A patch that cuts a multi-byte character leaves text that is not UTF-8;
	// JSON could not carry it, so the delta is wrong for this old value.
	if !utf8.ValidString(result) && utf8.ValidString(old) {
		return "", malformed(p, "string patch produces invalid UTF-8")
	}
	return result, nil
}

// readCount parses the decimal count starting at patch[i]. Counts are capped
// at 12 digits so the arithmetic cannot overflow; the caller checks each
// count against the bytes actually left.
func readCount(patch string, i int) (n, next int, ok bool) {
	start := i
	for i < len(patch) && patch[i] >= '0' && patch[i] <= '9' {
		if i-start >= 12 {
			return 0, 0, false
		}
		n = n*10 + int(patch[i]-'0')
		i++
	}
	return n, i, i > start
}

func quoteByte(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return "'" + string(rune(b)) + "'"
	}
	return "0x" + string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15])
}
