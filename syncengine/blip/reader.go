package blip

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// readLoop reads frames, feeds them to the inbound parser and routes what
// comes out: ACKs to the writer's bookkeeping, requests to the dispatcher,
// responses to their Send.
func (c *Conn) readLoop() {
	defer c.loops.Done()
	defer close(c.readerDone)
	defer c.in.mem.close() // what incoming messages still hold goes back
	var buf []byte
	bufHeld := 0 // what buf has charged to the memory account
	for {
		r, err := c.t.NextFrame()
		if errors.Is(err, errTextFrame) {
			c.protocolError(err)
			return
		}
		if err != nil {
			c.fail(c.readError(err))
			return
		}
		c.touch()
		buf, err = c.readFrame(r, buf[:0], &bufHeld)
		if errors.Is(err, errOverConnMemory) {
			c.closeForInput(CloseMessageTooBig, err)
			return
		}
		if errors.Is(err, errOverSharedMemory) {
			c.closeForInput(CloseTryAgainLater, err)
			return
		}
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
		if cap(buf) > frameBufFree {
			buf = nil // a huge frame passed; don't keep its buffer
			c.in.mem.give(bufHeld)
			bufHeld = 0
		}
	}
}

// frameBufFree is how big the frame buffer may grow before it is charged to
// the memory account: normal frames fit in it.
const frameBufFree = 4 * maxFrameSize

// readFrame reads one WebSocket message into buf (the read limit set on the
// WebSocket bounds its size). Growing buf past frameBufFree is charged to
// the memory account, *held being the current charge.
func (c *Conn) readFrame(r io.Reader, buf []byte, held *int) ([]byte, error) {
	for {
		if cap(buf)-len(buf) < 512 {
			newCap := max(2*cap(buf), len(buf)+maxFrameSize+maxFrameHeaderSize+checksumSize)
			charge := max(0, newCap-frameBufFree)
			if charge > 0 {
				if err := c.in.mem.take(charge); err != nil {
					return buf, err
				}
			}
			nb := make([]byte, len(buf), newCap)
			copy(nb, buf)
			buf = nb
			c.in.mem.give(*held)
			*held = charge
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
	if ev.refused != nil && !c.refuse(ev.refused) {
		return false
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
		c.in.mem.give(m.held) // the waiting Send has it now
		return true
	}
	c.stats.requestsReceived.Add(1)
	req := &Request{Message: msg, conn: c, number: m.key.number, held: m.held, counted: !msg.NoReply}
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

// refuse answers a request that will not be delivered with an ERR, so its
// sender does not wait forever; a message that cannot be answered but must
// not be lost silently closes the connection. False means it closed.
func (c *Conn) refuse(r *refusal) bool {
	c.log.Debug("blip: incoming message refused", "err", r.err)
	switch {
	case r.wantsReply():
		req := &Request{Message: Message{Urgent: r.flags&flagUrgent != 0}, conn: c, number: r.key.number}
		req.RespondError(BLIPErrorDomain, r.code, r.err.Error())
	case r.closeCode != 0:
		c.closeForInput(r.closeCode, r.err)
		return false
	}
	return true
}

// readError turns a read failure into the connection's end reason.
func (c *Conn) readError(err error) error {
	if errors.Is(err, ErrFrameTooLarge) {
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
		c.t.SetReadDeadline(time.Now().Add(c.opts.IdleTimeout))
	}
}

// pingLoop sends pings so both sides see traffic and a dead peer is
// noticed by the idle timeout.
func (c *Conn) pingLoop() {
	defer c.loops.Done()
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.t.Ping(time.Now().Add(c.opts.PingInterval))
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
	defer c.in.mem.give(req.held) // handled: its memory is the handler's business now
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
