package blip

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rawSender writes BLIP frames by hand on a raw WebSocket, with its own
// deflate stream and running CRC, and reads what comes back.
type rawSender struct {
	t   *testing.T
	ws  *websocket.Conn
	enc outCodec
	in  *inbound
}

func newRawSender(t *testing.T, ws *websocket.Conn) *rawSender {
	return &rawSender{t: t, ws: ws, in: newInbound(DefaultMaxMessageSize, DefaultMaxPropertiesSize, func(uint64) bool { return true })}
}

func (s *rawSender) send(number uint64, flags uint8, payload []byte) error {
	frame, _, err := s.enc.appendFrame(nil, number, flags, payload)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.ws.WriteMessage(websocket.BinaryMessage, frame)
}

// bomb sends frames of zeros, compressed, for request number, never
// finishing it, until the peer answers it or closes (or n MiB went out).
func (s *rawSender) bomb(number uint64, flags uint8, mib int) {
	zeros := make([]byte, 1<<20)
	for range mib {
		if err := s.send(number, flags|flagCompressed|flagMoreComing, zeros); err != nil {
			return // the peer closed
		}
	}
}

// next reads until a complete response arrives, or the connection closes.
func (s *rawSender) next() (*completeMsg, error) {
	s.t.Helper()
	s.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		_, data, err := s.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		ev, err := s.in.handleFrame(data)
		if err != nil {
			s.t.Fatalf("bad frame from the peer: %v", err)
		}
		if ev.done != nil {
			return ev.done, nil
		}
	}
}

func expectERR(t *testing.T, m *completeMsg, err error, number uint64, code string) {
	t.Helper()
	if err != nil {
		t.Fatalf("request %d: no answer: %v", number, err)
	}
	if m.key != (msgKey{true, number}) || m.flags&flagTypeMask != typeERR || m.props[ErrorCodeProperty] != code {
		t.Fatalf("request %d answered with %s %+v %q, want ERR %s", number, typeName(m.flags), m.props, m.body, code)
	}
}

// TestDroppedRequestsAreAnswered: a request the connection cannot deliver
// (bad properties length, undecodable properties, properties over the
// limit) gets an ERR reply when it wants one, and the connection lives on.
func TestDroppedRequestsAreAnswered(t *testing.T) {
	ts, conns := blipServer(t, Options{MaxPropertiesSize: 1024}, func(c *Conn) { c.Handle("getCheckpoint", echo) })
	s := newRawSender(t, rawClient(t, ts))
	s.send(1, typeMSG, []byte{100, 'a', 0, 'b', 0})        // properties length runs past the message
	s.send(2, typeMSG, []byte{3, 'a', 0, 'b'})             // properties do not end with NUL
	s.send(3, typeMSG|flagNoReply, []byte{3, 'a', 0, 'b'}) // no reply wanted: dropped silently
	big, _ := Properties{"Profile": "getCheckpoint", "junk": strings.Repeat("x", 2048)}.appendMessageHead(nil)
	s.send(4, typeMSG, big) // over MaxPropertiesSize
	head, _ := Properties{"Profile": "getCheckpoint"}.appendMessageHead(nil)
	s.send(5, typeMSG, append(head, "ok"...))

	m, err := s.next()
	expectERR(t, m, err, 1, "400")
	m, err = s.next()
	expectERR(t, m, err, 2, "400")
	m, err = s.next()
	expectERR(t, m, err, 4, "413")
	if m, err = s.next(); err != nil || m.key != (msgKey{true, 5}) || string(m.body) != "ok" {
		t.Fatalf("request 5: %+v %v", m, err)
	}
	if c := <-conns; c.Err() != nil {
		t.Fatalf("connection ended: %v", c.Err())
	}
}

// TestOversizedPropertiesFailSend: our own Send of such a request returns
// the peer's ERR instead of waiting for its context.
func TestOversizedPropertiesFailSend(t *testing.T) {
	_, cli := newPair(t, Options{MaxPropertiesSize: 1024}, Options{}, func(c *Conn) { c.Handle("x", echo) }, nil)
	_, err := cli.Send(ctxTimeout(t, 20*time.Second), &Message{Properties: Properties{"Profile": "x", "junk": strings.Repeat("x", 2048)}})
	var be *Error
	if !errors.As(err, &be) || be.Code != CodeTooLarge {
		t.Fatalf("Send = %v, want ERR %d", err, CodeTooLarge)
	}
}

// TestDeflateBombIsRefused sends a request of compressed zeros that never
// ends: the inflater must stop at the connection's memory limit, the
// request gets ERR 413 while it is still arriving, its memory goes back,
// and the connection keeps serving.
func TestDeflateBombIsRefused(t *testing.T) {
	shared := NewMemoryBudget(64 << 20)
	const limit = 4 << 20
	ts, conns := blipServer(t, Options{MaxBufferedBytes: limit, Budget: shared}, func(c *Conn) { c.Handle("getCheckpoint", echo) })
	s := newRawSender(t, rawClient(t, ts))
	done := make(chan struct{})
	go func() { defer close(done); s.bomb(1, typeMSG, 32) }()
	m, err := s.next()
	expectERR(t, m, err, 1, "413")
	<-done
	head, _ := Properties{"Profile": "getCheckpoint"}.appendMessageHead(nil)
	s.send(2, typeMSG, append(head, "ok"...))
	if m, err = s.next(); err != nil || m.key != (msgKey{true, 2}) || string(m.body) != "ok" {
		t.Fatalf("request 2 after the bomb: %+v %v", m, err)
	}
	c := <-conns
	if c.Err() != nil {
		t.Fatalf("connection ended: %v", c.Err())
	}
	if used := c.in.mem.inUse(); used > sharedFree {
		t.Errorf("the refused message still holds %d bytes", used)
	}
	if p := shared.Peak(); p > limit {
		t.Errorf("shared budget peaked at %d bytes, over the connection's %d limit", p, limit)
	}
	if shared.InUse() != 0 {
		t.Errorf("shared budget holds %d bytes after the refusal", shared.InUse())
	}
}

// TestUnanswerableBombCloses: a no-reply request over the limit cannot be
// answered, so the connection closes with 1009 and gives its memory back.
func TestUnanswerableBombCloses(t *testing.T) {
	shared := NewMemoryBudget(64 << 20)
	ts, conns := blipServer(t, Options{MaxBufferedBytes: 4 << 20, Budget: shared}, nil)
	s := newRawSender(t, rawClient(t, ts))
	go s.bomb(1, typeMSG|flagNoReply, 32)
	_, err := s.next()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != CloseMessageTooBig {
		t.Fatalf("raw peer got %v, want close 1009", err)
	}
	c := <-conns
	waitDone(t, c, 10*time.Second)
	if shared.InUse() != 0 {
		t.Errorf("shared budget holds %d bytes after the close", shared.InUse())
	}
}

// TestSharedBudgetBoundsAllConnections: two connections bombing at once
// never hold more than the shared budget together; the one that finds it
// used up gets ERR 503 (try later), and small requests still get through.
func TestSharedBudgetBoundsAllConnections(t *testing.T) {
	const sharedLimit = 6 << 20
	shared := NewMemoryBudget(sharedLimit)
	ts, _ := blipServer(t, Options{MaxBufferedBytes: 16 << 20, Budget: shared}, func(c *Conn) { c.Handle("getCheckpoint", echo) })
	codes := make(chan string, 2)
	for range 2 {
		s := newRawSender(t, rawClient(t, ts))
		go func() {
			go s.bomb(1, typeMSG, 64)
			m, err := s.next()
			if err != nil || m.flags&flagTypeMask != typeERR {
				codes <- "no ERR"
				return
			}
			codes <- m.props[ErrorCodeProperty]
		}()
	}
	got := []string{<-codes, <-codes}
	if !strings.Contains(strings.Join(got, ","), "503") {
		t.Errorf("answers %v, want a 503 for the connection that found the shared budget used up", got)
	}
	if p := shared.Peak(); p > sharedLimit {
		t.Errorf("shared budget peaked at %d, over its %d limit", p, sharedLimit)
	}
	s := newRawSender(t, rawClient(t, ts))
	head, _ := Properties{"Profile": "getCheckpoint"}.appendMessageHead(nil)
	s.send(1, typeMSG, append(head, "ok"...))
	if m, err := s.next(); err != nil || string(m.body) != "ok" {
		t.Fatalf("small request beside the bombs: %+v %v", m, err)
	}
}
