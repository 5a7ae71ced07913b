package repl

import "sync"

// Unacknowledged remembers the revisions a replication sent whose answer
// never came because the connection ended first: the peer may or may not
// have them. When a later connection proposes one again and the peer
// answers 304 (already have it), it reached the peer after all, and the
// session reports it as pushed then. So a replication's pushed count adds
// up across its connections, each revision counted once.
//
// Share one between the sessions of a replication; a nil one remembers
// nothing. It holds at most one revision per document, and only those
// in flight when a connection ended, until the next connection answers
// them. Safe for concurrent use.
type Unacknowledged struct {
	mu   sync.Mutex
	revs map[docKey]string // → the revision sent
}

type docKey struct{ coll, docID string }

// sent records rev as on its way to the peer.
func (u *Unacknowledged) sent(coll, docID, rev string) {
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.revs == nil {
		u.revs = map[docKey]string{}
	}
	u.revs[docKey{coll, docID}] = rev
}

// answered forgets the document: the peer answered (or no longer needs) it.
func (u *Unacknowledged) answered(coll, docID string) {
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.revs, docKey{coll, docID})
}

// confirmed reports whether rev was sent unacknowledged, now that the peer
// says it has it, and forgets the document.
func (u *Unacknowledged) confirmed(coll, docID, rev string) bool {
	if u == nil {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	k := docKey{coll, docID}
	was, ok := u.revs[k]
	delete(u.revs, k)
	return ok && was == rev
}

// Len returns how many revisions are in doubt.
func (u *Unacknowledged) Len() int {
	if u == nil {
		return 0
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.revs)
}
