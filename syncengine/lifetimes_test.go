package syncengine

import (
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"
)

// stressIterations bounds each loop of the lifetime stress test: enough
// to hit the old lock-order inversion many times over, few enough for a
// loaded 2-core machine under -race.
const stressIterations = 1000

// TestStressSubscribeAgainstStartStop loops subscribe/close against
// listener start/stop and replicator start/stop. Subscribing takes a
// snapshot that asks every listener and replicator for its state, while
// they publish as they start and stop: a lock held across both directions
// deadlocks, which the deadline below turns into a failure.
func TestStressSubscribeAgainstStartStop(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, err := b.e.NewListener(ListenerConfig{Database: b.db, NetworkInterface: "127.0.0.1", DisableTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	_, url := b.listen(t, nil) // a second listener that stays up, for the replicator
	r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: url, Type: PushAndPull, Continuous: true})
	if err != nil {
		t.Fatal(err)
	}
	a.put(t, "doc", `{"v":1}`)

	var wg sync.WaitGroup
	loop := func(n int, fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				fn()
			}
		}()
	}
	loop(stressIterations, func() {
		if err := l.Start(); err != nil {
			t.Errorf("listener start: %v", err)
		}
		l.Stop()
	})
	loop(stressIterations, func() { r.Start(false); r.Stop() })
	for _, e := range []*Engine{a.e, b.e, b.e} {
		loop(20*stressIterations, func() {
			s := e.Subscribe(4)
			s.Close()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		// A deadlock would also hang the cleanups (and a panic runs them
		// first), so end the process here with the goroutines that show it.
		fmt.Fprintln(os.Stderr, "--- FAIL: TestStressSubscribeAgainstStartStop: subscribe/close against start/stop did not finish: deadlock")
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		os.Exit(1)
	}
}
