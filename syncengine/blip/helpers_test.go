package blip

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// newPair connects a client and a server Conn over a real WebSocket on
// 127.0.0.1, both ends batching frames as the listener's do. setup
// functions register handlers before Start.
func newPair(t testing.TB, srvOpts, cliOpts Options, setupSrv, setupCli func(*Conn)) (srv, cli *Conn) {
	t.Helper()
	srvCh := make(chan *Conn, 1)
	ts := batchingServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, srvOpts)
		if err != nil {
			t.Errorf("Accept: %v", err)
			srvCh <- nil
			return
		}
		if setupSrv != nil {
			setupSrv(c)
		}
		c.Start()
		srvCh <- c
	}))
	t.Cleanup(ts.Close)
	cli, err := Dial(context.Background(), wsURL(ts), DialOptions{Conn: cliOpts})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if setupCli != nil {
		setupCli(cli)
	}
	cli.Start()
	srv = <-srvCh
	if srv == nil {
		t.FailNow()
	}
	t.Cleanup(func() {
		cli.Close()
		srv.Close()
	})
	return srv, cli
}

// batchingServer is an httptest server whose connections can batch frames.
func batchingServer(h http.Handler) *httptest.Server {
	ts := httptest.NewUnstartedServer(h)
	ts.Listener = BatchingListener(ts.Listener)
	ts.Start()
	return ts
}

func wsURL(ts *httptest.Server) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/db/_blipsync"
}

// echo answers with the request's properties and body.
func echo(r *Request) { r.Respond(r.Properties, r.Body) }

// digest answers with the SHA-256 of the body.
func digest(r *Request) {
	sum := sha256.Sum256(r.Body)
	r.Respond(nil, sum[:])
}

// rawServer accepts one WebSocket with the BLIP subprotocol and hands it to
// fn on the handler goroutine.
func rawServer(t testing.TB, fn func(ws *websocket.Conn)) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := websocket.Upgrader{Subprotocols: []string{Subprotocol}}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer ws.Close()
		fn(ws)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// rawClient dials a BLIP server with a plain WebSocket.
func rawClient(t testing.TB, ts *httptest.Server) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{Subprotocol}}
	ws, _, err := d.Dial(wsURL(ts), nil)
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// blipServer serves BLIP connections, reporting each one on the channel.
func blipServer(t testing.TB, opts Options, setup func(*Conn)) (*httptest.Server, chan *Conn) {
	t.Helper()
	ch := make(chan *Conn, 4)
	ts := batchingServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		if setup != nil {
			setup(c)
		}
		c.Start()
		t.Cleanup(func() { c.Close() })
		ch <- c
	}))
	t.Cleanup(ts.Close)
	return ts, ch
}

// waitFor polls cond until it holds; it is the one polling helper of this
// package's tests. The limit only stops a hung test: it is generous for
// -race on a loaded machine, and no test depends on it.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // poll interval inside waitFor
	}
}

func waitDone(t testing.TB, c *Conn, d time.Duration) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(d):
		t.Fatalf("connection still open after %v", d)
	}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
