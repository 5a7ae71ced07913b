package syncengine

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Load test size: the full figures without -race. The race detector slows
// replication about fivefold, so -race keeps the crowd of 20 but gives each
// fewer documents. pingTimeout is a generous bound on one answer from the
// listener: the test asserts that it keeps answering, not how fast (the
// slowest answer is logged; docs/benchmarks.md has the figures). Tighter
// bounds (2 s, 3 s with -race) failed beside other builds on 2 cores.
func loadSize() (replicators, docsEach int, pingTimeout time.Duration) {
	if raceEnabled {
		return 20, 200, 30 * time.Second
	}
	return 20, 2000, 15 * time.Second
}

// loadHeapBound is a generous bound on the peak HeapInuse.
const loadHeapBound = 1 << 30

// TestResilienceLoadManyReplicators runs many continuous push-and-pull
// replicators, each from its own engine with documents of its own, against
// one listener. All must converge while the listener keeps answering its
// HTTP endpoint and the heap stays bounded.
func TestResilienceLoadManyReplicators(t *testing.T) {
	checkNoLeaks(t)
	nReps, nDocs, loadPingTimeout := loadSize()
	total := nReps * nDocs
	hub := newPeer(t, "hub")
	l, url := hub.listen(t, nil)
	peers := make([]*peer, nReps)
	for i := range peers {
		peers[i] = newPeer(t, fmt.Sprintf("p%02d", i))
		peers[i].putMany(t, nDocs, fmt.Sprintf("p%02d-", i))
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	var pingErrs []string
	var peakHeap uint64
	pings := 0
	wg.Add(2)
	go func() { // the listener's HTTP endpoint stays responsive
		defer wg.Done()
		client := &http.Client{Timeout: loadPingTimeout}
		defer client.CloseIdleConnections()
		target := fmt.Sprintf("http://127.0.0.1:%d/hub/", l.Port())
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			start := time.Now()
			resp, err := client.Get(target)
			took := time.Since(start)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %s", resp.Status)
				}
			}
			mu.Lock()
			pings++
			slowest = max(slowest, took)
			if err != nil || took > loadPingTimeout {
				pingErrs = append(pingErrs, fmt.Sprintf("after %v: %v", took, err))
			}
			mu.Unlock()
		}
	}()
	go func() { // peak heap
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peakHeap = max(peakHeap, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()

	start := time.Now()
	reps := make([]*Replicator, nReps)
	for i, p := range peers {
		reps[i] = p.startReplicator(t, ReplicatorConfig{Target: url, Type: PushAndPull, Continuous: true})
	}
	lastCheck := time.Now()
	waitFor(t, fmt.Sprintf("%d replicators to converge on %d documents", nReps, total), func() bool {
		// Counting scans every database: do it a few times a second only.
		if time.Since(lastCheck) < 250*time.Millisecond {
			return false
		}
		lastCheck = time.Now()
		if n, _ := hub.coll().Count(); n != total {
			return false
		}
		for _, p := range peers {
			if n, _ := p.coll().Count(); n != total {
				return false
			}
		}
		return true
	})
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	for _, r := range reps {
		r.Stop()
		if st := r.Status(); st.Error != nil {
			t.Errorf("replicator error: %v", st.Error)
		}
	}
	for _, p := range peers {
		sameDocs(t, p, hub)
	}
	t.Logf("%d replicators × %d documents each way: converged in %v; %d pings, slowest %v; peak HeapInuse %.1f MiB",
		nReps, nDocs, elapsed.Round(time.Millisecond), pings, slowest.Round(time.Millisecond), float64(peakHeap)/(1<<20))
	if len(pingErrs) > 0 {
		t.Errorf("listener endpoint failing under load (%d of %d): %v", len(pingErrs), pings, pingErrs)
	}
	if pings == 0 {
		t.Error("the listener endpoint was never polled")
	}
	if peakHeap > loadHeapBound {
		t.Errorf("peak HeapInuse %d MiB, over the %d MiB bound", peakHeap>>20, loadHeapBound>>20)
	}
}
