package discovery

import (
	"slices"
	"strings"
	"time"
)

// sighting is one answer from one query round: an instance and what it said.
type sighting struct {
	instance string
	peer     Peer
}

// tracker turns rounds of sightings into the list of discovered peers and
// the events that change it. It holds no locks and does no I/O; the browser
// serialises calls to it.
type tracker struct {
	lostAfter time.Duration
	instances map[string]seenInstance // by instance name
	peers     map[string]Peer         // by Key, as last reported
}

type seenInstance struct {
	peer     Peer
	lastSeen time.Time
}

func newTracker(lostAfter time.Duration) *tracker {
	return &tracker{
		lostAfter: lostAfter,
		instances: make(map[string]seenInstance),
		peers:     make(map[string]Peer),
	}
}

// observe records a round of sightings made at now, forgets instances not
// seen for longer than lostAfter, and returns the resulting events in key
// order.
func (t *tracker) observe(now time.Time, sightings []sighting) []Event {
	for _, s := range sightings {
		t.instances[s.instance] = seenInstance{peer: s.peer, lastSeen: now}
	}
	for name, inst := range t.instances {
		if now.Sub(inst.lastSeen) > t.lostAfter {
			delete(t.instances, name)
		}
	}
	current := t.merge()

	var events []Event
	for key, p := range current {
		old, known := t.peers[key]
		switch {
		case !known:
			events = append(events, Event{Kind: PeerSeen, Peer: clonePeer(p)})
		case !samePeer(old, p):
			events = append(events, Event{Kind: PeerUpdated, Peer: clonePeer(p)})
		}
	}
	for key, old := range t.peers {
		if _, ok := current[key]; !ok {
			events = append(events, Event{Kind: PeerLost, Peer: clonePeer(old)})
		}
	}
	t.peers = current
	slices.SortFunc(events, func(a, b Event) int { return strings.Compare(a.Peer.Key(), b.Peer.Key()) })
	return events
}

// merge folds instances into one peer per key. When one database is
// announced under several instance names, the alphabetically first instance
// describes it, so the choice does not flap between rounds; LastSeen is the
// latest of them.
func (t *tracker) merge() map[string]Peer {
	names := make([]string, 0, len(t.instances))
	for name := range t.instances {
		names = append(names, name)
	}
	slices.Sort(names)
	merged := make(map[string]Peer, len(names))
	for _, name := range names {
		inst := t.instances[name]
		p := inst.peer
		p.LastSeen = inst.lastSeen
		key := p.Key()
		if first, ok := merged[key]; ok {
			if p.LastSeen.After(first.LastSeen) {
				first.LastSeen = p.LastSeen
				merged[key] = first
			}
			continue
		}
		merged[key] = p
	}
	return merged
}

// list returns the discovered peers.
func (t *tracker) list() []Peer {
	out := make([]Peer, 0, len(t.peers))
	for _, p := range t.peers {
		out = append(out, clonePeer(p))
	}
	return out
}
