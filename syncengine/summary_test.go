package syncengine

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"peersync/syncengine/blip"
)

// TestPushSummaryCountsRevisionsWhoseAnswerWasLost: the peer receives every
// revision of the first connection but answers only one before the
// connection is cut. The next connection proposes them all again and the
// peer answers 304 (already have it): the summary counts each revision
// once, the answered one included, so it says all of them arrived.
func TestPushSummaryCountsRevisionsWhoseAnswerWasLost(t *testing.T) {
	checkNoLeaks(t)
	const docs = 6
	a := newPeer(t, "a")
	for i := range docs {
		a.put(t, fmt.Sprintf("d%d", i), `{"v":1}`)
	}
	var mu sync.Mutex
	has := map[string]string{} // what the peer received: docID → rev
	var p *silentPeer
	never := func(string, int) bool { return false }
	p = startFakePeer(t, never, map[string]func(*blip.Request){
		"proposeChanges": func(q *blip.Request) {
			var rows [][]any
			json.Unmarshal(q.Body, &rows)
			mu.Lock()
			answers := make([]int, len(rows))
			for i, row := range rows {
				if has[row[0].(string)] == row[1].(string) {
					answers[i] = 304
				}
			}
			mu.Unlock()
			body, _ := json.Marshal(answers)
			q.Respond(nil, body)
		},
		"rev": func(q *blip.Request) {
			mu.Lock()
			has[q.Properties["id"]] = q.Properties["rev"]
			n := len(has)
			mu.Unlock()
			switch {
			case n == 1:
				q.Respond(nil, nil) // the only answer that gets through
			case n == docs:
				go p.cut() // a handler must not close its own connection
			}
		},
	})
	r := a.startReplicator(t, ReplicatorConfig{Target: p.url, Type: Push, MaxAttemptWaitTime: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("replication: %v", err)
	}
	if st := r.Status(); st.Pushed != docs {
		t.Errorf("summary says pushed %d, but all %d revisions reached the peer", st.Pushed, docs)
	}
	if n := r.unacked.Len(); n != 0 {
		t.Errorf("%d revisions still in doubt after the peer answered them all", n)
	}
}
