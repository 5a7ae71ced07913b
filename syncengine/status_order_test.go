package syncengine

import (
	"sync"
	"testing"
)

// Statuses set from two goroutines (the session and the progress
// reporter) are published in the order they were set, so the last event
// a subscriber sees is the replicator's status, and Seq orders them. A stale last event left
// the GUI showing "busy" after a replication had stopped.
func TestStatusEventsKeepTheirOrder(t *testing.T) {
	p := newPeer(t, "a")
	r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: "ws://127.0.0.1:1/db"})
	if err != nil {
		t.Fatal(err)
	}
	const perGoroutine = 5000
	sub := p.e.Subscribe(4 * perGoroutine)
	defer sub.Close()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range perGoroutine {
				r.setStatus(func(s *ReplicatorStatus) { s.Progress.Completed++ })
			}
		})
	}
	wg.Wait()
	var last int64
	for n := 0; n < 2*perGoroutine; {
		ev := <-sub.C
		st, ok := ev.(ReplicatorStatusChanged)
		if !ok || st.ID != r.ID() {
			continue
		}
		n++
		if st.Status.Progress.Completed <= last {
			t.Fatalf("event %d says %d completed after an event that said %d", n, st.Status.Progress.Completed, last)
		}
		last = st.Status.Progress.Completed
		if st.Status.Seq != uint64(last) { // each set changed it once
			t.Fatalf("event %d has Seq %d, want %d", n, st.Status.Seq, last)
		}
	}
	if got := r.Status().Seq; got != uint64(last) {
		t.Fatalf("Status().Seq = %d after the last event's %d", got, last)
	}
	if sub.Dropped() != 0 {
		t.Fatalf("%d events dropped", sub.Dropped())
	}
}
