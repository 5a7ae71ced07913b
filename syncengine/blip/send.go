package blip

import (
	"context"
)

// newOutMsg encodes msg's properties and prepares it to be framed.
func newOutMsg(msg *Message, typ uint8) (*outMsg, error) {
	head, err := msg.Properties.appendMessageHead(nil)
	if err != nil {
		return nil, errBadProperties
	}
	return &outMsg{flags: msg.flags(typ), head: head, body: msg.Body, key: msgKey{response: typ != typeMSG}}, nil
}

// Send sends a request and waits for its response. An ERR response returns
// (nil, *Error); a cancelled ctx returns ctx.Err(); a connection that ends
// first returns its Err (a *CloseError or the I/O error). A request with
// NoReply set is sent as by SendNoReply and returns (nil, err).
func (c *Conn) Send(ctx context.Context, req *Message) (*Message, error) {
	if req.NoReply {
		return nil, c.SendNoReply(ctx, req)
	}
	m, err := newOutMsg(req, typeMSG)
	if err != nil {
		return nil, err
	}
	select {
	case c.inflight <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, c.Err()
	}
	defer func() { <-c.inflight }()

	cl := &call{ch: make(chan callResult, 1)}
	number, err := c.enqueueRequest(ctx, m, cl)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-cl.ch:
		return r.msg, r.err
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, number)
		c.mu.Unlock()
		return nil, ctx.Err()
	case <-c.done:
		select {
		case r := <-cl.ch: // the answer won the race
			return r.msg, r.err
		default:
			return nil, c.Err()
		}
	}
}

// SendNoReply sets req.NoReply and sends it, returning once it is queued.
func (c *Conn) SendNoReply(ctx context.Context, req *Message) error {
	req.NoReply = true
	m, err := newOutMsg(req, typeMSG)
	if err != nil {
		return err
	}
	_, err = c.enqueueRequest(ctx, m, nil)
	return err
}

// enqueueRequest numbers m and queues it once there is room, registering cl
// (if any) to receive the response.
func (c *Conn) enqueueRequest(ctx context.Context, m *outMsg, cl *call) (uint64, error) {
	c.mu.Lock()
	for {
		if err := c.closedErrLocked(); err != nil {
			c.mu.Unlock()
			return 0, err
		}
		if c.queuedBytes == 0 || c.queuedBytes+m.size() <= c.opts.MaxQueuedBytes {
			break
		}
		if c.spaceCh == nil {
			c.spaceCh = make(chan struct{})
		}
		space := c.spaceCh
		c.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		c.mu.Lock()
	}
	c.nextNumber++
	m.key.number = c.nextNumber
	if cl != nil {
		c.pending[m.key.number] = cl
	}
	c.enqueueLocked(m)
	c.mu.Unlock()
	c.signalWriter()
	return m.key.number, nil
}

// queueResponse queues a response to request number. Responses never wait
// for queue space: handlers must not block.
func (c *Conn) queueResponse(number uint64, typ uint8, msg *Message) error {
	m, err := newOutMsg(msg, typ)
	if err != nil {
		return err
	}
	m.key.number = number
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.enqueueLocked(m)
	c.mu.Unlock()
	c.signalWriter()
	return nil
}

func (c *Conn) enqueueLocked(m *outMsg) {
	c.queuedBytes += m.size()
	if m.size() > ackInterval { // only messages this long can be ACKed
		c.outgoing[m.key] = m
	}
	c.out.push(m, true)
}

// closedErrLocked is the error new requests get once closing has begun.
func (c *Conn) closedErrLocked() error {
	if c.err != nil {
		return c.err
	}
	if c.localClose != nil {
		return c.localClose
	}
	return nil
}

// expectResponse tells the inbound parser whether request n awaits an answer.
func (c *Conn) expectResponse(n uint64) bool {
	c.mu.Lock()
	_, ok := c.pending[n]
	c.mu.Unlock()
	return ok
}

// deliverResponse hands a complete response to the waiting Send.
func (c *Conn) deliverResponse(number uint64, isErr bool, msg *Message) {
	c.mu.Lock()
	cl := c.pending[number]
	delete(c.pending, number)
	c.mu.Unlock()
	if cl == nil {
		return
	}
	if isErr {
		cl.ch <- callResult{err: errorFromResponse(msg.Properties, msg.Body)}
	} else {
		cl.ch <- callResult{msg: msg}
	}
}
