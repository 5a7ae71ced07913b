package blip

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// countingConn records each Write made on it.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, bytes.Clone(p))
	c.mu.Unlock()
	return len(p), nil
}

func TestBatchConnHoldsWritesUntilFlush(t *testing.T) {
	under := &countingConn{}
	b := &batchConn{Conn: under}
	b.Write([]byte("direct"))
	b.holdWrites()
	for _, s := range []string{"one ", "two ", "three"} {
		b.Write([]byte(s))
	}
	if len(under.writes) != 1 {
		t.Fatalf("%d writes reached the connection while holding, want only the first", len(under.writes))
	}
	if err := b.flush(); err != nil {
		t.Fatal(err)
	}
	b.Write([]byte("after"))
	want := []string{"direct", "one two three", "after"}
	if len(under.writes) != len(want) {
		t.Fatalf("writes %q, want %q", under.writes, want)
	}
	for i, w := range want {
		if string(under.writes[i]) != w {
			t.Fatalf("writes %q, want %q", under.writes, want)
		}
	}
	if err := b.flush(); err != nil || len(under.writes) != 3 {
		t.Fatalf("flushing nothing wrote %q, %v", under.writes[3:], err)
	}
}

// A batch never grows past batchLimit: what would overflow it goes out
// with what is held, in order.
func TestBatchConnWritesWhenFull(t *testing.T) {
	under := &countingConn{}
	b := &batchConn{Conn: under}
	b.holdWrites()
	small, big := bytes.Repeat([]byte{'a'}, 100), bytes.Repeat([]byte{'b'}, batchLimit)
	b.Write(small)
	b.Write(big)
	var got []byte
	for _, w := range under.writes {
		got = append(got, w...)
	}
	if !bytes.Equal(got, append(bytes.Clone(small), big...)) || len(b.buf) != 0 {
		t.Fatalf("%d bytes written, %d held; want all %d written in order", len(got), len(b.buf), len(small)+len(big))
	}
}

// recordingTransport notes the writer's calls in order.
type recordingTransport struct {
	Transport
	mu     sync.Mutex
	events []string
}

func (r *recordingTransport) note(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recordingTransport) WriteFrame(f []byte) error {
	r.note("frame")
	return r.Transport.WriteFrame(f)
}
func (r *recordingTransport) holdFrames()        { r.note("hold") }
func (r *recordingTransport) flushFrames() error { r.note("flush"); return nil }

// Frames the writer finds queued together go out as one batch, which it
// sends as soon as the queue is empty.
func TestWriterBatchesQueuedFrames(t *testing.T) {
	a, b := net.Pipe()
	rec := &recordingTransport{Transport: NewStreamTransport(a)}
	srv, cli := NewConnOver(rec, Options{}), NewConnOver(NewStreamTransport(b), Options{})
	got := make(chan struct{}, 5)
	cli.Handle("note", func(r *Request) { got <- struct{}{} })
	for range 5 {
		if err := srv.SendNoReply(context.Background(), &Message{Properties: Properties{"Profile": "note"}, Body: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	srv.Start()
	cli.Start()
	t.Cleanup(func() { cli.Close(); srv.Close() })
	for range 5 {
		<-got
	}
	want := "hold frame frame frame frame frame flush"
	waitFor(t, "the batch to be flushed", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.events) >= 7
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if s := joinEvents(rec.events[:7]); s != want {
		t.Fatalf("writer did %q, want %q", s, want)
	}
}

func joinEvents(e []string) string {
	var b bytes.Buffer
	for i, s := range e {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	return b.String()
}

// Both ends of a real WebSocket batch: the dialled connection and one
// accepted on a BatchingListener, below TLS as well as without it.
func TestWebSocketEndsFindTheirBatchConn(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		srvCh := make(chan *Conn, 1)
		ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := Accept(w, r, Options{})
			if err != nil {
				t.Errorf("Accept: %v", err)
				return
			}
			c.Handle("echo", echo)
			c.Start()
			srvCh <- c
		}))
		ts.Listener = BatchingListener(ts.Listener)
		opts := DialOptions{}
		if tlsOn {
			ts.StartTLS()
			opts.TLSConfig = ts.Client().Transport.(*http.Transport).TLSClientConfig
		} else {
			ts.Start()
		}
		url := wsURL(ts) // ws:// or wss:// as the server's URL says
		cli, err := Dial(context.Background(), url, opts)
		if err != nil {
			t.Fatal(err)
		}
		cli.Start()
		srv := <-srvCh
		for who, c := range map[string]*Conn{"dialled": cli, "accepted": srv} {
			if wt, ok := c.t.(*wsTransport); !ok || wt.batch == nil {
				t.Errorf("tls=%v: the %s end writes every frame at once", tlsOn, who)
			}
		}
		if reply, err := cli.Send(context.Background(), &Message{Properties: Properties{"Profile": "echo"}, Body: []byte("hi")}); err != nil || string(reply.Body) != "hi" {
			t.Errorf("tls=%v: echo = %v, %v", tlsOn, reply, err)
		}
		cli.Close()
		srv.Close()
		ts.Close()
	}
}

// A close frame written while the writer holds a batch (a failing
// connection closes in the middle of a burst) still reaches the peer
// before the connection is torn down.
func TestCloseFrameLeavesWhileFramesAreHeld(t *testing.T) {
	closed := make(chan struct{})
	ts := batchingServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, Options{})
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		wt := c.t.(*wsTransport)
		wt.holdFrames()
		wt.WriteFrame([]byte("held frame"))
		wt.WriteClose(CloseMessageTooBig, "too big", time.Now().Add(5*time.Second))
		wt.Close()
		close(closed)
	}))
	t.Cleanup(ts.Close)
	ws := rawClient(t, ts)
	<-closed
	if _, data, err := ws.ReadMessage(); err != nil || string(data) != "held frame" {
		t.Fatalf("first message: %q, %v; want the held frame", data, err)
	}
	_, _, err := ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != CloseMessageTooBig {
		t.Fatalf("peer got %v, want close %d", err, CloseMessageTooBig)
	}
}
