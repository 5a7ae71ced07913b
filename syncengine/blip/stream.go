package blip

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// A stream transport sends records: a kind byte, a 4-byte big-endian
// length, then that many bytes. A close record holds a 2-byte code and the
// reason.
const (
	recordFrame = iota
	recordClose
	recordPing
	recordPong
	recordHeaderSize = 5
	maxControlSize   = 125 // as a WebSocket control frame
)

var errCloseSent = errors.New("blip: close already sent")

// StreamTransport is a Transport over any reliable, ordered byte stream
// (net.Pipe, a Unix socket, a TCP connection). Deadlines apply when the
// stream has SetReadDeadline and SetWriteDeadline, as a net.Conn does.
type StreamTransport struct {
	rwc   io.ReadWriteCloser
	r     *bufio.Reader
	limit int64
	frame io.LimitedReader // what is left of the frame being read

	activity func()

	wmu       sync.Mutex
	wbuf      []byte
	wdeadline time.Time
	closeSent bool
}

// NewStreamTransport frames BLIP over rwc, taking ownership of it.
func NewStreamTransport(rwc io.ReadWriteCloser) *StreamTransport {
	return &StreamTransport{rwc: rwc, r: bufio.NewReaderSize(rwc, 32*1024), limit: 1 << 31, activity: func() {}}
}

// NextFrame reads records until a frame arrives, answering pings and the
// peer's close on the way.
func (t *StreamTransport) NextFrame() (io.Reader, error) {
	if t.frame.N > 0 { // the caller did not read the last frame to its end
		if _, err := io.Copy(io.Discard, &t.frame); err != nil {
			return nil, err
		}
	}
	for {
		var h [recordHeaderSize]byte
		if _, err := io.ReadFull(t.r, h[:]); err != nil {
			return nil, err
		}
		kind, n := h[0], int64(binary.BigEndian.Uint32(h[1:]))
		if kind == recordFrame {
			if n > t.limit {
				return nil, fmt.Errorf("%w (%d > %d bytes)", ErrFrameTooLarge, n, t.limit)
			}
			t.frame = io.LimitedReader{R: t.r, N: n}
			return &t.frame, nil
		}
		if n > maxControlSize {
			return nil, fmt.Errorf("blip: stream control record of %d bytes (at most %d)", n, maxControlSize)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(t.r, body); err != nil {
			return nil, err
		}
		switch kind {
		case recordPing:
			t.activity()
			t.writeRecord(recordPong, body, time.Now().Add(5*time.Second))
		case recordPong:
			t.activity()
		case recordClose:
			ce := &CloseError{Code: CloseAbnormal, Remote: true}
			if len(body) >= 2 {
				ce.Code, ce.Reason = int(binary.BigEndian.Uint16(body)), string(body[2:])
			}
			t.WriteClose(ce.Code, "", time.Now().Add(time.Second)) // the answer the closer waits for
			return nil, ce
		default:
			return nil, fmt.Errorf("blip: unknown stream record kind %d", kind)
		}
	}
}

// WriteFrame sends one frame.
func (t *StreamTransport) WriteFrame(frame []byte) error {
	return t.writeRecord(recordFrame, frame, time.Time{})
}

// WriteClose sends a close record once; later calls do nothing.
func (t *StreamTransport) WriteClose(code int, reason string, deadline time.Time) error {
	body := binary.BigEndian.AppendUint16(nil, uint16(code))
	body = append(body, reason[:min(len(reason), maxControlSize-2)]...)
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.closeSent {
		return nil
	}
	err := t.writeLocked(recordClose, body, deadline)
	t.closeSent = true
	return err
}

// Ping asks the peer for a pong.
func (t *StreamTransport) Ping(deadline time.Time) error {
	return t.writeRecord(recordPing, nil, deadline)
}

func (t *StreamTransport) writeRecord(kind byte, body []byte, deadline time.Time) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.closeSent {
		return errCloseSent
	}
	return t.writeLocked(kind, body, deadline)
}

// writeLocked writes one record in one Write, under deadline when it is
// set (then the frame writer's deadline again).
func (t *StreamTransport) writeLocked(kind byte, body []byte, deadline time.Time) error {
	if !deadline.IsZero() {
		t.setWriteDeadline(deadline)
		defer t.setWriteDeadline(t.wdeadline)
	}
	t.wbuf = append(t.wbuf[:0], kind, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(t.wbuf[1:], uint32(len(body)))
	t.wbuf = append(t.wbuf, body...)
	_, err := t.rwc.Write(t.wbuf)
	if cap(t.wbuf) > 4*maxFrameSize {
		t.wbuf = nil
	}
	return err
}

func (t *StreamTransport) OnActivity(f func())  { t.activity = f }
func (t *StreamTransport) SetReadLimit(n int64) { t.limit = n }

func (t *StreamTransport) SetReadDeadline(d time.Time) error {
	if dc, ok := t.rwc.(interface{ SetReadDeadline(time.Time) error }); ok {
		return dc.SetReadDeadline(d)
	}
	return nil
}

func (t *StreamTransport) SetWriteDeadline(d time.Time) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.wdeadline = d
	return t.setWriteDeadline(d)
}

func (t *StreamTransport) setWriteDeadline(d time.Time) error {
	if dc, ok := t.rwc.(interface{ SetWriteDeadline(time.Time) error }); ok {
		return dc.SetWriteDeadline(d)
	}
	return nil
}

// RemoteAddr is the stream's remote address when it has one.
func (t *StreamTransport) RemoteAddr() net.Addr {
	if ra, ok := t.rwc.(interface{ RemoteAddr() net.Addr }); ok {
		return ra.RemoteAddr()
	}
	return streamAddr{}
}

func (t *StreamTransport) Close() error { return t.rwc.Close() }

type streamAddr struct{}

func (streamAddr) Network() string { return "stream" }
func (streamAddr) String() string  { return "stream" }
