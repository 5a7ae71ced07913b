package syncengine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/repl"
)

// silentPeer is a passive peer written here that keeps its connection
// alive (its WebSocket layer answers pings) but leaves the requests that
// ignore picks unanswered. Otherwise it answers getCheckpoint with 404 and
// setCheckpoint with 409, as when another replicator wrote the checkpoint,
// and accepts every revision.
type silentPeer struct {
	url     string
	ignored chan string // profiles of the requests left unanswered
	cut     func()      // ends every open connection, as a network cut would
}

func startSilentPeer(t *testing.T, ignore func(profile string, n int) bool) *silentPeer {
	t.Helper()
	return startFakePeer(t, ignore, nil)
}

// startFakePeer is startSilentPeer with some answers replaced.
func startFakePeer(t *testing.T, ignore func(profile string, n int) bool, replace map[string]func(*blip.Request)) *silentPeer {
	t.Helper()
	p := &silentPeer{ignored: make(chan string, 100)}
	var mu sync.Mutex
	var conns []*blip.Conn
	counts := map[string]int{}
	answers := map[string]func(*blip.Request){
		"getCheckpoint":  func(q *blip.Request) { q.RespondError("HTTP", 404, "missing") },
		"setCheckpoint":  func(q *blip.Request) { q.RespondError("HTTP", 409, "checkpoint revision mismatch") },
		"proposeChanges": func(q *blip.Request) { q.Respond(nil, []byte("[]")) },
		"rev":            func(q *blip.Request) { q.Respond(nil, nil) },
	}
	for profile, answer := range replace {
		answers[profile] = answer
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/_blipsync") {
			w.Write([]byte(`{"db_name":"db","uuid":"silent-peer"}`))
			return
		}
		c, err := blip.Accept(w, r, blip.Options{})
		if err != nil {
			return
		}
		for profile, answer := range answers {
			c.Handle(profile, func(q *blip.Request) {
				mu.Lock()
				counts[profile]++
				n := counts[profile]
				mu.Unlock()
				if ignore(profile, n) {
					p.ignored <- profile
					return
				}
				answer(q)
			})
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		c.Start()
		<-c.Done()
	}))
	p.cut = func() {
		mu.Lock()
		cs := conns
		conns = nil
		mu.Unlock()
		for _, c := range cs {
			c.CloseWithCode(blip.CloseAppTransient, "cut") // a peer going away for a while
		}
	}
	// Cleanups run last first: this one, registered after the peers of
	// the test, ends the connections before their engines close, so a
	// replicator stuck on an unanswered request cannot hang the cleanup.
	t.Cleanup(func() {
		p.cut()
		srv.Close()
	})
	p.url = strings.Replace(srv.URL, "http", "ws", 1) + "/db"
	return p
}

// TestStopWithPeerThatNeverAnswers: a 409 on setCheckpoint makes the
// replicator ask for the checkpoint again, and the peer never answers that.
// Stop must still return, bounded by the request deadline.
func TestStopWithPeerThatNeverAnswers(t *testing.T) {
	checkNoLeaks(t)
	a := newPeer(t, "a")
	a.put(t, "doc", `{"v":1}`)
	p := startSilentPeer(t, func(profile string, n int) bool { return profile == "getCheckpoint" && n == 2 })
	r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: p.url, Type: Push, Continuous: true,
		Heartbeat: 100 * time.Millisecond, RequestTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	waitFor(t, "the push to finish", func() bool { return r.Status().Activity == Idle && r.Status().Pushed == 1 })
	stopped := make(chan struct{})
	go func() { r.Stop(); close(stopped) }()
	select {
	case <-p.ignored: // the final checkpoint save reached the unanswered request
	case <-time.After(30 * time.Second):
		t.Fatal("the replicator never asked for the checkpoint after the 409")
	}
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("Stop blocked on a request the peer never answers")
	}
}

// TestRunWithPeerThatNeverAnswers: the peer never answers the first
// getCheckpoint. The attempt must fail with ErrNoAnswer instead of waiting
// forever.
func TestRunWithPeerThatNeverAnswers(t *testing.T) {
	checkNoLeaks(t)
	a := newPeer(t, "a")
	p := startSilentPeer(t, func(profile string, n int) bool { return profile == "getCheckpoint" })
	r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: p.url, Type: Push, MaxAttempts: 1,
		Heartbeat: 100 * time.Millisecond, RequestTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	defer r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Wait(ctx); !errors.Is(err, repl.ErrNoAnswer) {
		t.Fatalf("replication ended with %v, want %v", err, repl.ErrNoAnswer)
	}
}
