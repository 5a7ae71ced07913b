package repl

import "sync"

// seqTracker follows sequences in the order they were seen and reports the
// last one before which everything is finished. Sequences are opaque JSON
// texts (a peer's sequences need not be numbers).
type seqTracker struct {
	mu      sync.Mutex
	pending []string        // in arrival order, oldest first
	done    map[string]bool // finished but not yet at the front
	last    string          // the newest sequence with everything before it finished
}

func newSeqTracker(start string) *seqTracker {
	return &seqTracker{done: map[string]bool{}, last: start}
}

// add records a sequence as started.
func (t *seqTracker) add(seq string) {
	t.mu.Lock()
	t.pending = append(t.pending, seq)
	t.mu.Unlock()
}

// finish marks a sequence done and advances over the finished prefix.
func (t *seqTracker) finish(seq string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done[seq] = true
	for len(t.pending) > 0 && t.done[t.pending[0]] {
		delete(t.done, t.pending[0])
		t.last = t.pending[0]
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
