//go:build !unix

package syncengine

import "testing"

// refusingAddr returns a 127.0.0.1 address that nothing listens on (a
// port just freed: without Unix sockets the port cannot be held).
func refusingAddr(t *testing.T) string { return localAddr(freePort(t)) }
