package delta

import (
	"encoding/json"
	"math/rand"
	"strconv"
	"strings"
)

// Random JSON values for property tests: nested objects and arrays, short and
// long strings with multi-byte UTF-8, numbers, bools and null.

var textPieces = []string{
	"a", "b", "the ", "quick ", "fox", " ", "é", "ü", "中文", "日本", "😀", "🎉",
	"\"", "\\", "\n", "\t", "<&>", "\u2028", "\x01", "|", "=", "+", "-", "0", "42",
}

func randomText(r *rand.Rand, long bool) string {
	n := r.Intn(6)
	if long {
		n = 20 + r.Intn(80)
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(textPieces[r.Intn(len(textPieces))])
	}
	return b.String()
}

func randomNumber(r *rand.Rand) json.Number {
	switch r.Intn(4) {
	case 0:
		return json.Number(strconv.Itoa(r.Intn(1000) - 500))
	case 1:
		return json.Number(strconv.FormatFloat(r.NormFloat64()*1e3, 'g', -1, 64))
	case 2:
		return json.Number("1.50") // same value as 1.5, different text
	default:
		return json.Number("123456789012345678901234567890")
	}
}

func randomScalar(r *rand.Rand) any {
	switch r.Intn(6) {
	case 0:
		return nil
	case 1:
		return r.Intn(2) == 0
	case 2:
		return randomNumber(r)
	case 3:
		return randomText(r, true)
	default:
		return randomText(r, false)
	}
}

func randomValue(r *rand.Rand, depth int) any {
	if depth <= 0 || r.Intn(3) == 0 {
		return randomScalar(r)
	}
	if r.Intn(2) == 0 {
		n := r.Intn(6)
		m := make(map[string]any, n)
		for i := 0; i < n; i++ {
			m[randomText(r, false)] = randomValue(r, depth-1)
		}
		return m
	}
	n := r.Intn(6)
	a := make([]any, n)
	for i := range a {
		a[i] = randomValue(r, depth-1)
	}
	return a
}

// mutate returns a changed copy of v (v itself is left alone), so pairs are
// mostly alike the way successive revisions of a document are.
func mutate(r *rand.Rand, v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x)+1)
		for k, item := range x {
			switch r.Intn(8) {
			case 0: // delete the key
			case 1, 2:
				out[k] = mutate(r, item, depth-1)
			default:
				out[k] = item
			}
		}
		if r.Intn(3) == 0 {
			out[randomText(r, false)] = randomValue(r, depth-1)
		}
		return out
	case []any:
		out := make([]any, 0, len(x)+2)
		for _, item := range x {
			if r.Intn(4) == 0 {
				out = append(out, mutate(r, item, depth-1))
			} else {
				out = append(out, item)
			}
		}
		switch r.Intn(4) {
		case 0:
			out = append(out, randomValue(r, depth-1))
		case 1:
			if len(out) > 0 {
				out = out[:r.Intn(len(out))]
			}
		}
		return out
	case string:
		if r.Intn(5) == 0 {
			return randomScalar(r)
		}
		return mutateText(r, x)
	default:
		if r.Intn(4) == 0 {
			return randomValue(r, depth)
		}
		return randomScalar(r)
	}
}

// mutateText edits a string at a few character boundaries.
func mutateText(r *rand.Rand, s string) string {
	runes := []rune(s)
	for edits := 1 + r.Intn(3); edits > 0; edits-- {
		at := r.Intn(len(runes) + 1)
		cut := min(at+r.Intn(4), len(runes))
		insert := []rune(randomText(r, false))
		runes = append(runes[:at:at], append(insert, runes[cut:]...)...)
	}
	return string(runes)
}
