package syncengine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"peersync/syncengine/blip"
)

// fuzzProfiles are the message types FuzzPassiveSession picks from; the
// last is one no handler knows.
var fuzzProfiles = []string{"getCheckpoint", "setCheckpoint", "subChanges", "changes", "proposeChanges",
	"rev", "norev", "getAttachment", "proveAttachment", "getCollections", "noSuchProfile"}

const (
	fuzzReplyTimeout = 10 * time.Second // a request unanswered this long is a hang
	fuzzMaxProps     = 16 << 10         // well under blip's properties limit, past which messages are dropped unanswered
	fuzzCheckEvery   = 64               // iterations between full replication checks
)

// fuzzProps reads "key=value" lines.
func fuzzProps(profile, s string) blip.Properties {
	props := blip.Properties{"Profile": profile}
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" {
			props[k] = v
		}
	}
	return props
}

// replicationWorks pushes one new document from a to the listener on a
// fresh connection and checks that it arrived.
func replicationWorks(a, b *peer, url string, n int64) error {
	id := fmt.Sprintf("probe-%d", n)
	if _, err := a.coll().Save(id, []byte(`{"probe":true}`), SaveOptions{LastWriteWins: true}); err != nil {
		return err
	}
	r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: url, Type: Push, MaxAttempts: 1})
	if err != nil {
		return err
	}
	r.Start(false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		r.Stop()
		return fmt.Errorf("replication after fuzzed messages: %w", err)
	}
	if _, err := b.coll().Get(id); err != nil {
		return fmt.Errorf("replicated probe missing: %w", err)
	}
	return nil
}

// FuzzPassiveSession sends one message built from the input to a live
// listener: it must answer (or drop the connection) in bounded time, never
// panic, keep its database consistent, and keep serving replications.
func FuzzPassiveSession(f *testing.F) {
	b := newPeer(f, "fz")
	a := newPeer(f, "fa")
	l, url := b.listen(f, nil)
	b.put(f, "existing", `{"v":1}`)
	digest := BlobDigestOf([]byte("blob"))

	add := func(profile, props, body string, flags uint8) {
		for i, p := range fuzzProfiles {
			if p == profile {
				f.Add(uint8(i), flags, props, []byte(body))
				return
			}
		}
		panic(profile)
	}
	add("getCheckpoint", "client=abc", "", 0)
	add("setCheckpoint", "client=abc", `{"local":5,"remote":"7"}`, 0)
	add("subChanges", "since=0\nbatch=10", "", 0)
	add("subChanges", "since=0\ncontinuous=true\nactiveOnly=true", "", 0)
	add("changes", "", `[[1,"fz-c","1-abc"],[2,"existing","2-def",true]]`, 0)
	add("proposeChanges", "", `[["fz-p","1-abc"],["existing","2-def","1-x"]]`, 0)
	add("rev", "id=fz-r\nrev=1-abc\nsequence=1", `{"a":1}`, 0)
	add("rev", "id=fz-d\nrev=2-bcd\nhistory=1-abc\ndeleted=1\nsequence=2", `{}`, 1)
	add("rev", "id=fz-b\nrev=1-bbb", `{"f":{"@type":"blob","digest":"`+digest+`","length":4}}`, 0)
	add("norev", "id=fz-r\nrev=1-abc\nsequence=1\nerror=404\nreason=gone", "", 1)
	add("getAttachment", "digest="+digest+"\ndocID=existing", "", 0)
	add("proveAttachment", "digest="+digest, "nonce-1234567890", 0)
	add("getCollections", "", `{"collections":["_default._default"],"checkpoint_ids":["x"]}`, 0)
	add("noSuchProfile", "x=y", "body", 2)

	var iterations atomic.Int64
	f.Cleanup(func() {
		if err := replicationWorks(a, b, url, -1); err != nil {
			f.Error(err)
		}
	})
	f.Fuzz(func(t *testing.T, profile, flags uint8, props string, body []byte) {
		// blip drops, unanswered, a request whose properties it cannot
		// decode (over its size limit, or not UTF-8): the sender's context
		// is its only way out. That is blip's documented choice, so keep
		// the properties decodable and fuzz the session behind it.
		if len(props) > fuzzMaxProps || !utf8.ValidString(props) {
			t.Skip("properties blip would drop before the session sees them")
		}
		n := iterations.Add(1)
		msg := &blip.Message{Properties: fuzzProps(fuzzProfiles[int(profile)%len(fuzzProfiles)], props),
			Body: body, NoReply: flags&1 != 0, Urgent: flags&2 != 0, Compressed: flags&4 != 0}

		ctx, cancel := context.WithTimeout(context.Background(), fuzzReplyTimeout)
		defer cancel()
		c, err := blip.Dial(ctx, blipURL(t, url), blip.DialOptions{})
		if err != nil {
			t.Fatalf("listener refused a connection: %v", err)
		}
		c.Start()
		_, err = c.Send(ctx, msg)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("no answer within %v to %v (%d-byte body)", fuzzReplyTimeout, msg.Properties, len(body))
		}
		c.Close()
		select {
		case <-c.Done():
		case <-time.After(fuzzReplyTimeout):
			t.Fatal("connection did not close")
		}
		// A NoReply message may still be in the works: bbolt's Check reads
		// the shared freelist and is only meaningful with no write running,
		// so wait until the listener has closed the session.
		deadline := time.Now().Add(fuzzReplyTimeout)
		for l.Status().ConnectionCount != 0 {
			if time.Now().After(deadline) {
				t.Fatal("listener kept the closed connection's session")
			}
			time.Sleep(time.Millisecond)
		}

		if err := b.db.Store().Check(); err != nil {
			t.Fatalf("consistency check after %v: %v", msg.Properties, err)
		}
		if n == 1 || n%fuzzCheckEvery == 0 {
			if err := replicationWorks(a, b, url, n); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestHostileUnsolicitedRev sends a rev for a document the listener was
// never offered (no changes or proposeChanges first). It is accepted by
// design, as Sync Gateway does: its rev handler saves whatever revision
// arrives, through the same conflict checks as an offered one, and
// proposeChanges is only an optimisation that saves sending bodies the
// peer already has. Refusing would buy nothing: a peer able to send a rev
// can always send the proposeChanges first. What must hold is that the
// unsolicited rev is still checked like any other: a conflicting one is
// refused with 409 and writes nothing.
func TestHostileUnsolicitedRev(t *testing.T) {
	checkNoLeaks(t)
	b := newPeer(t, "b")
	_, url := b.listen(t, nil)
	existing := b.put(t, "existing", `{"v":1}`)
	c := dialRaw(t, url)

	if _, err := send(c, blip.Properties{"Profile": "rev", "id": "never-offered", "rev": "1-abc"}, `{"x":1}`); err != nil {
		t.Fatalf("unsolicited rev refused: %v", err)
	}
	d, err := b.coll().Get("never-offered")
	if err != nil || d.RevID != "1-abc" || !jsonEqual(d.Body, []byte(`{"x":1}`)) {
		t.Fatalf("unsolicited rev not stored as sent: %+v, %v", d, err)
	}

	_, err = send(c, blip.Properties{"Profile": "rev", "id": "existing", "rev": "2-fff", "history": "1-eee"}, `{"x":2}`)
	if !isCode(err, 409) {
		t.Fatalf("unsolicited conflicting rev: %v, want 409", err)
	}
	if d, _ := b.coll().Get("existing"); d.RevID != existing.RevID {
		t.Fatalf("conflicting unsolicited rev changed the document to %s", d.RevID)
	}
}

// TestHostileNorevExpectingReply sends norev, normally a no-reply message,
// as a request that wants an answer: the listener must answer it rather
// than leave the peer waiting (found by FuzzPassiveSession).
func TestHostileNorevExpectingReply(t *testing.T) {
	checkNoLeaks(t)
	b := newPeer(t, "b")
	_, url := b.listen(t, nil)
	c := dialRaw(t, url)
	for _, tc := range []struct {
		props blip.Properties
		code  int // 0: success
	}{
		{blip.Properties{"Profile": "norev", "id": "d", "rev": "1-abc", "sequence": "1", "error": "404"}, 0},
		{blip.Properties{"Profile": "norev", "client": "abc"}, 0},
		{blip.Properties{"Profile": "norev", "id": "d", "rev": "1-abc", "collection": "9"}, 400},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := c.Send(ctx, &blip.Message{Properties: tc.props})
		cancel()
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			t.Fatalf("%v: never answered", tc.props)
		case tc.code == 0 && err != nil, tc.code != 0 && !isCode(err, tc.code):
			t.Fatalf("%v: %v, want code %d", tc.props, err, tc.code)
		}
	}
}
