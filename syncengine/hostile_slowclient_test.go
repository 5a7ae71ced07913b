package syncengine

import (
	"net"
	"testing"
	"time"
)

// TestHostileIdleConnectionsDoNotStarve holds 150 TCP connections open
// that never send a byte (a slow or hostile client) and checks that a normal
// replication still completes, and that the listener closes the idle ones
// after its handshake timeout.
func TestHostileIdleConnectionsDoNotStarve(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := "ws"
		if useTLS {
			name = "wss"
		}
		t.Run(name, func(t *testing.T) { testIdleConnections(t, useTLS) })
	}
}

func testIdleConnections(t *testing.T, useTLS bool) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, url := b.listen(t, func(c *ListenerConfig) {
		c.MaxConnections = 400
		c.HandshakeTimeout = 2 * time.Second
		c.DisableTLS = !useTLS
	})
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range 150 {
		c, err := net.DialTimeout("tcp", localAddr(l.Port()), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	a.putMany(t, 500, "a")
	start := time.Now()
	a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull, AcceptOnlySelfSignedServerCertificate: useTLS})
	t.Logf("replication beside 150 idle connections took %v", time.Since(start))
	sameDocs(t, a, b)
	// The idle connections are closed by the listener after the timeout.
	for i, c := range idle {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("idle connection %d got data", i)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("idle connection %d still open after 20 s", i)
		}
	}
}
