package blip

import (
	"fmt"
	"strconv"
	"sync/atomic"
)

// Message is a BLIP request or response: properties and a body. The body of
// a message passed to Send or a Respond method must not be modified until the
// call returns (for SendNoReply: until the connection ends, as it may still be
// going out).
type Message struct {
	Properties Properties
	Body       []byte
	Urgent     bool
	NoReply    bool
	Compressed bool // sender: compress this message's frames
}

// Profile returns the "Profile" property, which names a request's type.
func (m *Message) Profile() string { return m.Properties[profileKey] }

// flags returns the message-level frame flags of m as type typ.
func (m *Message) flags(typ uint8) uint8 {
	f := typ
	if m.Urgent {
		f |= flagUrgent
	}
	if m.NoReply && typ == typeMSG {
		f |= flagNoReply
	}
	if m.Compressed {
		f |= flagCompressed
	}
	return f
}

// Error property names and the default domain of ERR responses.
const (
	ErrorDomainProperty = "Error-Domain"
	ErrorCodeProperty   = "Error-Code"
	BLIPErrorDomain     = "BLIP"
)

// BLIP-domain error codes.
const (
	CodeBadRequest    = 400
	CodeForbidden     = 403
	CodeNotFound      = 404
	CodeTooLarge      = 413 // over a size or memory limit: sending it again will not help
	CodeBadRange      = 416
	CodeHandlerFailed = 501
	CodeUnavailable   = 503 // shared memory for incoming messages used up: try again later
	CodeUnspecified   = 599
)

// Error is an ERR response (domain default "BLIP").
type Error struct {
	Domain  string
	Code    int
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("blip: %s error %d", e.Domain, e.Code)
	}
	return fmt.Sprintf("blip: %s error %d: %s", e.Domain, e.Code, e.Message)
}

// errorFromResponse builds an *Error from an ERR message.
func errorFromResponse(props Properties, body []byte) *Error {
	e := &Error{Domain: props[ErrorDomainProperty], Code: CodeUnspecified, Message: string(body)}
	if e.Domain == "" {
		e.Domain = BLIPErrorDomain
	}
	if code, err := strconv.Atoi(props[ErrorCodeProperty]); err == nil {
		e.Code = code
	}
	return e
}

// Request is an incoming request handed to a Handler.
type Request struct {
	Message
	conn      *Conn
	number    uint64
	held      int  // bytes charged to the connection's memory account until handled
	counted   bool // in conn.unanswered until responded
	responded atomic.Bool
}

// Respond sends the response. It does nothing for NoReply requests; only the
// first response counts.
func (r *Request) Respond(props Properties, body []byte) {
	r.respond(typeRPY, props, body, false)
}

// RespondCompressed is Respond with compressed frames.
func (r *Request) RespondCompressed(props Properties, body []byte) {
	r.respond(typeRPY, props, body, true)
}

// RespondError sends an ERR response; an empty domain means "BLIP".
func (r *Request) RespondError(domain string, code int, msg string) {
	if domain == "" {
		domain = BLIPErrorDomain
	}
	props := Properties{ErrorDomainProperty: domain, ErrorCodeProperty: strconv.Itoa(code)}
	r.respond(typeERR, props, []byte(msg), false)
}

func (r *Request) respond(typ uint8, props Properties, body []byte, compressed bool) {
	if r.NoReply || r.responded.Swap(true) {
		return
	}
	if r.counted {
		r.conn.unanswered.Add(-1)
	}
	m := &Message{Properties: props, Body: body, Urgent: r.Urgent, Compressed: compressed}
	if err := r.conn.queueResponse(r.number, typ, m); err != nil {
		r.conn.log.Debug("blip: response not sent", "number", r.number, "err", err)
	}
}

// Handler handles incoming requests with one profile. It is called in
// arrival order on the connection's single dispatch goroutine and must not
// block for long: slow work goes to a goroutine that responds later. A panic
// in a handler becomes a 501 ERR response; the connection lives on. Close
// waits for a running handler to return.
type Handler func(req *Request)
