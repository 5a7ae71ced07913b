package blip

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// readLoop reads frames, feeds them to the inbound parser and routes what
// comes out: ACKs to the writer's bookkeeping, requests to the dispatcher,
// responses to their Send.
func (c *Conn) readLoop() {
	defer c.loops.Done()
	defer close(c.readerDone)
	var buf []byte
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			c.fail(c.readError(err))
			return
		}
		c.touch()
		if typ != websocket.BinaryMessage {
			c.protocolError(errTextFrame)
			return
		}
		buf, err = readFrame(r, buf[:0])
		if err != nil {
			c.fail(c.readError(err))
			return
		}
		c.stats.bytesReceivedWire.Add(int64(len(buf)))
		ev, err := c.in.handleFrame(buf)
		if err != nil {
			c.protocolError(err)
			return
		}
		if !c.route(ev) {
			return
		}
		if cap(buf) > 4*maxFrameSize {
			buf = nil // a huge frame passed; don't keep its buffer
		}
	}
}

// readFrame reads one WebSocket message into buf (the read limit set on the
// WebSocket bounds its size).
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if cap(buf)-len(buf) < 512 {
			buf = growSlice(buf, maxFrameSize+maxFrameHeaderSize+checksumSize)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// route acts on one parsed frame; false means the connection ended.
func (c *Conn) route(ev frameEvent) bool {
	c.stats.bytesReceived.Add(int64(ev.payload))
	if ev.ack {
		c.onAck(ev.ackKey, ev.ackBytes)
	}
	if ev.sendAck {
		c.queueAck(ev.sendAckKey, ev.sendAckBytes)
	}
	if ev.dropped != nil {
		c.log.Debug("blip: dropped incoming message", "err", ev.dropped)
	}
	m := ev.done
	if m == nil {
		return true
	}
	c.stats.messagesReceived.Add(1)
	msg := Message{
		Properties: m.props,
		Body:       m.body,
		Urgent:     m.flags&flagUrgent != 0,
		NoReply:    m.flags&flagNoReply != 0,
		Compressed: m.flags&flagCompressed != 0,
	}
	if m.key.response {
		msg.NoReply = false
		c.deliverResponse(m.key.number, m.flags&flagTypeMask == typeERR, &msg)
		return true
	}
	req := &Request{Message: msg, conn: c, number: m.key.number, counted: !msg.NoReply}
	if req.counted {
		c.unanswered.Add(1)
	}
	select {
	case c.dispatch <- req:
		return true
	case <-c.done:
		return false
	}
}

// readError turns a read failure into the connection's end reason.
func (c *Conn) readError(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return &CloseError{Code: ce.Code, Reason: ce.Text, Remote: true}
	}
	if errors.Is(err, websocket.ErrReadLimit) {
		return fmt.Errorf("blip: incoming frame exceeds the maximum message size (%d bytes): %w", c.opts.MaxMessageSize, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && c.opts.IdleTimeout > 0 {
		return fmt.Errorf("%w (%v)", ErrIdleTimeout, c.opts.IdleTimeout)
	}
	return err
}

// touch pushes the idle deadline out; called on the reader goroutine for
// every frame, ping and pong.
func (c *Conn) touch() {
	if c.opts.IdleTimeout > 0 {
		c.ws.SetReadDeadline(time.Now().Add(c.opts.IdleTimeout))
	}
}

func (c *Conn) onPing(data string) error {
	c.touch()
	// Errors here show up on the next read or write; nothing to do now.
	c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	return nil
}

// pingLoop sends WebSocket pings so both sides see traffic and a dead peer is
// noticed by the idle timeout.
func (c *Conn) pingLoop() {
	defer c.loops.Done()
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.opts.PingInterval))
		case <-c.done:
			return
		}
	}
}

// dispatchLoop runs handlers one at a time, in arrival order.
func (c *Conn) dispatchLoop() {
	defer c.loops.Done()
	for {
		select {
		case req := <-c.dispatch:
			c.serve(req)
		case <-c.done:
			return
		}
	}
}

func (c *Conn) serve(req *Request) {
	h := c.handlers[req.Profile()]
	if h == nil {
		req.RespondError(BLIPErrorDomain, CodeNotFound, fmt.Sprintf("no handler for profile %q", req.Profile()))
		return
	}
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("blip: handler panicked", "profile", req.Profile(), "panic", p)
			req.RespondError(BLIPErrorDomain, CodeHandlerFailed, fmt.Sprintf("handler for %q failed: %v", req.Profile(), p))
		}
	}()
	h(req)
}
