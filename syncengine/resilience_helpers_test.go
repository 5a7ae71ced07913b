package syncengine

import (
	"net"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

// checkNoLeaks fails the test if it leaves goroutines behind. Call it
// first so its cleanup runs after every other one.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// freePort returns a 127.0.0.1 port that nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func wsURL(hostport, db string) string { return "ws://" + hostport + "/" + db + "/_blipsync" }

func localAddr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// startReplicator creates and starts a replicator for p; Stop runs at cleanup.
func (p *peer) startReplicator(t *testing.T, cfg ReplicatorConfig) *Replicator {
	t.Helper()
	cfg.Database = p.db
	r, err := p.e.NewReplicator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	t.Cleanup(r.Stop)
	return r
}
