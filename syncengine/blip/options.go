package blip

import (
	"log/slog"
	"time"
)

// The WebSocket subprotocols of Couchbase Mobile replication: version 3
// names revisions by revision-tree IDs, version 4 by version vectors.
const (
	Subprotocol   = "BLIP_3+CBMobile_3"
	SubprotocolV4 = "BLIP_3+CBMobile_4"
)

// Subprotocols are the ones this package speaks, newest first: what Dial
// offers by default and Accept takes.
var Subprotocols = []string{SubprotocolV4, Subprotocol}

// Options tune a connection. Zero values mean the defaults below.
type Options struct {
	// MaxMessageSize bounds one incoming message (default 64 MiB). A bigger
	// one is a fatal protocol error.
	MaxMessageSize int
	// MaxPropertiesSize bounds one incoming message's properties (default
	// 64 KiB); a request with more is answered with ERR 413.
	MaxPropertiesSize int
	// MaxBufferedBytes bounds the memory the connection's incoming messages
	// hold at once (default 2 × MaxMessageSize): messages still arriving,
	// a large frame being read, and requests until their handler returns.
	// Joining a message's chunks briefly takes twice its size, so a message
	// bigger than half of this is refused. A refused request is answered
	// with ERR 413; a refused response or no-reply request closes the
	// connection with 1009.
	MaxBufferedBytes int
	// Budget, if set, is shared with other connections and bounds what
	// their incoming messages hold together, beyond 256 KiB each (so small
	// messages always get through). Over it, a request gets ERR 503 and
	// anything else closes the connection with 1013.
	Budget *MemoryBudget
	// MaxInFlight bounds outgoing requests awaiting a response (default 100);
	// Send blocks beyond it.
	MaxInFlight int
	// MaxQueuedBytes bounds message bytes queued but not yet written (default
	// 8 MiB); Send and SendNoReply block beyond it. A single larger message is
	// still accepted when nothing else is queued.
	MaxQueuedBytes int
	// PingInterval is how often a WebSocket ping is sent; 0 sends none (the
	// passive side usually sends none).
	PingInterval time.Duration
	// IdleTimeout declares the connection dead after this long without any
	// incoming traffic (frames, pings or pongs); 0 means never.
	IdleTimeout time.Duration
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// Defaults for zero Options fields.
const (
	DefaultMaxMessageSize    = 64 << 20
	DefaultMaxPropertiesSize = 64 << 10
	DefaultMaxInFlight       = 100
	DefaultMaxQueuedBytes    = 8 << 20
)

func (o Options) withDefaults() Options {
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 2 * o.MaxMessageSize
	}
	if o.MaxPropertiesSize <= 0 {
		o.MaxPropertiesSize = DefaultMaxPropertiesSize
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.MaxQueuedBytes <= 0 {
		o.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
