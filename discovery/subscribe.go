package discovery

import "sync"

// subscriberBuffer is how many events a subscriber may fall behind by,
// beyond the initial snapshot, before events are dropped.
const subscriberBuffer = 64

type subscription struct {
	ch        chan Event
	closeOnce sync.Once
}

func (s *subscription) close() { s.closeOnce.Do(func() { close(s.ch) }) }

// Subscribe returns a channel of peer events and a function that ends the
// subscription and closes the channel. The channel first carries PeerSeen
// for every current peer, then changes as they happen. A subscriber that
// falls behind loses events (see DroppedEvents) instead of blocking the
// browser. After Stop the channel carries the snapshot and is then closed.
func (b *Browser) Subscribe() (<-chan Event, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	peers := b.peersLocked()
	sub := &subscription{ch: make(chan Event, len(peers)+subscriberBuffer)}
	for _, p := range peers {
		sub.ch <- Event{Kind: PeerSeen, Peer: p}
	}
	if b.stopped {
		sub.close()
		return sub.ch, func() {}
	}
	b.subs[sub] = struct{}{}
	cancel := func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[sub]; ok {
			delete(b.subs, sub)
			sub.close()
		}
	}
	return sub.ch, cancel
}

// DroppedEvents counts events that subscribers were too slow to take.
func (b *Browser) DroppedEvents() uint64 { return b.dropped.Load() }

// publishLocked hands an event to every subscriber without waiting.
// The caller holds b.mu, which also keeps channels from closing meanwhile.
func (b *Browser) publishLocked(ev Event) {
	for sub := range b.subs {
		select {
		case sub.ch <- Event{Kind: ev.Kind, Peer: clonePeer(ev.Peer)}:
		default:
			b.dropped.Add(1)
		}
	}
}
