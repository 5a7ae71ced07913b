package blip

import (
	"errors"
	"net"
	"sync"
)

// batchLimit bounds what a batchConn holds before it writes anyway.
const batchLimit = 64 << 10

// batchConn is a connection whose writes the frame writer may hold while
// it knows more frames follow, so that a burst of frames (a revision, the
// replies to others, their ACKs) leaves in one system call instead of one
// each. It sits right above the TCP connection, below TLS if any. Writes
// from other goroutines (pings, pongs, the close frame) made while it holds
// join the batch, which the writer sends before it waits for more work.
type batchConn struct {
	net.Conn
	mu   sync.Mutex
	hold bool
	buf  []byte
}

// BatchingListener wraps ln so that a BLIP connection accepted on it
// (through any wrappers and TLS that expose the connection below them with
// a NetConn method, as *tls.Conn does) can send its frames in batches.
func BatchingListener(ln net.Listener) net.Listener { return batchingListener{ln} }

type batchingListener struct{ net.Listener }

func (l batchingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &batchConn{Conn: c}, nil
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hold && len(b.buf)+len(p) <= batchLimit {
		b.buf = append(b.buf, p...)
		return len(p), nil
	}
	return b.writeLocked(p)
}

// writeLocked sends what is held, then p, in one system call (a vectored
// one when p is too big to copy into the batch).
func (b *batchConn) writeLocked(p []byte) (int, error) {
	held := len(b.buf)
	var n int64
	var err error
	switch {
	case held == 0:
		return b.Conn.Write(p)
	case held+len(p) <= batchLimit:
		b.buf = append(b.buf, p...)
		var m int
		m, err = b.Conn.Write(b.buf)
		n = int64(m)
	default:
		bufs := net.Buffers{b.buf, p}
		n, err = bufs.WriteTo(b.Conn)
	}
	b.buf = b.buf[:0]
	return max(0, int(n)-held), err
}

// holdWrites makes later writes wait in the batch.
func (b *batchConn) holdWrites() {
	b.mu.Lock()
	b.hold = true
	b.mu.Unlock()
}

// flush sends the batch and stops holding.
func (b *batchConn) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hold = false
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.writeLocked(nil)
	return err
}

// CloseWrite half-closes the TCP connection below (a refused TLS
// handshake ends with one).
func (b *batchConn) CloseWrite() error {
	if cw, ok := b.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("blip: connection cannot half-close")
}

// NetConn returns the connection below.
func (b *batchConn) NetConn() net.Conn { return b.Conn }

// batchConnOf finds the batchConn under c, if there is one.
func batchConnOf(c net.Conn) *batchConn {
	for c != nil {
		if b, ok := c.(*batchConn); ok {
			return b
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
	return nil
}
