package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"peersync/syncengine/blip"
)

// TestCLIReplicateStopsWithoutProgress runs `peersync replicate` against a
// peer that offers a revision and never sends it: the one-shot pull must
// not hang but print one line and exit 1 after --no-progress-timeout.
func TestCLIReplicateStopsWithoutProgress(t *testing.T) {
	var mu sync.Mutex
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
		c.Handle("getCheckpoint", func(q *blip.Request) { q.RespondError("HTTP", 404, "missing") })
		c.Handle("setCheckpoint", func(q *blip.Request) { q.Respond(blip.Properties{"rev": "1-cc"}, nil) })
		c.Handle("subChanges", func(q *blip.Request) {
			q.Respond(nil, nil)
			// Offer one revision, then neither send it nor say "caught up".
			go c.Send(r.Context(), &blip.Message{Properties: blip.Properties{"Profile": "changes"},
				Body: []byte(`[[1,"d1","1-0123456789abcdef0123456789abcdef01234567"]]`)})
		})
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		c.Start()
		<-c.Done()
	}))
	defer srv.Close()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "mine")
	out, errOut, code := cli(t, dir, "", "replicate", "--db", "mine", "--type", "pull",
		"--target", strings.Replace(srv.URL, "http", "ws", 1)+"/db", "--no-progress-timeout", "200ms")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "no progress") {
		t.Fatalf("stalled replicate: exit %d, stderr %q, stdout %q; want exit 1 and one line saying no progress", code, errOut, out)
	}
}
