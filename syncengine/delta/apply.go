package delta

import (
	"encoding/json"
	"sort"
	"strconv"
)

// ApplyValue applies a decoded delta to a decoded old value (map[string]any,
// []any, string, json.Number, bool, nil) and returns the new value. old is not
// modified; the result may share unchanged parts with old and inserted parts
// with delta, so treat all three as read-only afterwards.
func ApplyValue(old any, delta any) (any, error) {
	result, deleted, err := applyAt(old, true, delta, nil)
	if err != nil {
		return nil, err
	}
	if deleted {
		return nil, malformed(nil, "delta deletes the whole value")
	}
	return result, nil
}

// applyAt applies delta to old. present is false when old is a key the
// parent object lacks, i.e. the delta must be an insertion. deleted reports
// that the delta removes the value.
func applyAt(old any, present bool, delta any, p *path) (result any, deleted bool, err error) {
	switch d := delta.(type) {
	case map[string]any:
		if !present {
			return nil, false, malformed(p, "{...} delta for a value that does not exist")
		}
		switch o := old.(type) {
		case map[string]any:
			r, err := patchObject(o, d, p)
			return r, false, err
		case []any:
			r, err := patchArray(o, d, p)
			return r, false, err
		default:
			if len(d) == 0 {
				return old, false, nil // {} means "unchanged" for any value
			}
			return nil, false, malformed(p, "{...} delta for a value that is not an object or array")
		}
	case []any:
		return applyArrayForm(old, present, d, p)
	default:
		return delta, false, nil
	}
}

// applyArrayForm handles the deltas written as arrays: [], [v], [old, new],
// [patch, 0, 2] and [old, 0, 0].
func applyArrayForm(old any, present bool, d []any, p *path) (any, bool, error) {
	switch len(d) {
	case 0:
		if !present {
			return nil, false, malformed(p, "deletion of a value that does not exist")
		}
		return nil, true, nil
	case 1:
		return d[0], false, nil
	case 2:
		if !present {
			return nil, false, malformed(p, "[old, new] replacement of a value that does not exist")
		}
		return d[1], false, nil
	case 3:
		if !isInt(d[1], 0) {
			return nil, false, malformed(p, "three-item delta whose second item is not 0")
		}
		switch {
		case isInt(d[2], 0):
			if !present {
				return nil, false, malformed(p, "deletion of a value that does not exist")
			}
			return nil, true, nil
		case isInt(d[2], 2):
			oldStr, ok := old.(string)
			if !present || !ok {
				return nil, false, malformed(p, "string patch for a value that is not a string")
			}
			patch, ok := d[0].(string)
			if !ok {
				return nil, false, malformed(p, "string patch that is not a string")
			}
			r, err := applyStringPatch(oldStr, patch, p)
			return r, false, err
		default:
			return nil, false, malformed(p, "three-item delta with an unknown code")
		}
	default:
		return nil, false, malformed(p, "array delta with "+strconv.Itoa(len(d))+" items")
	}
}

// patchObject returns a copy of old with each key's delta applied.
func patchObject(old map[string]any, d map[string]any, p *path) (map[string]any, error) {
	out := make(map[string]any, len(old)+len(d))
	for k, v := range old {
		out[k] = v
	}
	// Sorted so that, of several bad keys, the same one is always reported.
	for _, k := range sortedKeys(d) {
		oldValue, present := old[k]
		r, deleted, err := applyAt(oldValue, present, d[k], p.child(k))
		if err != nil {
			return nil, err
		}
		if deleted {
			delete(out, k)
		} else {
			out[k] = r
		}
	}
	return out, nil
}

// patchArray applies an index-keyed delta to an array: "i" keys patch the
// item at index i, an "n-" key replaces everything from index n onward.
func patchArray(old []any, d map[string]any, p *path) ([]any, error) {
	tailStart := len(old)
	var tail []any
	hasTail := false
	type itemDelta struct {
		index int
		key   string
	}
	items := make([]itemDelta, 0, len(d))
	for _, k := range sortedKeys(d) { // sorted: the same bad key is always reported
		v := d[k]
		if n, ok := parseIndex(k, "-"); ok {
			if n > len(old) {
				return nil, malformed(p.child(k), "array tail starts past the end of the array")
			}
			t, ok := v.([]any)
			if !ok {
				return nil, malformed(p.child(k), "array tail is not an array")
			}
			if hasTail {
				return nil, malformed(p, "array delta with two tails")
			}
			tailStart, tail, hasTail = n, t, true
			continue
		}
		n, ok := parseIndex(k, "")
		if !ok {
			return nil, malformed(p.child(k), "array delta key is not an index")
		}
		if n >= len(old) {
			return nil, malformed(p.child(k), "array index out of range")
		}
		items = append(items, itemDelta{n, k})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].index < items[j].index })

	out := make([]any, tailStart, tailStart+len(tail))
	copy(out, old[:tailStart])
	for _, it := range items {
		if it.index >= tailStart {
			return nil, malformed(p.child(it.key), "array index inside the replaced tail")
		}
		r, deleted, err := applyAt(old[it.index], true, d[it.key], p.child(it.key))
		if err != nil {
			return nil, err
		}
		if deleted {
			return nil, malformed(p.child(it.key), "deletion of an array item")
		}
		out[it.index] = r
	}
	return append(out, tail...), nil
}

// parseIndex reads a canonical decimal index (no sign, no leading zeros)
// followed by suffix. Non-canonical spellings are rejected: Fleece only ever
// looks up canonical ones, so anything else would be silently ignored there.
func parseIndex(key, suffix string) (int, bool) {
	if len(key) <= len(suffix) || key[len(key)-len(suffix):] != suffix {
		return 0, false
	}
	digits := key[:len(key)-len(suffix)]
	if len(digits) > 9 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// isInt reports whether v is the JSON number want, however it was decoded.
func isInt(v any, want int) bool {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return err == nil && i == int64(want)
	case float64:
		return n == float64(want)
	case int:
		return n == want
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
