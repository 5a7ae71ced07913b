package blip

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// Transport carries BLIP frames, in order and whole, plus the close
// handshake and keep-alive pings. A WebSocket is one (NewConn); a
// length-prefixed byte stream such as one end of net.Pipe is another
// (NewStreamTransport), which lets two connections run in one process
// without sockets.
//
// NextFrame is called only by the reader goroutine, WriteFrame only by the
// writer goroutine; WriteClose and Ping may be called from any goroutine.
type Transport interface {
	// NextFrame returns a reader for the next frame. When the peer sent a
	// close it returns a *CloseError with Remote set; a frame longer than
	// the read limit fails with an error wrapping ErrFrameTooLarge.
	NextFrame() (io.Reader, error)
	WriteFrame(frame []byte) error
	// WriteClose tells the peer this side is closing. A transport answers
	// the peer's close by itself, so closing waits for that answer.
	WriteClose(code int, reason string, deadline time.Time) error
	Ping(deadline time.Time) error
	// OnActivity registers f, called on the reader goroutine for each ping
	// or pong the peer sends (traffic that is not a frame).
	OnActivity(f func())
	SetReadLimit(n int64)
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	RemoteAddr() net.Addr
	Close() error
}

// frameBatcher is a Transport that can hold the frames the writer knows
// more will follow and send them together; flushFrames sends what it holds
// and ends the batch.
type frameBatcher interface {
	holdFrames()
	flushFrames() error
}

// ErrFrameTooLarge: the peer sent a frame over the read limit.
var ErrFrameTooLarge = errors.New("blip: incoming frame exceeds the read limit")

// NewConn wraps a WebSocket, taking ownership of it. Register handlers,
// then Start.
func NewConn(ws *websocket.Conn, opts Options) *Conn {
	c := NewConnOver(&wsTransport{ws: ws, batch: batchConnOf(ws.NetConn())}, opts)
	c.subproto = ws.Subprotocol()
	return c
}

// Subprotocol is the subprotocol the WebSocket handshake chose ("" for a
// connection over another transport).
func (c *Conn) Subprotocol() string { return c.subproto }

// wsTransport is a Transport over a gorilla WebSocket: one binary message
// per frame. Over a batchConn (Dial's, or BatchingListener's) it is a
// frameBatcher.
type wsTransport struct {
	ws    *websocket.Conn
	batch *batchConn // nil: every frame is written at once
}

func (t *wsTransport) holdFrames() {
	if t.batch != nil {
		t.batch.holdWrites()
	}
}

func (t *wsTransport) flushFrames() error {
	if t.batch == nil {
		return nil
	}
	return t.batch.flush()
}

func (t *wsTransport) NextFrame() (io.Reader, error) {
	typ, r, err := t.ws.NextReader()
	if err != nil {
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return nil, &CloseError{Code: ce.Code, Reason: ce.Text, Remote: true}
		case errors.Is(err, websocket.ErrReadLimit):
			return nil, fmt.Errorf("%w: %w", ErrFrameTooLarge, err)
		}
		return nil, err
	}
	if typ != websocket.BinaryMessage {
		return nil, errTextFrame
	}
	return &wsFrameReader{r: r}, nil
}

// wsFrameReader turns gorilla's read-limit error, which can come in the
// middle of a message, into ErrFrameTooLarge.
type wsFrameReader struct{ r io.Reader }

func (f *wsFrameReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, websocket.ErrReadLimit) {
		err = fmt.Errorf("%w: %w", ErrFrameTooLarge, err)
	}
	return n, err
}

func (t *wsTransport) WriteFrame(frame []byte) error {
	return t.ws.WriteMessage(websocket.BinaryMessage, frame)
}

// WriteClose sends the close frame at once, with any frames held before it:
// the connection may be torn down right after.
func (t *wsTransport) WriteClose(code int, reason string, deadline time.Time) error {
	err := t.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
	if ferr := t.flushFrames(); err == nil {
		err = ferr
	}
	return err
}

func (t *wsTransport) Ping(deadline time.Time) error {
	return t.ws.WriteControl(websocket.PingMessage, nil, deadline)
}

func (t *wsTransport) OnActivity(f func()) {
	t.ws.SetPingHandler(func(data string) error {
		f()
		// Errors here show up on the next read or write; nothing to do now.
		t.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
		return nil
	})
	t.ws.SetPongHandler(func(string) error { f(); return nil })
}

func (t *wsTransport) SetReadLimit(n int64)               { t.ws.SetReadLimit(n) }
func (t *wsTransport) SetReadDeadline(d time.Time) error  { return t.ws.SetReadDeadline(d) }
func (t *wsTransport) SetWriteDeadline(d time.Time) error { return t.ws.SetWriteDeadline(d) }
func (t *wsTransport) RemoteAddr() net.Addr               { return t.ws.RemoteAddr() }
func (t *wsTransport) Close() error                       { return t.ws.Close() }
