package syncengine

import (
	"context"
	"errors"
	"testing"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/repl"
)

// Replies the session used to misread when they did not parse: each must
// now end the replication with a protocol error instead.
func TestMalformedRepliesFailTheReplication(t *testing.T) {
	never := func(string, int) bool { return false }
	cases := []struct {
		name   string
		answer map[string]func(*blip.Request)
		colls  []string
	}{
		{"proposeChanges answer that is no status", map[string]func(*blip.Request){
			"proposeChanges": func(q *blip.Request) { q.Respond(nil, []byte(`["send it"]`)) },
		}, nil},
		{"getCollections checkpoint that is no object", map[string]func(*blip.Request){
			"getCollections": func(q *blip.Request) { q.Respond(nil, []byte(`[5]`)) },
		}, []string{"s.c"}},
		{"getCollections checkpoint whose _rev is no string", map[string]func(*blip.Request){
			"getCollections": func(q *blip.Request) { q.Respond(nil, []byte(`[{"_rev":7}]`)) },
		}, []string{"s.c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkNoLeaks(t)
			a := newPeer(t, "a")
			for _, name := range c.colls {
				if _, err := a.db.CreateCollection(name); err != nil {
					t.Fatal(err)
				}
			}
			a.put(t, "doc", `{"v":1}`)
			p := startFakePeer(t, never, c.answer)
			r := a.startReplicator(t, ReplicatorConfig{Target: p.url, Type: Push, Collections: c.colls})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := r.Wait(ctx); !errors.Is(err, repl.ErrProtocol) {
				t.Fatalf("replication ended with %v, want a protocol error", err)
			}
		})
	}
}

// TestProposeChangesWithBadParent: a parent that is not a revision ID is a
// malformed row, not a new document.
func TestProposeChangesWithBadParent(t *testing.T) {
	checkNoLeaks(t)
	b := newPeer(t, "b")
	_, url := b.listen(t, nil)
	c := dialRaw(t, url)
	_, err := send(c, blip.Properties{"Profile": "proposeChanges"}, `[["doc","1-aa",5]]`)
	if !isCode(err, 400) {
		t.Fatalf("proposeChanges with a numeric parent: %v, want a 400 error", err)
	}
}
