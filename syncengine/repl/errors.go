package repl

import (
	"errors"
	"fmt"

	"peersync/syncengine/blip"
)

// Errors that callers classify.
var (
	ErrReadOnly  = errors.New("the peer is read-only")
	ErrForbidden = errors.New("forbidden by the peer")
	ErrProtocol  = errors.New("replication protocol error")
	// ErrNoProgress ends a one-shot run that stalled (RunConfig.NoProgressTimeout).
	ErrNoProgress = errors.New("one-shot replication made no progress")
	ErrNoAnswer   = errors.New("the peer did not answer the request in time")
)

// httpError makes an ERR response in the HTTP domain, as peers expect for
// replication-level failures.
func httpError(code int, format string, args ...any) *blip.Error {
	return &blip.Error{Domain: "HTTP", Code: code, Message: fmt.Sprintf(format, args...)}
}

func respondErr(req *blip.Request, e *blip.Error) {
	req.RespondError(e.Domain, e.Code, e.Message)
}
