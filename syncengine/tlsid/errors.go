package tlsid

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these, so
// callers can test with errors.Is and still show the wrapped message.
var (
	// ErrNotFound means no identity, key or chain exists under the label.
	ErrNotFound = errors.New("tlsid: not found")
	// ErrExists means an identity already uses the label.
	ErrExists = errors.New("tlsid: already exists")
	// ErrInvalid means the input (label, options, PEM, PKCS#12, key) was rejected.
	ErrInvalid = errors.New("tlsid: invalid input")
)
