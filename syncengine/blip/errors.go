package blip

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// WebSocket close codes used by BLIP connections.
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001
	CloseProtocolError = 1002
	CloseMessageTooBig = 1009 // a message over its memory limit that cannot be answered
	CloseTryAgainLater = 1013 // ... over the shared limit, which frees up as others finish
	CloseAbnormal      = 1006 // never sent: the connection dropped without a close frame
	CloseAppTransient  = 4001 // application-defined: try again later
	CloseAppPermanent  = 4002 // application-defined: do not retry
)

// CloseError says a connection ended with a WebSocket close frame. Remote is
// true when the peer sent it; false when this side closed (including closes
// for protocol errors found in the peer's data).
type CloseError struct {
	Code   int
	Reason string
	Remote bool
}

func (e *CloseError) Error() string {
	who := "locally"
	if e.Remote {
		who = "by peer"
	}
	if e.Reason == "" {
		return fmt.Sprintf("blip: connection closed %s with code %d", who, e.Code)
	}
	return fmt.Sprintf("blip: connection closed %s with code %d: %s", who, e.Code, e.Reason)
}

// HTTPError is a WebSocket handshake the server refused with an HTTP status.
type HTTPError struct {
	StatusCode int
	Status     string
	Header     http.Header
	Body       string
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("blip: handshake refused: HTTP %s", e.Status)
	}
	return fmt.Sprintf("blip: handshake refused: HTTP %s: %s", e.Status, e.Body)
}

var (
	// ErrNoSubprotocol is returned by Accept (and Dial) when the peer
	// speaks none of the subprotocols wanted.
	ErrNoSubprotocol = errors.New("blip: peer speaks none of the WebSocket subprotocols " + strings.Join(Subprotocols, ", "))
	// ErrIdleTimeout ends a connection that saw no traffic for IdleTimeout.
	ErrIdleTimeout = errors.New("blip: no traffic from peer within the idle timeout")
	// errBadProperties rejects a message that cannot be encoded.
	errBadProperties = errors.New("blip: property keys and values must not contain NUL")
)
