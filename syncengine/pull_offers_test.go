package syncengine

// Pulls from a passive peer that offers revisions the way Sync Gateway does
// (issue 22 and the idle report of a continuous pull): the same revision in
// one changes batch, again in a later one, and revisions we already have;
// the empty "caught up" changes sent once, as a NoReply, before the last
// revisions; and a peer that stops short.

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"peersync/syncengine/blip"
)

// offeringPeer is a scripted passive peer serving a pull. After subChanges
// it runs its steps in order on one connection; it answers getCheckpoint
// with 404 and records what setCheckpoint saves.
type offeringPeer struct {
	srv   *httptest.Server
	steps chan offerStep // the script; a continuous test may add steps while it runs

	mu         sync.Mutex
	asked      map[string]int // "docID rev" → times the puller asked for it
	queued     [][]any        // rows asked for and not yet sent
	checkpoint string         // "remote" of the last setCheckpoint
}

// offerStep is one thing the peer does: send a changes batch (and note
// which rows are asked for), send the revisions asked for so far (or
// norevs), or send the empty changes that says it is caught up.
type offerStep struct {
	batch    [][]any
	sendRevs bool
	norevs   bool // instead of the revisions, a norev for each, naming only its sequence
	caughtUp bool
}

func startOfferingPeer(t *testing.T, steps ...offerStep) *offeringPeer {
	t.Helper()
	f := &offeringPeer{steps: make(chan offerStep, 64), asked: map[string]int{}}
	for _, s := range steps {
		f.steps <- s
	}
	var wg sync.WaitGroup
	var conns []*blip.Conn
	var connsMu sync.Mutex
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/_blipsync") {
			w.Write([]byte(`{"db_name":"db"}`))
			return
		}
		c, err := blip.Accept(w, r, blip.Options{})
		if err != nil {
			return
		}
		c.Handle("getCheckpoint", func(q *blip.Request) { q.RespondError("HTTP", 404, "missing") })
		c.Handle("setCheckpoint", func(q *blip.Request) {
			var cp struct{ Remote json.RawMessage }
			json.Unmarshal(q.Body, &cp)
			f.mu.Lock()
			f.checkpoint = string(cp.Remote)
			f.mu.Unlock()
			q.Respond(blip.Properties{"rev": "1-cc"}, nil)
		})
		c.Handle("subChanges", func(q *blip.Request) {
			q.Respond(nil, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.serve(c)
			}()
		})
		connsMu.Lock()
		conns = append(conns, c)
		connsMu.Unlock()
		c.Start()
		<-c.Done()
	}))
	t.Cleanup(func() {
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		f.srv.Close()
		wg.Wait()
	})
	return f
}

func (f *offeringPeer) url() string { return strings.Replace(f.srv.URL, "http", "ws", 1) + "/db" }

// fakeRev is the revision ID the peer gives a document: generation 1.
func fakeRev(id string) string {
	h := sha1.Sum([]byte(id))
	return "1-" + hex.EncodeToString(h[:])
}

// serve runs the script until the connection ends.
func (f *offeringPeer) serve(c *blip.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-c.Done()
		cancel()
	}()
	for {
		var step offerStep
		select {
		case step = <-f.steps:
		case <-ctx.Done():
			return
		}
		switch {
		case step.batch != nil:
			body, _ := json.Marshal(step.batch)
			resp, err := c.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "changes"}, Body: body})
			if err != nil {
				return
			}
			var answers []any
			json.Unmarshal(resp.Body, &answers)
			f.mu.Lock()
			for i, a := range answers {
				if _, want := a.([]any); want {
					row := step.batch[i]
					f.asked[fmt.Sprint(row[1], " ", row[2])]++
					f.queued = append(f.queued, row)
				}
			}
			f.mu.Unlock()
		case step.sendRevs:
			f.mu.Lock()
			rows := f.queued
			f.queued = nil
			f.mu.Unlock()
			for _, row := range rows {
				id, rev := row[1].(string), row[2].(string)
				msg := &blip.Message{Properties: blip.Properties{"Profile": "rev", "id": id, "rev": rev,
					"sequence": fmt.Sprint(row[0])}, Body: []byte(`{"from":"peer"}`)}
				if _, err := c.Send(ctx, msg); err != nil {
					return
				}
			}
		case step.norevs:
			f.mu.Lock()
			rows := f.queued
			f.queued = nil
			f.mu.Unlock()
			for _, row := range rows {
				msg := &blip.Message{Properties: blip.Properties{"Profile": "norev", "id": row[1].(string),
					"sequence": fmt.Sprint(row[0]), "error": "404", "reason": "missing"}}
				if c.SendNoReply(ctx, msg) != nil {
					return
				}
			}
		case step.caughtUp:
			// As Sync Gateway: NoReply, and only once per subscription.
			if c.SendNoReply(ctx, &blip.Message{Properties: blip.Properties{"Profile": "changes"}, Body: []byte("[]")}) != nil {
				return
			}
		}
	}
}

func (f *offeringPeer) askedFor() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.asked {
		out[k] = v
	}
	return out
}

func (f *offeringPeer) savedCheckpoint() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checkpoint
}

func row(seq int, id string) []any { return []any{seq, id, fakeRev(id)} }

// checkAskedOnce fails unless each of ids was asked for exactly once and
// nothing else was asked for.
func checkAskedOnce(t *testing.T, f *offeringPeer, ids ...string) {
	t.Helper()
	asked := f.askedFor()
	for _, id := range ids {
		if n := asked[id+" "+fakeRev(id)]; n != 1 {
			t.Errorf("%s was asked for %d times, want once", id, n)
		}
		delete(asked, id+" "+fakeRev(id))
	}
	for k, n := range asked {
		t.Errorf("asked for %s %d times, want never", k, n)
	}
}

// TestOneShotPullWithDuplicateOffers: a peer offers revisions twice in one
// batch (with the same and with another sequence), again in a later batch
// while the first copy is still on its way, again after it was saved, and
// offers one we already have. The replicator asks for each revision once,
// counts each document once, finishes, and checkpoints the last sequence.
func TestOneShotPullWithDuplicateOffers(t *testing.T) {
	checkNoLeaks(t)
	p := newPeer(t, "p")
	had := p.put(t, "had", `{"mine":true}`)
	f := startOfferingPeer(t,
		offerStep{batch: [][]any{row(1, "d1"), row(2, "d2"), row(2, "d2"), row(3, "d3"), row(4, "d3")}},
		offerStep{batch: [][]any{row(5, "d1"), row(2, "d2"), {6, "had", had.RevID}, row(7, "d4")}},
		offerStep{sendRevs: true},
		offerStep{batch: [][]any{row(8, "d1"), row(9, "d5"), row(9, "d5")}},
		offerStep{caughtUp: true}, // before the last revisions, as Sync Gateway may
		offerStep{sendRevs: true},
	)
	r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: f.url(), Type: Pull})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	defer r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("one-shot pull did not finish: %v (status %+v)", err, r.Status())
	}
	checkAskedOnce(t, f, "d1", "d2", "d3", "d4", "d5")
	st := r.Status()
	if st.Pulled != 5 || st.Progress.Completed != 5 || st.Progress.Total != 5 {
		t.Errorf("pulled %d, progress %d/%d; want 5, 5/5", st.Pulled, st.Progress.Completed, st.Progress.Total)
	}
	for _, id := range []string{"d1", "d2", "d3", "d4", "d5"} {
		if d, err := p.coll().Get(id); err != nil || d.RevID != fakeRev(id) {
			t.Errorf("%s: %v", id, err)
		}
	}
	if d, _ := p.coll().Get("had"); d.RevID != had.RevID || string(d.Body) != `{"mine":true}` {
		t.Errorf("the revision we had changed: %s %s", d.RevID, d.Body)
	}
	if cp := f.savedCheckpoint(); cp != "9" {
		t.Errorf("checkpoint saved on the peer: %q, want 9", cp)
	}
}

// TestOneShotPullFinishesAfterNorev: the peer cannot send revisions it
// offered and says so with norevs that name only the sequence. The run
// finishes, saves nothing, and checkpoints past them.
func TestOneShotPullFinishesAfterNorev(t *testing.T) {
	checkNoLeaks(t)
	p := newPeer(t, "p")
	f := startOfferingPeer(t,
		offerStep{batch: [][]any{row(1, "d1"), row(2, "d2")}},
		offerStep{caughtUp: true},
		offerStep{norevs: true},
	)
	r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: f.url(), Type: Pull})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	defer r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("one-shot pull did not finish after norevs: %v (status %+v)", err, r.Status())
	}
	if st := r.Status(); st.Pulled != 0 {
		t.Errorf("pulled %d, want 0", st.Pulled)
	}
	if cp := f.savedCheckpoint(); cp != "2" {
		t.Errorf("checkpoint saved on the peer: %q, want 2", cp)
	}
}

// TestContinuousPullReportsIdleAfterLaterBatches: a peer says it is caught
// up once (as Sync Gateway does) and later sends more changes, including a
// revision we already have and a duplicate, with no second empty changes.
// The replicator reports idle after the first catch-up and again once the
// later revisions are saved.
func TestContinuousPullReportsIdleAfterLaterBatches(t *testing.T) {
	checkNoLeaks(t)
	p := newPeer(t, "p")
	f := startOfferingPeer(t,
		offerStep{batch: [][]any{row(1, "d1"), row(1, "d1")}},
		offerStep{caughtUp: true},
		offerStep{sendRevs: true},
	)
	r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: f.url(), Type: Pull, Continuous: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	defer r.Stop()
	waitFor(t, "idle after the first catch-up", func() bool {
		st := r.Status()
		return st.Activity == Idle && st.Pulled == 1
	})
	f.steps <- offerStep{batch: [][]any{row(2, "d2"), row(3, "d1"), row(2, "d2")}}
	f.steps <- offerStep{sendRevs: true}
	waitFor(t, "idle after a later batch", func() bool {
		st := r.Status()
		return st.Activity == Idle && st.Pulled == 2
	})
	checkAskedOnce(t, f, "d1", "d2")
	if st := r.Status(); st.Progress.Completed != st.Progress.Total || st.Error != nil {
		t.Errorf("status %+v: want progress complete and no error", st)
	}
}

// TestOneShotPullStopsWithoutProgress: a peer offers a revision and never
// sends it (nor says it is caught up). The one-shot replication stops with
// a one-line permanent ErrNoProgress instead of hanging.
func TestOneShotPullStopsWithoutProgress(t *testing.T) {
	checkNoLeaks(t)
	p := newPeer(t, "p")
	f := startOfferingPeer(t, offerStep{batch: [][]any{row(1, "d1")}})
	r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: f.url(), Type: Pull,
		NoProgressTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	defer r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = r.Wait(ctx)
	if !errors.Is(err, ErrNoProgress) || IsTransient(err) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("stalled one-shot pull ended with %v; want a one-line permanent ErrNoProgress", err)
	}
	if !strings.Contains(err.Error(), "1 revision(s)") {
		t.Errorf("error %q does not say what it waited for", err)
	}
	if st := r.Status(); st.Activity != Stopped {
		t.Errorf("activity %v, want stopped", st.Activity)
	}
}
