package blip

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// closeWait bounds how long closing waits for queued frames to go out and
// for the peer to answer the close frame.
const closeWait = 2 * time.Second

// Conn is one BLIP connection over a Transport (normally a WebSocket).
type Conn struct {
	t        Transport
	subproto string // negotiated in the WebSocket handshake; "" over other transports
	opts     Options
	log      *slog.Logger
	handlers map[string]Handler

	mu           sync.Mutex
	out          outbox
	acks         []ackItem
	outgoing     map[msgKey]*outMsg // multi-frame messages still sending, for ACKs
	pending      map[uint64]*call   // requests awaiting a response
	nextNumber   uint64
	queuedBytes  int
	spaceCh      chan struct{} // closed when queuedBytes drops; nil if nobody waits
	localClose   *CloseError   // set once this side starts closing
	drained      chan struct{} // closed by the writer when closing and idle
	drainedFired bool
	err          error

	wake       chan struct{} // nudges the writer; buffered 1
	inflight   chan struct{} // one token per request awaiting a response
	dispatch   chan *Request
	done       chan struct{}
	readerDone chan struct{}
	started    atomic.Bool
	unanswered atomic.Int64 // peer's requests that want a response and have none yet
	startOnce  sync.Once
	failOnce   sync.Once
	loops      sync.WaitGroup // reader, writer, dispatcher and pinger

	in  *inbound // reader goroutine only
	enc outCodec // writer goroutine only

	stats counters
}

type call struct{ ch chan callResult } // buffered 1

type callResult struct {
	msg *Message
	err error
}

type ackItem struct {
	key   msgKey
	bytes uint64
}

// NewConnOver runs BLIP over t, taking ownership of it. Register handlers,
// then Start.
func NewConnOver(t Transport, opts Options) *Conn {
	opts = opts.withDefaults()
	c := &Conn{
		t:          t,
		opts:       opts,
		log:        opts.Logger,
		handlers:   make(map[string]Handler),
		outgoing:   make(map[msgKey]*outMsg),
		pending:    make(map[uint64]*call),
		drained:    make(chan struct{}),
		wake:       make(chan struct{}, 1),
		inflight:   make(chan struct{}, opts.MaxInFlight),
		dispatch:   make(chan *Request, 256),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	c.in = newInbound(opts.MaxMessageSize, opts.MaxPropertiesSize, c.expectResponse)
	c.in.mem = newMemAccount(int64(opts.MaxBufferedBytes), opts.Budget)
	// A frame holds at most one whole message plus header and checksum.
	t.SetReadLimit(int64(opts.MaxMessageSize) + maxFrameHeaderSize + checksumSize)
	t.OnActivity(c.touch)
	return c
}

// Handle registers h for requests whose Profile is profile. Call it before
// Start; requests with no handler get ERR BLIP 404.
func (c *Conn) Handle(profile string, h Handler) {
	if c.started.Load() {
		panic("blip: Handle called after Start")
	}
	c.handlers[profile] = h
}

// Start starts the reader, writer and dispatch goroutines.
func (c *Conn) Start() {
	c.startOnce.Do(func() {
		select {
		case <-c.done:
			return
		default:
		}
		c.started.Store(true)
		c.touch()
		// The dispatcher counts too, so no handler outlives Close.
		c.loops.Add(3)
		if c.opts.PingInterval > 0 {
			c.loops.Add(1)
			go c.pingLoop()
		}
		go c.readLoop()
		go c.writeLoop()
		go c.dispatchLoop()
	})
}

// Close closes the connection with code 1000.
func (c *Conn) Close() error { return c.CloseWithCode(CloseNormal, "") }

// CloseWithCode sends what is queued (waiting up to 2 s), then a close frame
// with code and reason, waits briefly for the peer's answer and tears the
// connection down. Pending Sends fail with the *CloseError. It returns once
// the connection's goroutines, handlers included, have ended, so a handler
// must not call it (or Close) on its own connection, except from another
// goroutine.
func (c *Conn) CloseWithCode(code int, reason string) error {
	c.mu.Lock()
	if c.localClose != nil || c.err != nil {
		c.mu.Unlock()
		c.waitLoops()
		return nil
	}
	ce := &CloseError{Code: code, Reason: truncateReason(reason)}
	c.localClose = ce
	c.mu.Unlock()
	c.signalWriter()

	running := c.started.Load()
	timeout := time.NewTimer(closeWait)
	defer timeout.Stop()
	if running {
		select {
		case <-c.drained:
		case <-c.done:
		case <-timeout.C:
		}
	}
	err := c.t.WriteClose(code, ce.Reason, time.Now().Add(time.Second))
	if running && err == nil {
		select { // the reader ends when the peer echoes the close
		case <-c.readerDone:
		case <-timeout.C:
		}
	}
	c.fail(ce)
	c.waitLoops()
	return nil
}

func (c *Conn) waitLoops() {
	if c.started.Load() {
		c.loops.Wait()
	}
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err says why the connection ended (nil while it is open): a *CloseError
// for a close frame sent or received, else the I/O or protocol error.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Unanswered returns how many of the peer's requests wait for our response
// (NoReply requests never do).
func (c *Conn) Unanswered() int { return int(c.unanswered.Load()) }

// RemoteAddr is the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.t.RemoteAddr() }

// fail ends the connection with err (the first call wins; a local close
// takes precedence over what the reader saw while closing).
func (c *Conn) fail(err error) {
	c.failOnce.Do(func() {
		c.mu.Lock()
		if c.localClose != nil {
			err = c.localClose
		}
		c.err = err
		c.pending = nil
		if c.spaceCh != nil {
			close(c.spaceCh)
			c.spaceCh = nil
		}
		c.mu.Unlock()
		close(c.done)
		c.t.Close()
		c.log.Debug("blip: connection ended", "err", err)
	})
}

// protocolError closes the connection with 1002 because of bad peer data.
func (c *Conn) protocolError(err error) { c.closeForInput(CloseProtocolError, err) }

// closeForInput closes the connection at once with code because of what
// the peer sent; called by the reader.
func (c *Conn) closeForInput(code int, err error) {
	reason := truncateReason("blip: " + err.Error())
	c.mu.Lock()
	if c.localClose == nil {
		c.localClose = &CloseError{Code: code, Reason: reason}
	}
	ce := c.localClose
	c.mu.Unlock()
	c.log.Debug("blip: closing because of peer input", "code", code, "err", err)
	c.t.WriteClose(ce.Code, ce.Reason, time.Now().Add(time.Second))
	c.fail(ce)
}

// truncateReason keeps a close reason within a control frame (123 bytes).
func truncateReason(s string) string {
	const max = 123
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 { // don't split a UTF-8 sequence
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s
}

func (c *Conn) signalWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}
