package syncengine

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/internal/faultproxy"
)

// TestResilienceListenerRestart stops a listener under two continuous
// replicators and starts a new one on the same port: both see close 4001
// (which Couchbase Lite retries, unlike 1001), go offline, reconnect by
// themselves and finish what was written meanwhile.
func TestResilienceListenerRestart(t *testing.T) {
	checkNoLeaks(t)
	a, b, c := newPeer(t, "a"), newPeer(t, "b"), newPeer(t, "c")
	l, url := b.listen(t, nil)
	port := l.Port()
	a.putMany(t, 300, "a")
	c.putMany(t, 300, "c")
	reps := []*Replicator{
		a.startReplicator(t, ReplicatorConfig{Target: url, Type: PushAndPull, Continuous: true}),
		c.startReplicator(t, ReplicatorConfig{Target: url, Type: PushAndPull, Continuous: true}),
	}
	for _, r := range reps {
		waitFor(t, "idle", func() bool { return r.Status().Activity == Idle })
	}
	l.Stop()
	for i, r := range reps {
		waitFor(t, "offline", func() bool { return r.Status().Activity == Offline })
		var ce *blip.CloseError
		if st := r.Status(); !errors.As(st.Error, &ce) || ce.Code != blip.CloseAppTransient || !ce.Remote || !st.Transient || st.NextAttempt.IsZero() {
			t.Errorf("replicator %d after listener stop: %+v, want close 4001 from the listener, transient, a next attempt", i, st)
		}
	}
	// Writes while the listener is down.
	a.putMany(t, 100, "a-late")
	b.putMany(t, 100, "b-late")
	l2, _ := b.listen(t, func(c *ListenerConfig) { c.Port = port })
	if l2.Port() != port {
		t.Fatalf("new listener on port %d, want %d", l2.Port(), port)
	}
	waitFor(t, "everything replicated after the restart", func() bool {
		na, _ := a.coll().Count()
		nb, _ := b.coll().Count()
		nc, _ := c.coll().Count()
		return na == 800 && nb == 800 && nc == 800
	})
	for _, r := range reps {
		waitFor(t, "idle again", func() bool { return r.Status().Activity == Idle })
	}
	sameDocs(t, a, b)
	sameDocs(t, c, b)
}

// TestListenerStopSendsRetryableCloseCode checks the close frame itself,
// as any peer sees it: code 4001, the code LiteCore's replicator retries.
func TestListenerStopSendsRetryableCloseCode(t *testing.T) {
	checkNoLeaks(t)
	b := newPeer(t, "b")
	l, url := b.listen(t, nil)
	c := dialRaw(t, url)
	waitFor(t, "the listener to count the connection", func() bool { return l.Status().ConnectionCount == 1 })
	l.Stop()
	<-c.Done()
	var ce *blip.CloseError
	if err := c.Err(); !errors.As(err, &ce) || !ce.Remote || ce.Code != blip.CloseAppTransient || ce.Reason != "listener stopped" {
		t.Fatalf("connection ended with %v, want close 4001 \"listener stopped\" from the listener", err)
	}
}

// TestResilienceVanishedClientFreesConnection cuts a replicator's TCP
// connection under the listener (RST, no close frame): the listener must
// notice and drop the session.
func TestResilienceVanishedClientFreesConnection(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, _ := b.listen(t, nil)
	proxy, err := faultproxy.New(localAddr(l.Port()), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	a.putMany(t, 200, "a")
	r := a.startReplicator(t, ReplicatorConfig{Target: wsURL(proxy.Addr(), "b"), Type: PushAndPull,
		Continuous: true, MaxAttemptWaitTime: time.Hour})
	waitFor(t, "idle", func() bool { return r.Status().Activity == Idle })
	if n := l.Status().ConnectionCount; n != 1 {
		t.Fatalf("connection count %d, want 1", n)
	}
	proxy.SetRefuse(true) // the client does not come back
	proxy.DropAll()
	waitFor(t, "listener frees the connection", func() bool { return l.Status().ConnectionCount == 0 })
	waitFor(t, "replicator offline", func() bool { return r.Status().Activity == Offline })
	// The listener still serves a new client normally.
	c := newPeer(t, "c")
	c.put(t, "from-c", `{}`)
	c.replicate(t, ReplicatorConfig{Target: wsURL(localAddr(l.Port()), "b"), Type: Push})
	if _, err := b.coll().Get("from-c"); err != nil {
		t.Fatal(err)
	}
}

// TestResilienceHeartbeatDetectsDeadPeer stalls the connection in both
// directions: a replicator with a 200 ms heartbeat must declare it dead
// within heartbeat plus the idle grace (5 s here), then retry and carry on
// once the path works again.
func TestResilienceHeartbeatDetectsDeadPeer(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, _ := b.listen(t, nil)
	proxy, err := faultproxy.New(localAddr(l.Port()), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	const heartbeat = 200 * time.Millisecond
	grace := max(heartbeat/2, 5*time.Second) // as the replicator computes its idle timeout
	r := a.startReplicator(t, ReplicatorConfig{Target: wsURL(proxy.Addr(), "b"), Type: PushAndPull,
		Continuous: true, Heartbeat: heartbeat})
	waitFor(t, "idle", func() bool { return r.Status().Activity == Idle })
	// Pings flow and keep the idle connection up: an idle replication
	// sends nothing else, so bytes through the proxy are heartbeats (a
	// ping and its pong are at least 8 bytes).
	base := proxy.Stats().Bytes
	waitFor(t, "three heartbeats", func() bool {
		if st := r.Status(); st.Activity != Idle {
			t.Fatalf("idle connection with heartbeat did not stay up: %+v", st)
		}
		return proxy.Stats().Bytes >= base+3*8
	})
	proxy.SetStall(true)
	stalled := time.Now()
	waitFor(t, "dead connection detected", func() bool { return r.Status().Activity == Offline })
	took := time.Since(stalled)
	proxy.SetStall(false)
	if err := r.Status().Error; !errors.Is(err, blip.ErrIdleTimeout) {
		t.Errorf("error = %v, want the idle timeout", err)
	}
	if took < grace-time.Second {
		t.Errorf("declared dead after %v, before the %v grace", took, grace)
	}
	t.Logf("dead connection detected after %v (heartbeat %v, idle timeout %v)", took, heartbeat, heartbeat+grace)
	for i := range 3 {
		a.put(t, fmt.Sprintf("after-%d", i), `{}`)
	}
	waitFor(t, "replication resumes", func() bool { n, _ := b.coll().Count(); return n == 3 })
	waitFor(t, "listener drops the dead session", func() bool { return l.Status().ConnectionCount == 1 })
}

// TestReplicatorFollowsLiteCoreOnPeerCloseCodes runs a continuous
// replicator against a fake peer that accepts and at once closes with a
// given code: after 1001 (going away) it stops for good, as Couchbase
// Lite's replicator does; after 4001 it goes offline and comes back by
// itself.
func TestReplicatorFollowsLiteCoreOnPeerCloseCodes(t *testing.T) {
	for _, c := range []struct {
		code      int
		transient bool
	}{{blip.CloseGoingAway, false}, {blip.CloseAppTransient, true}} {
		t.Run(fmt.Sprint(c.code), func(t *testing.T) {
			checkNoLeaks(t)
			var accepted atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/_blipsync") {
					w.Write([]byte(`{"db_name":"db","uuid":"fake-peer"}`))
					return
				}
				conn, err := blip.Accept(w, r, blip.Options{})
				if err != nil {
					return
				}
				accepted.Add(1)
				conn.Start()
				conn.CloseWithCode(c.code, "peer closing")
			}))
			defer srv.Close()
			a := newPeer(t, "a")
			r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: strings.Replace(srv.URL, "http", "ws", 1) + "/db",
				Type: Pull, Continuous: true})
			if err != nil {
				t.Fatal(err)
			}
			r.Start(false)
			defer r.Stop()
			var ce *blip.CloseError
			if !c.transient {
				waitFor(t, "the replicator to stop by itself", func() bool { return r.Status().Activity == Stopped })
				if st := r.Status(); st.Activity != Stopped || st.Transient || !errors.As(st.Error, &ce) || ce.Code != c.code || accepted.Load() != 1 {
					t.Fatalf("after close %d: %+v, %d connections; want stopped for good after one", c.code, st, accepted.Load())
				}
				return
			}
			waitFor(t, "a second connection made by the replicator itself", func() bool { return accepted.Load() >= 2 })
			if st := r.Status(); !errors.As(st.Error, &ce) || ce.Code != c.code || !st.Transient {
				t.Fatalf("after close %d: %+v; want a transient error", c.code, st)
			}
		})
	}
}
