package blip

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseWaitsForRunningHandler checks that no handler outlives Close:
// the handler below is still working when the connection ends, and Close
// must not return before it has.
func TestCloseWaitsForRunningHandler(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	srv, cli := newPair(t, Options{}, Options{}, func(c *Conn) {
		c.Handle("work", func(r *Request) {
			close(started)
			<-c.Done()
			// Work that runs on after the connection ended, as a handler
			// finishing a database write would; it widens the window in
			// which a Close that did not wait would already have returned.
			time.Sleep(50 * time.Millisecond)
			finished.Store(true)
		})
	}, nil)
	if err := cli.SendNoReply(ctxTimeout(t, 10*time.Second), &Message{Properties: Properties{"Profile": "work"}}); err != nil {
		t.Fatal(err)
	}
	<-started
	srv.Close()
	if !finished.Load() {
		t.Fatal("Close returned while a handler was still running")
	}
}
