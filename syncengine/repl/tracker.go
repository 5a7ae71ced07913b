package repl

import (
	"encoding/json"
	"sync"
)

// seqTracker follows sequences in the order they were seen and reports the
// last one before which everything is finished. Sequences are opaque (a
// peer's need not be numbers): each has a key, used to finish it, and the
// JSON text saved in checkpoints.
type seqTracker struct {
	mu      sync.Mutex
	pending []string          // keys in arrival order, oldest first
	raw     map[string]string // key → JSON text, for pending keys
	done    map[string]bool   // finished but not yet at the front
	last    string            // JSON text of the newest sequence with everything before it finished
}

func newSeqTracker(start string) *seqTracker {
	return &seqTracker{raw: map[string]string{}, done: map[string]bool{}, last: start}
}

// add records a sequence as started; seq is its JSON text. A sequence
// already pending is not added again: a peer may offer one twice, and it
// is finished once.
func (t *seqTracker) add(seq string) {
	key := seqKey(seq)
	t.mu.Lock()
	if _, pending := t.raw[key]; !pending {
		t.pending = append(t.pending, key)
		t.raw[key] = seq
	}
	t.mu.Unlock()
}

// seqKey identifies a sequence whether it came as JSON text (a changes row:
// 12 or "12:34") or as a plain property value (a rev's sequence: 12:34).
func seqKey(s string) string {
	var str string
	if len(s) > 1 && s[0] == '"' && json.Unmarshal([]byte(s), &str) == nil {
		return str
	}
	return s
}

// finish marks a sequence done (by JSON text or plain value) and advances
// over the finished prefix. A sequence that is not pending is ignored, so a
// stray or repeated finish cannot mark a later offer of it done in advance.
func (t *seqTracker) finish(seq string) {
	key := seqKey(seq)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, pending := t.raw[key]; !pending {
		return
	}
	t.done[key] = true
	for len(t.pending) > 0 && t.done[t.pending[0]] {
		key := t.pending[0]
		delete(t.done, key)
		t.last = t.raw[key]
		delete(t.raw, key)
		t.pending = t.pending[1:]
	}
}

// checkpoint returns the newest sequence with everything before it done.
func (t *seqTracker) checkpoint() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// busy returns the number of unfinished sequences.
func (t *seqTracker) busy() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}
