package syncengine

import (
	"sync"
	"sync/atomic"

	"peersync/syncengine/store"
)

// Event is anything the engine publishes. The concrete types are below and
// in the listener and replicator files.
type Event interface{ isEvent() }

// DocumentsChanged reports committed writes to one database.
type DocumentsChanged struct {
	Database string
	Changes  []store.Change
}

func (DocumentsChanged) isEvent() {}

// DatabasesChanged reports that a database was created or deleted.
type DatabasesChanged struct{}

func (DatabasesChanged) isEvent() {}

// bus fans events out to subscribers without ever blocking a publisher:
// a subscriber whose buffer is full loses the event, which is counted.
//
// Lock order: the bus lock comes first. subscribe holds it while the
// snapshot asks every listener and replicator for its state (taking the
// engine's, listeners' and replicators' locks), so that no event falls
// between the snapshot and the stream. Hence the rule: never call publish
// while holding any other lock; publish after unlocking.
type bus struct {
	mu       sync.Mutex
	subs     map[*Subscription]struct{}
	snapshot func() []Event // state a new subscriber starts from
	sticky   []Event        // said once per engine, and to every later subscriber
}

// Subscription is a stream of events. Read C; call Close when done.
type Subscription struct {
	C       <-chan Event
	c       chan Event
	dropped atomic.Int64
	b       *bus
	once    sync.Once
}

// Dropped returns how many events this subscriber missed because its
// buffer was full.
func (s *Subscription) Dropped() int64 { return s.dropped.Load() }

// Close stops delivery and closes C.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.b.mu.Lock()
		delete(s.b.subs, s)
		close(s.c)
		s.b.mu.Unlock()
	})
}

func (b *bus) subscribe(buffer int) *Subscription {
	if buffer <= 0 {
		buffer = 256
	}
	c := make(chan Event, buffer)
	s := &Subscription{C: c, c: c, b: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[*Subscription]struct{}{}
	}
	for _, e := range b.sticky {
		s.send(e)
	}
	if b.snapshot != nil {
		for _, e := range b.snapshot() {
			s.send(e)
		}
	}
	b.subs[s] = struct{}{}
	return s
}

func (s *Subscription) send(e Event) {
	select {
	case s.c <- e:
	default:
		s.dropped.Add(1)
	}
}

func (b *bus) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.send(e)
	}
}

// publishSticky publishes an event that stays true for the engine's life:
// subscribers that come later get it first thing. Under the bus lock, so
// each subscriber gets it exactly once.
func (b *bus) publishSticky(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sticky = append(b.sticky, e)
	for s := range b.subs {
		s.send(e)
	}
}
