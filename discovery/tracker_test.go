package discovery

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func seen(instance, id, db string, port int, addrs ...string) sighting {
	return sighting{instance: instance, peer: Peer{PeerID: id, Name: instance, Database: db, Port: port, Addrs: sortAddrs(ipsOf(addrs...))}}
}

// describe renders events compactly for comparison.
func describe(events []Event) string {
	s := ""
	for _, ev := range events {
		s += fmt.Sprintf("%v %s:%d; ", ev.Kind, ev.Peer.Key(), ev.Peer.Port)
	}
	return s
}

func TestTrackerSeenUpdatedLost(t *testing.T) {
	tr := newTracker(3 * time.Second)
	a := seen("a", "p1", "db", 1, "10.0.0.1")

	if got, want := describe(tr.observe(at(0), []sighting{a})), "seen p1/db:1; "; got != want {
		t.Errorf("first round: %q, want %q", got, want)
	}
	if got := tr.observe(at(1), []sighting{a}); len(got) != 0 {
		t.Errorf("unchanged round gave events: %s", describe(got))
	}
	if p := tr.list()[0]; !p.LastSeen.Equal(at(1)) {
		t.Errorf("LastSeen = %v, want %v", p.LastSeen, at(1))
	}

	moved := seen("a", "p1", "db", 1, "10.0.0.2")
	ev := tr.observe(at(2), []sighting{moved})
	if got, want := describe(ev), "updated p1/db:1; "; got != want {
		t.Fatalf("address change: %q, want %q", got, want)
	}
	if !ev[0].Peer.Addrs[0].Equal(ipsOf("10.0.0.2")[0]) {
		t.Errorf("updated peer has addrs %v", ev[0].Peer.Addrs)
	}

	// Missing rounds within LostAfter keep the peer.
	if got := tr.observe(at(5), nil); len(got) != 0 {
		t.Errorf("peer dropped 3s after last sighting (not yet over LostAfter): %s", describe(got))
	}
	if got, want := describe(tr.observe(at(5.1), nil)), "lost p1/db:1; "; got != want {
		t.Errorf("after LostAfter: %q, want %q", got, want)
	}
	if len(tr.list()) != 0 {
		t.Errorf("lost peer still listed")
	}
}

func TestTrackerDeduplicatesByPeerAndDatabase(t *testing.T) {
	tr := newTracker(3 * time.Second)
	first := seen("a-instance", "p1", "db", 1, "10.0.0.1")
	second := seen("b-instance", "p1", "db", 2, "10.0.0.1")
	other := seen("c-instance", "p1", "other", 3, "10.0.0.1")

	got := describe(tr.observe(at(0), []sighting{second, other, first}))
	if want := "seen p1/db:1; seen p1/other:3; "; got != want {
		t.Fatalf("round 1: %q, want %q", got, want)
	}
	// Rounds that hear only one of the two must not flap while both live.
	for i, round := range [][]sighting{{second}, {first}, {second, first}} {
		if ev := tr.observe(at(float64(i+1)), append(round, other)); len(ev) != 0 {
			t.Errorf("round %d flapped: %s", i+2, describe(ev))
		}
	}
	// When the preferred instance goes, the other takes over: an update.
	got = describe(tr.observe(at(7.5), []sighting{second, other}))
	if want := "updated p1/db:2; "; got != want {
		t.Errorf("after the first instance expired: %q, want %q", got, want)
	}
}
