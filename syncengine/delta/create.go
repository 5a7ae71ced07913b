package delta

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// CreateValue returns the delta that turns old into new, both decoded JSON
// values (map[string]any, []any, string, json.Number, bool, nil). If they are
// equal it returns the no-op delta {} and changed=false. The delta may share
// parts of new; treat both as read-only afterwards.
func CreateValue(old, new any) (delta any, changed bool) {
	d, changed := diff(old, new)
	if !changed {
		return map[string]any{}, false
	}
	return d, true
}

// diff returns the delta for one value position, or changed=false.
func diff(old, new any) (any, bool) {
	switch n := new.(type) {
	case map[string]any:
		if o, ok := old.(map[string]any); ok {
			d := diffObject(o, n)
			if len(d) == 0 {
				return nil, false
			}
			return smallerOf(d, n), true
		}
	case []any:
		if o, ok := old.([]any); ok {
			d := diffArray(o, n)
			if len(d) == 0 {
				return nil, false
			}
			return smallerOf(d, n), true
		}
	case string:
		if o, ok := old.(string); ok {
			if o == n {
				return nil, false
			}
			if len(n) >= minStringPatchLen {
				patched := []any{stringPatch(o, n), json.Number("0"), json.Number("2")}
				if encodedSize(patched, math.MaxInt) < stringSize(n) {
					return patched, true
				}
			}
			return n, true
		}
	default:
		if scalarEqual(old, new) {
			return nil, false
		}
	}
	return replacement(new), true
}

// smallerOf picks the incremental delta d for container value new unless it
// is not smaller than replacing new outright.
func smallerOf(d map[string]any, new any) any {
	dSize := encodedSize(d, math.MaxInt)
	// The replacement is [new]: two bytes more than new itself.
	if encodedSize(new, dSize)+2 <= dSize {
		return replacement(new)
	}
	return d
}

// replacement is the delta that sets a value to v: v itself, or [v] when v
// is an array or object (which would otherwise read as a delta).
func replacement(v any) any {
	switch v.(type) {
	case map[string]any, []any:
		return []any{v}
	}
	return v
}

// diffObject returns the per-key deltas between two objects (empty if equal).
func diffObject(old, new map[string]any) map[string]any {
	var d map[string]any // allocated on the first difference: most subtrees are equal
	for k, nv := range new {
		ov, ok := old[k]
		if !ok {
			d = setKey(d, k, replacement(nv))
			continue
		}
		if sub, changed := diff(ov, nv); changed {
			d = setKey(d, k, sub)
		}
	}
	for k := range old {
		if _, ok := new[k]; !ok {
			d = setKey(d, k, []any{}) // deletion
		}
	}
	return d
}

func setKey(m map[string]any, k string, v any) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	m[k] = v
	return m
}

// diffArray compares arrays index by index, as Couchbase Lite does, and puts
// any difference in length into an "n-" tail (empty for truncation).
func diffArray(old, new []any) map[string]any {
	var d map[string]any
	common := min(len(old), len(new))
	for i := 0; i < common; i++ {
		if sub, changed := diff(old[i], new[i]); changed {
			d = setKey(d, strconv.Itoa(i), sub)
		}
	}
	if len(old) != len(new) {
		d = setKey(d, strconv.Itoa(common)+"-", append([]any{}, new[common:]...))
	}
	return d
}

// scalarEqual compares two non-container values. Numbers compare by their
// text so that what is sent is exactly what was stored.
func scalarEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	case string, map[string]any, []any:
		return false // new is not a string/container here, or the types differ
	}
	return reflect.DeepEqual(a, b)
}
