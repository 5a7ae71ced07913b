package syncengine

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/store"
)

// TestListenerStatusIdleContinuousPeer: a continuous peer that has caught
// up only sends heartbeats; the listener counts its connection, but not as
// active.
func TestListenerStatusIdleContinuousPeer(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, url := b.listen(t, nil)
	a.put(t, "from-a", `{"v":1}`)
	b.put(t, "from-b", `{"v":2}`)
	r := a.startReplicator(t, ReplicatorConfig{Target: url, Type: PushAndPull, Continuous: true})
	waitFor(t, "the replicator to catch up", func() bool {
		st := r.Status()
		return st.Activity == Idle && st.Pushed == 1 && st.Pulled == 1
	})
	waitFor(t, "the listener to see the connection as idle", func() bool {
		st := l.Status()
		return st.ConnectionCount == 1 && st.ActiveConnectionCount == 0 && st.Protocols[SubprotocolV4] == 1
	})
}

// TestListenerStatusBusyWhileSaving: a rev whose blob the listener is
// still fetching makes the connection active until the rev is answered.
func TestListenerStatusBusyWhileSaving(t *testing.T) {
	checkNoLeaks(t)
	b := newPeer(t, "b")
	l, url := b.listen(t, nil)

	blob := []byte("the blob the listener has to fetch")
	fetch := make(chan *blip.Request, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := blip.Dial(ctx, blipURL(t, url), blip.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Handle("getAttachment", func(q *blip.Request) { fetch <- q })
	c.Start()
	t.Cleanup(func() { c.Close() })

	ref, _ := json.Marshal(map[string]any{"@type": "blob", "digest": store.BlobDigest(blob), "length": len(blob), "content_type": "text/plain"})
	revDone := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "rev", "id": "doc", "rev": "1-aa"},
			Body: []byte(`{"file":` + string(ref) + `}`)})
		revDone <- err
	}()
	var q *blip.Request
	select {
	case q = <-fetch:
	case <-ctx.Done():
		t.Fatal("the listener never asked for the blob")
	}
	if st := l.Status(); st.ConnectionCount != 1 || st.ActiveConnectionCount != 1 {
		t.Errorf("status while the rev waits for its blob = %+v, want 1 active connection", st)
	}
	q.Respond(nil, blob)
	if err := <-revDone; err != nil {
		t.Fatalf("rev: %v", err)
	}
	waitFor(t, "the listener to see the connection as idle", func() bool {
		st := l.Status()
		return st.ConnectionCount == 1 && st.ActiveConnectionCount == 0
	})
}
