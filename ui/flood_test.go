package ui

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"peersync/service"
	"peersync/syncengine"
)

// floodDocs is how many documents TestReplicationFloodIsCoalesced moves:
// 20,000 by default, to keep the package's tests near a minute under the
// race detector (100,000 take about 50 s there on two cores); set
// PEERSYNC_UI_FLOOD_DOCS=100000 for the full run.
func floodDocs(t *testing.T) int {
	n := 20_000
	if v := os.Getenv("PEERSYNC_UI_FLOOD_DOCS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("PEERSYNC_UI_FLOOD_DOCS=%q is not a positive number", v)
		}
	}
	return n
}

// TestReplicationFloodIsCoalesced pushes many small documents to a second
// engine over 127.0.0.1 with the Replications screen open, and counts its
// redraws: at most maxUpdatesPerSecond a second, however many events come.
func TestReplicationFloodIsCoalesced(t *testing.T) {
	if testing.Short() {
		t.Skip("moves many documents")
	}
	n := floodDocs(t)
	h := newHarness(t)
	db := h.database("bulk")
	for start := 0; start < n; start += 5000 {
		err := db.Batch(func(b *syncengine.Batch) error {
			for i := start; i < min(start+5000, n); i++ {
				if _, err := b.Save(db.DefaultCollection(), fmt.Sprintf("d%06d", i), []byte(fmt.Sprintf(`{"n":%d}`, i)), syncengine.SaveOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	peer := newPeerEngine(t)
	dest, err := peer.CreateDatabase("bulk")
	if err != nil {
		t.Fatal(err)
	}
	l, err := peer.NewListener(syncengine.ListenerConfig{Database: dest, DisableTLS: true, NetworkInterface: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()

	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	before := rs.refreshes
	start := time.Now()
	rs.save("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "bulk-push", Database: "bulk", Target: l.URLs()[0], Type: service.TypePush, AutoStart: true}})
	var statusEvents, docEvents int
	deadline := start.Add(5 * time.Minute)
	for {
		st := rs.status("bulk-push")
		if st.Activity == syncengine.Stopped && st.Progress.Completed == int64(n) && st.Pushed == int64(n) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replication did not finish: %+v", st)
		}
		select {
		case fn := <-h.loop.queue:
			fn()
		case ev := <-h.sub.C:
			switch ev.(type) {
			case syncengine.ReplicatorStatusChanged:
				statusEvents++
			case syncengine.DocumentsReplicated:
				docEvents++
			}
			h.u.handle([]syncengine.Event{ev})
		case <-time.After(50 * time.Millisecond):
		}
	}
	h.settle() // the last scheduled redraw
	elapsed := time.Since(start)
	redraws := rs.refreshes - before
	// One redraw may open each 100 ms window, and one catch-up reload
	// (for events dropped under load) each second; the reloads after
	// saving and on meeting the new replicator add a few.
	limit := int(elapsed/(time.Second/maxUpdatesPerSecond)) + 1 + int(elapsed/(time.Second/catchUpsPerSecond)) + 1 + 4
	t.Logf("%d documents in %v: %d status and %d document events, %d redraws (limit %d)",
		n, elapsed.Round(time.Millisecond), statusEvents, docEvents, redraws, limit)
	if redraws > limit {
		t.Errorf("%d redraws in %v: more than %d a second", redraws, elapsed, maxUpdatesPerSecond)
	}
	if redraws < 2 {
		t.Errorf("only %d redraws: progress was not shown", redraws)
	}
	// Finished, the row says how the run ended and what it moved.
	if !hasText(rs.list, fmt.Sprintf("completed · %s pushed", service.Thousands(int64(n)))) {
		t.Errorf("list shows %q", texts(rs.list))
	}
	if len(rs.logs["bulk-push"].entries) != min(n, maxDocLog) {
		t.Errorf("document log keeps %d entries, want %d", len(rs.logs["bulk-push"].entries), maxDocLog)
	}
}
