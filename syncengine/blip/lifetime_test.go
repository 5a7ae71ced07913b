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

// TestUnansweredCountsRequestsAwaitingResponse: a request that wants a
// response counts until its first response; a NoReply request never does.
func TestUnansweredCountsRequestsAwaitingResponse(t *testing.T) {
	held := make(chan *Request, 2)
	srv, cli := newPair(t, Options{}, Options{}, func(c *Conn) {
		c.Handle("hold", func(r *Request) { held <- r })
	}, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	if err := cli.SendNoReply(ctx, &Message{Properties: Properties{"Profile": "hold"}}); err != nil {
		t.Fatal(err)
	}
	<-held
	if n := srv.Unanswered(); n != 0 {
		t.Fatalf("a NoReply request counts as unanswered: %d", n)
	}
	answered := make(chan error, 1)
	go func() {
		_, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "hold"}})
		answered <- err
	}()
	r := <-held
	if n := srv.Unanswered(); n != 1 {
		t.Fatalf("Unanswered = %d while a request waits, want 1", n)
	}
	r.Respond(nil, nil)
	r.RespondError("", CodeUnspecified, "a second response does not count")
	if n := srv.Unanswered(); n != 0 {
		t.Fatalf("Unanswered = %d after the response, want 0", n)
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
}
