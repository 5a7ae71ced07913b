package syncengine

// Collection names in getCollections as Couchbase Lite spells them (issue
// 15, point 1): "_default" for the default collection, "foo" for
// "_default.foo", "scope.name" otherwise; and the checkpoint revision it
// reads as "rev".

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/store"
)

// getCollections sends a getCollections request as Couchbase Lite does.
func getCollections(ctx context.Context, t *testing.T, c *blip.Conn, names, ids []string) ([]map[string]any, error) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"collections": names, "checkpoint_ids": ids})
	resp, err := c.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "getCollections"}, Body: body})
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatalf("getCollections reply %s: %v", resp.Body, err)
	}
	return out, nil
}

// TestListenerAcceptsCouchbaseLiteCollectionNames talks to a listener as
// a Couchbase Lite replicator: the default collection as "_default", a
// collection of the default scope without its scope, and one of another
// scope; then it pulls from the short-named one, and reads its checkpoint
// back under the full name.
func TestListenerAcceptsCouchbaseLiteCollectionNames(t *testing.T) {
	checkNoLeaks(t)
	p := newPeer(t, "notes")
	for _, name := range []string{"_default.foo", "inventory.items"} {
		if _, err := p.db.CreateCollection(name); err != nil {
			t.Fatal(err)
		}
	}
	foo, _ := p.db.Collection("_default.foo")
	if _, err := foo.Save("f1", []byte(`{"in":"foo"}`), SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	l, _ := p.listen(t, func(c *ListenerConfig) {
		c.Collections = []string{DefaultCollection, "_default.foo", "inventory.items"}
	})
	u := fmt.Sprintf("ws://127.0.0.1:%d/notes/_blipsync", l.Port())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	conn, err := blip.Dial(ctx, u, blip.DialOptions{Subprotocols: []string{blip.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	changes := make(chan *blip.Request, 4)
	conn.Handle("changes", func(q *blip.Request) {
		changes <- q
		q.Respond(nil, []byte("[]"))
	})
	conn.Start()
	cps, err := getCollections(ctx, t, conn, []string{"_default", "foo", "inventory.items"}, []string{"cp-a", "cp-b", "cp-c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 3 || slices.ContainsFunc(cps, func(cp map[string]any) bool { return cp == nil }) {
		got, _ := json.Marshal(cps)
		t.Fatalf("getCollections reply %s: want three empty checkpoints, no null", got)
	}
	resp, err := conn.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "setCheckpoint", "client": "cp-b",
		"collection": "1"}, Body: []byte(`{"remote":5}`)})
	if err != nil {
		t.Fatalf("setCheckpoint on \"foo\": %v", err)
	}
	savedRev := resp.Properties["rev"]
	if _, err := conn.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "subChanges", "since": "0",
		"collection": "1"}}); err != nil {
		t.Fatalf("subChanges on \"foo\": %v", err)
	}
	select {
	case q := <-changes:
		if q.Properties["collection"] != "1" || !strings.Contains(string(q.Body), `"f1"`) {
			t.Errorf("changes %v %s: want f1 of collection 1", q.Properties, q.Body)
		}
	case <-ctx.Done():
		t.Fatal("no changes from \"foo\"")
	}
	conn.Close()

	// Another connection, with full names: the same checkpoint, with its
	// revision under "rev" (Couchbase Lite) and "_rev" (Sync Gateway).
	conn2, err := blip.Dial(ctx, u, blip.DialOptions{Subprotocols: []string{blip.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	conn2.Start()
	cps, err = getCollections(ctx, t, conn2, []string{"_default._default", "_default.foo"}, []string{"cp-a", "cp-b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 2 || cps[0] == nil || cps[1] == nil || cps[1]["remote"] != float64(5) ||
		cps[1]["rev"] != savedRev || cps[1]["_rev"] != savedRev {
		got, _ := json.Marshal(cps)
		t.Fatalf("getCollections reply %s: want the checkpoint saved as \"foo\" (remote 5, rev %s)", got, savedRev)
	}

	// Bad names are refused with a clear error, not answered null.
	for _, names := range [][]string{{"a.b.c"}, {"_default", "_default._default"}, {""}} {
		_, err := getCollections(ctx, t, conn2, names, make([]string, len(names)))
		var be *blip.Error
		if !errors.As(err, &be) || be.Code != 400 {
			t.Errorf("getCollections %q: %v, want HTTP 400", names, err)
		}
	}
}

// TestReplicatorSendsCouchbaseLiteCollectionNames checks what the active
// side asks a peer for: names as Couchbase Lite writes them, and the
// checkpoint revision taken from a Couchbase Lite peer's "rev".
func TestReplicatorSendsCouchbaseLiteCollectionNames(t *testing.T) {
	checkNoLeaks(t)
	var mu sync.Mutex
	var asked []string
	setRevs := map[string]string{} // collection index → rev sent with setCheckpoint
	var conns []*blip.Conn
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/_blipsync") {
			w.Write([]byte(`{"db_name":"db"}`))
			return
		}
		c, err := blip.Accept(w, r, blip.Options{})
		if err != nil {
			return
		}
		c.Handle("getCollections", func(q *blip.Request) {
			var body struct{ Collections []string }
			json.Unmarshal(q.Body, &body)
			mu.Lock()
			asked = body.Collections
			mu.Unlock()
			q.Respond(nil, []byte(`[{}, {"rev":"3-cc","local":0}, {}]`))
		})
		c.Handle("setCheckpoint", func(q *blip.Request) {
			mu.Lock()
			setRevs[q.Properties["collection"]] = q.Properties["rev"]
			mu.Unlock()
			q.Respond(blip.Properties{"rev": "4-cc"}, nil)
		})
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		c.Start()
		<-c.Done()
	}))
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		srv.Close()
	}()
	p := newPeer(t, "p")
	for _, name := range []string{"_default.foo", "inventory.items"} {
		if _, err := p.db.CreateCollection(name); err != nil {
			t.Fatal(err)
		}
	}
	p.replicate(t, ReplicatorConfig{Target: strings.Replace(srv.URL, "http", "ws", 1) + "/db", Type: Push,
		Collections: []string{DefaultCollection, "_default.foo", "inventory.items"}})
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"_default", "foo", "inventory.items"}; !slices.Equal(asked, want) {
		t.Errorf("getCollections asked for %q, want %q", asked, want)
	}
	if setRevs["1"] != "3-cc" {
		t.Errorf("setCheckpoint of collection 1 sent rev %q, want 3-cc from the peer's \"rev\"", setRevs["1"])
	}
}

// TestPullBlobFromNamedCollection pulls a document with a blob from a peer
// that, like Sync Gateway, refuses a getAttachment without the collection
// property once getCollections has named the collections.
func TestPullBlobFromNamedCollection(t *testing.T) {
	checkNoLeaks(t)
	data := []byte("blob bytes in a named collection")
	digest := store.BlobDigest(data)
	var mu sync.Mutex
	var conns []*blip.Conn
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/_blipsync") {
			w.Write([]byte(`{"db_name":"db"}`))
			return
		}
		c, err := blip.Accept(w, r, blip.Options{})
		if err != nil {
			return
		}
		c.Handle("getCollections", func(q *blip.Request) { q.Respond(nil, []byte(`[{}]`)) })
		c.Handle("setCheckpoint", func(q *blip.Request) { q.Respond(blip.Properties{"rev": "1-cc"}, nil) })
		c.Handle("getAttachment", func(q *blip.Request) {
			if q.Properties["collection"] != "0" {
				q.RespondError("HTTP", 400, "GetCollections already occurred, subsequent messages need a Collection property")
				return
			}
			q.Respond(nil, data)
		})
		c.Handle("subChanges", func(q *blip.Request) {
			q.Respond(nil, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := context.Background()
				coll := blip.Properties{"collection": "0"}
				with := func(p blip.Properties) blip.Properties {
					for k, v := range coll {
						p[k] = v
					}
					return p
				}
				if _, err := c.Send(ctx, &blip.Message{Properties: with(blip.Properties{"Profile": "changes"}),
					Body: []byte(`[[1,"b1","` + fakeRev("b1") + `"]]`)}); err != nil {
					return
				}
				body := fmt.Sprintf(`{"photo":{"@type":"blob","digest":%q,"length":%d,"content_type":"text/plain"}}`, digest, len(data))
				c.Send(ctx, &blip.Message{Properties: with(blip.Properties{"Profile": "rev", "id": "b1", "rev": fakeRev("b1"),
					"sequence": "1"}), Body: []byte(body)})
				c.SendNoReply(ctx, &blip.Message{Properties: with(blip.Properties{"Profile": "changes"}), Body: []byte("[]")})
			}()
		})
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		c.Start()
		<-c.Done()
	}))
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		srv.Close()
		wg.Wait()
	}()
	p := newPeer(t, "p")
	if _, err := p.db.CreateCollection("_default.foo"); err != nil {
		t.Fatal(err)
	}
	st := p.replicate(t, ReplicatorConfig{Target: strings.Replace(srv.URL, "http", "ws", 1) + "/db", Type: Pull,
		Collections: []string{"_default.foo"}}).Status()
	foo, _ := p.db.Collection("_default.foo")
	if _, err := foo.Get("b1"); err != nil || st.Pulled != 1 {
		t.Fatalf("pulled %d, b1: %v; want the document with its blob", st.Pulled, err)
	}
	if got, err := foo.GetBlob(digest); err != nil || string(got) != string(data) {
		t.Fatalf("blob: %q %v", got, err)
	}
}
