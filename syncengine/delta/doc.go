// Package delta creates and applies JSON deltas in the format Couchbase
// Mobile peers exchange for delta sync (Fleece's JSONDelta format).
//
// A delta is itself a JSON value, read against the old value it applies to:
//
//   - v (not an array or object) replaces the value with v;
//   - [v] replaces the value with v (the form used when v is an array or object);
//   - [] deletes the value (an object key);
//   - {k: d, ...} on an object applies delta d to the value at key k (a key the
//     old object lacks is an insertion); on an array the keys are decimal
//     indices into the old array, and a key "n-" holds the values that replace
//     every item from index n onward (appends and truncation);
//   - ["patch", 0, 2] edits a string over its old UTF-8 bytes with the ops
//     "N=" (copy N bytes), "N-" (skip N bytes) and "N+<N bytes>|" (insert);
//     the = and - counts must add up to the old string's byte length.
//
// For compatibility with Fleece's applier, the JsonDiffPatch forms
// [old, new] (replace) and [old, 0, 0] (delete) are accepted too; Create never
// emits them.
//
// Create compares objects key by key and arrays index by index (plus an "n-"
// tail), emits string patches only for new strings of at least 60 bytes, and
// at every level falls back to plain replacement when the delta would not be
// smaller than it. Its output is deterministic. An unchanged value gives {}.
//
// Apply is strict: anything that does not fit the format (unknown shapes,
// indices out of range, string patch counts that do not sum to the old
// length, patches that leave invalid UTF-8) is an *Error wrapping
// ErrMalformed, never a panic. Numbers are decoded with UseNumber so they
// round-trip exactly; object keys in Apply's output are sorted.
package delta
