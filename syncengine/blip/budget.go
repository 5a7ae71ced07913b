package blip

import (
	"errors"
	"sync"
	"sync/atomic"
)

// MemoryBudget bounds the memory that the incoming messages of many
// connections hold together. Share one through Options.Budget; a message
// that would take more than is left is refused while it is still arriving
// (the inflater stops at the limit), so a deflate bomb never gets its memory.
type MemoryBudget struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64
}

// NewMemoryBudget returns a budget of limit bytes.
func NewMemoryBudget(limit int64) *MemoryBudget { return &MemoryBudget{limit: limit} }

// Limit is the budget's size in bytes.
func (b *MemoryBudget) Limit() int64 { return b.limit }

// InUse is how many bytes incoming messages hold right now.
func (b *MemoryBudget) InUse() int64 { return b.used.Load() }

// Peak is the most InUse has ever been.
func (b *MemoryBudget) Peak() int64 { return b.peak.Load() }

func (b *MemoryBudget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			for p := b.peak.Load(); used+n > p && !b.peak.CompareAndSwap(p, used+n); p = b.peak.Load() {
			}
			return true
		}
	}
}

func (b *MemoryBudget) give(n int64) { b.used.Add(-n) }

// sharedFree is what each connection may hold without drawing on the shared
// budget, so small messages (requests, checkpoints, change lists) still get
// through while big ones have used the shared budget up.
const sharedFree = 256 << 10

var (
	errOverConnMemory   = errors.New("message exceeds the connection's memory for incoming messages")
	errOverSharedMemory = errors.New("incoming messages of all connections have used up their shared memory; try again later")
)

// memAccount is one connection's share: its own limit, and above sharedFree
// bytes the shared budget too. The reader takes; the reader and the
// dispatcher give back. close returns everything at once when the
// connection ends; later gives are then no-ops.
type memAccount struct {
	limit  int64
	shared *MemoryBudget // nil: no shared budget

	mu     sync.Mutex
	used   int64
	closed bool
}

func newMemAccount(limit int64, shared *MemoryBudget) *memAccount {
	return &memAccount{limit: limit, shared: shared}
}

// take charges n bytes, or fails with errOverConnMemory or
// errOverSharedMemory and charges nothing.
func (a *memAccount) take(n int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errOverConnMemory
	}
	if a.used+int64(n) > a.limit {
		return errOverConnMemory
	}
	if s := a.sharedPart(a.used+int64(n)) - a.sharedPart(a.used); s > 0 && !a.shared.take(s) {
		return errOverSharedMemory
	}
	a.used += int64(n)
	return nil
}

func (a *memAccount) give(n int) {
	if n == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if s := a.sharedPart(a.used) - a.sharedPart(a.used-int64(n)); s > 0 {
		a.shared.give(s)
	}
	a.used -= int64(n)
}

// inUse is what the account holds now.
func (a *memAccount) inUse() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// close gives back all the account holds.
func (a *memAccount) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if s := a.sharedPart(a.used); s > 0 {
		a.shared.give(s)
	}
	a.used, a.closed = 0, true
}

// sharedPart is how much of used bytes the shared budget carries.
func (a *memAccount) sharedPart(used int64) int64 {
	if a.shared == nil {
		return 0
	}
	return max(0, used-sharedFree)
}
