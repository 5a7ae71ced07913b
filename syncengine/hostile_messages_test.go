package syncengine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/endpoint"
)

// blipURL is where a listener shown at url takes the replication
// WebSocket: url with /_blipsync, as replicators dial it.
func blipURL(t testing.TB, url string) string {
	t.Helper()
	e, err := endpoint.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	return e.SyncURL()
}

// dialRaw opens a started BLIP connection to a listener, speaking the
// replication protocol (CBMobile_3) by hand.
func dialRaw(t *testing.T, url string) *blip.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := blip.Dial(ctx, blipURL(t, url), blip.DialOptions{Subprotocols: []string{blip.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(func() { c.Close(); <-c.Done() })
	return c
}

func isCode(err error, code int) bool {
	var be *blip.Error
	return errors.As(err, &be) && be.Code == code
}

func send(c *blip.Conn, props blip.Properties, body string) (*blip.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.Send(ctx, &blip.Message{Properties: props, Body: []byte(body)})
}

// TestHostileMalformedMessages sends one malformed replication message per
// case on a fresh connection: each must get an error reply with the right
// code and must not write anything.
func TestHostileMalformedMessages(t *testing.T) {
	checkNoLeaks(t)
	b := newPeer(t, "b")
	_, url := b.listen(t, nil)
	b.put(t, "existing", `{"v":1}`)
	existing, _ := b.coll().Get("existing")
	huge := strings.Repeat("x", 70<<10)
	cases := []struct {
		name  string
		setup []blip.Properties // sent first, must succeed
		props blip.Properties
		body  string
		code  int
	}{
		{"rev with garbage history", nil, blip.Properties{"Profile": "rev", "id": "d1", "rev": "2-aa", "history": "garbage,,"}, `{}`, 400},
		{"rev with history going backwards", nil, blip.Properties{"Profile": "rev", "id": "d1", "rev": "2-aa", "history": "3-bb,5-cc"}, `{}`, 400},
		{"rev with unparsable revID", nil, blip.Properties{"Profile": "rev", "id": "d1", "rev": "zzz"}, `{}`, 400},
		{"rev with invalid JSON", nil, blip.Properties{"Profile": "rev", "id": "d1", "rev": "1-aa"}, `{"_id": nope`, 400},
		{"rev whose body is an array", nil, blip.Properties{"Profile": "rev", "id": "d1", "rev": "1-aa"}, `[1,2]`, 400},
		{"rev without id", nil, blip.Properties{"Profile": "rev", "rev": "1-aa"}, `{}`, 400},
		{"rev for unknown collection index", nil, blip.Properties{"Profile": "rev", "id": "d1", "rev": "1-aa", "collection": "7"}, `{}`, 400},
		{"rev for collection index beyond getCollections",
			[]blip.Properties{{"Profile": "getCollections"}}, blip.Properties{"Profile": "rev", "id": "d1", "rev": "1-aa", "collection": "3"}, `{}`, 404},
		{"rev for negative collection index",
			[]blip.Properties{{"Profile": "getCollections"}}, blip.Properties{"Profile": "rev", "id": "d1", "rev": "1-aa", "collection": "-1"}, `{}`, 404},
		{"rev conflicting with the current revision", nil, blip.Properties{"Profile": "rev", "id": "existing", "rev": "2-ff", "history": "1-ee"}, `{"x":1}`, 409},
		{"changes with a non-array body", nil, blip.Properties{"Profile": "changes"}, `{"a":1}`, 400},
		{"changes with malformed rows", nil, blip.Properties{"Profile": "changes"}, `[[1],[2,"x"]]`, 400},
		{"changes with a bad revID", nil, blip.Properties{"Profile": "changes"}, `[[1,"d1","nonsense"]]`, 400},
		{"proposeChanges with garbage", nil, blip.Properties{"Profile": "proposeChanges"}, `[[null,5]]`, 400},
		{"subChanges with negative since", nil, blip.Properties{"Profile": "subChanges", "since": "-5"}, ``, 400},
		{"subChanges with garbage since", nil, blip.Properties{"Profile": "subChanges", "since": "{]"}, ``, 400},
		{"setCheckpoint without client", nil, blip.Properties{"Profile": "setCheckpoint"}, `{}`, 400},
		{"setCheckpoint with invalid JSON", nil, blip.Properties{"Profile": "setCheckpoint", "client": "c"}, `{"x":`, 400},
		{"setCheckpoint with a wrong rev", nil, blip.Properties{"Profile": "setCheckpoint", "client": "c", "rev": "9-zz"}, `{}`, 409},
		{"getCollections with mismatched lists", nil, blip.Properties{"Profile": "getCollections"}, `{"collections":["a"],"checkpoint_ids":[]}`, 400},
		{"unknown profile", nil, blip.Properties{"Profile": "dropDatabase"}, ``, 404},
		{"huge property value", nil, blip.Properties{"Profile": "rev", "id": "d1", "rev": "1-aa", "junk": huge}, `{}`, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := b.coll().ChangesSince(0, 0)
			c := dialRaw(t, url)
			for _, p := range tc.setup {
				body := ""
				if p["Profile"] == "getCollections" {
					body = `{"collections":["_default"],"checkpoint_ids":["x"]}`
				}
				if _, err := send(c, p, body); err != nil {
					t.Fatalf("setup %v: %v", p, err)
				}
			}
			_, err := send(c, tc.props, tc.body)
			var be *blip.Error
			switch {
			case !errors.As(err, &be):
				t.Fatalf("reply error %v, want an error with code %d", err, tc.code)
			case be.Code != tc.code:
				t.Fatalf("reply error %v, want code %d", err, tc.code)
			}
			after, _ := b.coll().ChangesSince(0, 0)
			if len(after) != len(before) {
				t.Fatalf("a rejected message wrote: %d changes before, %d after", len(before), len(after))
			}
			if d, _ := b.coll().Get("existing"); d.RevID != existing.RevID {
				t.Fatalf("existing document changed to %s", d.RevID)
			}
		})
	}
}
