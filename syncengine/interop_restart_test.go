package syncengine

import (
	"fmt"
	"net/http"
	"testing"
)

// TestInteropISGRSurvivesListenerRestart runs Sync Gateway's own continuous
// replicator against a PeerSync listener, stops the listener (which closes
// with 4001) and starts a new one on the same port: the real peer must
// reconnect by itself and carry on, as a Couchbase Lite replicator does
// after 4001. Needs the Sync Gateway environment of interop_test.go.
func TestInteropISGRSurvivesListenerRestart(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	sg.needAdmin(t)
	pre := uniquePrefix("restart")
	p := newPeer(t, "notes")
	auth := func(c *ListenerConfig) {
		c.Authenticator = PasswordAuthenticator(func(u, pw string) bool { return u == "alice" && pw == "pass" })
	}
	l, _ := p.listen(t, auth)
	port := l.Port()
	remote := fmt.Sprintf("http://alice:pass@127.0.0.1:%d/notes", port)
	id := sg.startISGR(t, remote, "pull", true)
	waitFor(t, "the continuous replication to run", func() bool { return sg.isgrStatus(t, id).Status == "running" })
	before := p.put(t, pre+"before", `{"when":"before"}`)
	waitFor(t, "a change before the restart on Sync Gateway", func() bool {
		got, ok := sg.get(t, pre+"before")
		return ok && got.rev() == before.RevID
	})

	l.Stop()
	during := p.put(t, pre+"during", `{"when":"while the listener was down"}`)
	p.listen(t, func(c *ListenerConfig) { auth(c); c.Port = port })
	after := p.put(t, pre+"after", `{"when":"after"}`)
	for _, d := range []*Document{during, after} {
		waitFor(t, d.ID+" on Sync Gateway after the restart", func() bool {
			got, ok := sg.get(t, d.ID)
			return ok && got.rev() == d.RevID
		})
	}
	if s := sg.isgrStatus(t, id); s.Status != "running" {
		t.Errorf("Sync Gateway's replication after the restart: %+v, want running", s)
	}
	if st, out := sg.do(t, true, "PUT", "/_replicationStatus/"+id+"?action=stop", nil); st != http.StatusOK {
		t.Fatalf("stop replication: %d %s", st, out)
	}
	sg.waitISGRStopped(t, id)
}
