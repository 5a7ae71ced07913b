package delta

import (
	"errors"
	"strings"
)

// ErrMalformed is wrapped by every error that reports a delta which does not
// fit the format or does not fit the old value it is applied to.
var ErrMalformed = errors.New("malformed delta")

// Error reports where in a delta applying failed and why.
type Error struct {
	// Path is the location in the delta, as "/"-separated keys ("" is the root).
	Path string
	// Reason says what is wrong there.
	Reason string
	// Err is an underlying cause, such as a JSON syntax error, or nil.
	Err error
}

func (e *Error) Error() string {
	path := e.Path
	if path == "" {
		path = "/"
	}
	msg := "delta: malformed at " + path + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap lets errors.Is match both ErrMalformed and the underlying cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrMalformed, e.Err}
	}
	return []error{ErrMalformed}
}

// path is the position of a value inside the delta being applied, kept as a
// linked list so descending costs nothing until an error needs the text.
type path struct {
	parent *path
	key    string
}

func (p *path) child(key string) *path { return &path{parent: p, key: key} }

func (p *path) String() string {
	var keys []string
	for q := p; q != nil; q = q.parent {
		keys = append(keys, q.key)
	}
	var b strings.Builder
	for i := len(keys) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(keys[i])
	}
	return b.String()
}

func malformed(p *path, reason string) error {
	return &Error{Path: p.String(), Reason: reason}
}
