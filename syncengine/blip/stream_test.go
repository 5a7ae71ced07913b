package blip

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pairFunc connects a server and a client Conn; setup functions register
// handlers before Start.
type pairFunc func(t testing.TB, srvOpts, cliOpts Options, setupSrv, setupCli func(*Conn)) (srv, cli *Conn)

// eachTransport runs test over a WebSocket on 127.0.0.1 and over net.Pipe.
func eachTransport(t *testing.T, test func(*testing.T, pairFunc)) {
	t.Run("websocket", func(t *testing.T) { test(t, newPair) })
	t.Run("pipe", func(t *testing.T) { test(t, newPipePair) })
}

// newPipePair connects two Conns over net.Pipe with stream transports.
func newPipePair(t testing.TB, srvOpts, cliOpts Options, setupSrv, setupCli func(*Conn)) (srv, cli *Conn) {
	a, b := net.Pipe()
	srv, cli = NewConnOver(NewStreamTransport(a), srvOpts), NewConnOver(NewStreamTransport(b), cliOpts)
	if setupSrv != nil {
		setupSrv(srv)
	}
	if setupCli != nil {
		setupCli(cli)
	}
	srv.Start()
	cli.Start()
	t.Cleanup(func() {
		cli.Close()
		srv.Close()
	})
	return srv, cli
}

func TestCloseHandshake(t *testing.T) {
	eachTransport(t, func(t *testing.T, newPair pairFunc) {
		srv, cli := newPair(t, Options{}, Options{}, nil, nil)
		cli.CloseWithCode(CloseAppPermanent, "go away")
		waitDone(t, srv, time.Minute)
		var ce *CloseError
		if !errors.As(srv.Err(), &ce) || ce.Code != CloseAppPermanent || ce.Reason != "go away" || !ce.Remote {
			t.Fatalf("server saw %v, want the client's close 4002 \"go away\"", srv.Err())
		}
		if !errors.As(cli.Err(), &ce) || ce.Remote || ce.Code != CloseAppPermanent {
			t.Fatalf("client ended with %v, want its own close", cli.Err())
		}
	})
}

// closeWatcher reports what NextFrame returned when the stream ended.
type closeWatcher struct {
	Transport
	ended chan error // buffered 1
}

func (w *closeWatcher) NextFrame() (io.Reader, error) {
	r, err := w.Transport.NextFrame()
	if err != nil {
		w.ended <- err
	}
	return r, err
}

func TestStreamAnswersClose(t *testing.T) {
	a, b := net.Pipe()
	w := &closeWatcher{Transport: NewStreamTransport(b), ended: make(chan error, 1)}
	srv, cli := NewConnOver(NewStreamTransport(a), Options{}), NewConnOver(w, Options{})
	srv.Start()
	cli.Start()
	defer srv.Close()
	cli.Close()
	// The closer's reader ended on the peer's answer, not on the stream
	// being torn down after closeWait.
	var ce *CloseError
	if err := <-w.ended; !errors.As(err, &ce) || !ce.Remote || ce.Code != CloseNormal {
		t.Fatalf("the closer's reader ended with %v, want the peer's answering close", err)
	}
}

func TestStreamPingIsAnswered(t *testing.T) {
	a, b := net.Pipe()
	ta, tb := NewStreamTransport(a), NewStreamTransport(b)
	defer ta.Close()
	defer tb.Close()
	pinged, ponged := make(chan struct{}, 1), make(chan struct{}, 1)
	tb.OnActivity(func() { pinged <- struct{}{} })
	ta.OnActivity(func() { ponged <- struct{}{} })
	go tb.NextFrame() // reads the ping and answers it
	go ta.NextFrame() // reads the pong
	if err := ta.Ping(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	<-pinged
	<-ponged
}

func TestStreamRefusesFrameOverLimit(t *testing.T) {
	a, b := net.Pipe()
	tb := NewStreamTransport(b)
	defer a.Close()
	defer tb.Close()
	tb.SetReadLimit(1000)
	go func() {
		h := []byte{recordFrame, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(h[1:], 1001)
		a.Write(h)
	}()
	if _, err := tb.NextFrame(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("NextFrame = %v, want ErrFrameTooLarge", err)
	}
}

func TestStreamRefusesUnknownRecord(t *testing.T) {
	a, b := net.Pipe()
	tb := NewStreamTransport(b)
	defer a.Close()
	defer tb.Close()
	go a.Write([]byte{9, 0, 0, 0, 0})
	if _, err := tb.NextFrame(); err == nil {
		t.Fatal("NextFrame accepted an unknown record kind")
	}
}

// closedWriter is a transport on which the peer's close arrives just after
// a write failed because of it, as a WebSocket's "close sent" does.
type closedWriter struct {
	Transport
	wrote chan struct{}
	once  bool
}

func (t *closedWriter) WriteFrame([]byte) error {
	if !t.once {
		t.once = true
		close(t.wrote)
	}
	return errors.New("websocket: close sent")
}

func (t *closedWriter) NextFrame() (io.Reader, error) {
	<-t.wrote
	return nil, &CloseError{Code: CloseProtocolError, Reason: "too big", Remote: true}
}

// The peer's close explains a write that failed because of it: Send returns
// the close, not the write error (a race that made Send report "close sent").
func TestWriteFailingOnPeerCloseReportsTheClose(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := NewConnOver(&closedWriter{Transport: NewStreamTransport(a), wrote: make(chan struct{})}, Options{})
	c.Start()
	defer c.Close()
	_, err := c.Send(ctxTimeout(t, time.Minute), &Message{Properties: Properties{"Profile": "x"}})
	var ce *CloseError
	if !errors.As(err, &ce) || !ce.Remote || ce.Code != CloseProtocolError {
		t.Fatalf("Send = %v, want the peer's close", err)
	}
}
