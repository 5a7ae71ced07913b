package blip

import (
	"runtime"
	"time"
)

// writeLoop is the only goroutine writing data frames: it takes ACKs first,
// then the next frame of the message at the head of the outbox.
func (c *Conn) writeLoop() {
	defer c.loops.Done()
	var frame []byte
	batcher, _ := c.t.(frameBatcher)
	held := false    // frames written since the batcher began holding them
	yielded := false // the queue was found empty once since the last frame
	for {
		c.mu.Lock()
		var ack ackItem
		hasAck := len(c.acks) > 0
		var m *outMsg
		n := 0
		if hasAck {
			ack = c.acks[0]
			c.acks = c.acks[1:]
		} else if m = c.out.pop(); m != nil {
			n = min(m.remaining(), c.out.frameSize(m))
			m.started = true
		}
		idle := !hasAck && m == nil
		if idle && held {
			c.mu.Unlock()
			if !yielded {
				// Let the goroutines that were about to queue a frame (the
				// next revision, a reply) run before the batch leaves.
				yielded = true
				runtime.Gosched()
				continue
			}
			// Send the batch before waiting, and before saying all is sent.
			held, yielded = false, false
			if err := batcher.flushFrames(); err != nil {
				c.failWrite(err)
				return
			}
			continue
		}
		yielded = false
		if idle && c.localClose != nil && !c.drainedFired {
			c.drainedFired = true
			close(c.drained)
		}
		c.mu.Unlock()

		if idle {
			select {
			case <-c.wake:
				continue
			case <-c.done:
				return
			}
		}

		wire := 0
		if hasAck {
			typ := uint8(typeACKMSG)
			if ack.key.response {
				typ = typeACKRPY
			}
			frame = appendACKFrame(frame[:0], ack.key.number, typ, ack.bytes)
		} else {
			flags := m.flags
			if n < m.remaining() {
				flags |= flagMoreComing
			}
			a, b := m.chunk(n)
			var err error
			frame, wire, err = c.enc.appendFrame(frame[:0], m.key.number, flags, a, b)
			if err != nil {
				c.fail(err)
				return
			}
		}
		if batcher != nil && !held {
			batcher.holdFrames()
			held = true
		}
		if err := c.writeFrame(frame); err != nil {
			c.failWrite(err)
			return
		}
		c.stats.bytesSentWire.Add(int64(len(frame)))
		if cap(frame) > 4*maxFrameSize {
			frame = nil // don't keep a big buffer around
		}
		if m != nil {
			c.afterFrame(m, n, wire)
		}
	}
}

// afterFrame updates accounting and requeues, pauses or retires m.
func (c *Conn) afterFrame(m *outMsg, n, wire int) {
	c.stats.bytesSent.Add(int64(n))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queuedBytes -= n
	if c.spaceCh != nil && c.queuedBytes < c.opts.MaxQueuedBytes {
		close(c.spaceCh)
		c.spaceCh = nil
	}
	// Count the smaller of the two sizes, so that a peer ACKing either one
	// never leaves this message waiting forever.
	m.flowSent += min(n, wire)
	switch {
	case m.remaining() == 0:
		delete(c.outgoing, m.key)
		c.stats.messagesSent.Add(1)
	case m.needsPause():
		m.paused = true
	default:
		c.out.push(m, false)
	}
}

// failWrite ends the connection after a failed write. A write usually fails
// because the peer closed, and the reader is about to report that close,
// which says more than the write error: give it a moment to win.
func (c *Conn) failWrite(err error) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-c.readerDone:
	case <-c.done:
	case <-t.C:
	}
	c.fail(err)
}

func (c *Conn) writeFrame(frame []byte) error {
	if c.opts.IdleTimeout > 0 {
		c.t.SetWriteDeadline(time.Now().Add(c.opts.IdleTimeout))
	}
	return c.t.WriteFrame(frame)
}

// onAck records the peer's acknowledgement and resumes a paused message.
func (c *Conn) onAck(key msgKey, bytes uint64) {
	c.mu.Lock()
	m := c.outgoing[key]
	if m != nil {
		// The ACK may count more than flowSent (peers count differently, and
		// afterFrame may not have run yet); that only means less unacked.
		m.acked = max(m.acked, int(min(bytes, uint64(m.size())*2)))
		if m.paused && !m.needsPause() {
			m.paused = false
			c.out.push(m, false)
		}
	}
	c.mu.Unlock()
	if m != nil {
		c.signalWriter()
	}
}

// queueAck asks the writer to acknowledge bytes of an incoming message.
func (c *Conn) queueAck(key msgKey, bytes uint64) {
	c.mu.Lock()
	c.acks = append(c.acks, ackItem{key: key, bytes: bytes})
	c.mu.Unlock()
	c.signalWriter()
}
