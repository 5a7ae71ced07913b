// Package leaktest checks that a test leaves no goroutines behind. It is
// imported only by tests.
package leaktest

import (
	"testing"

	"go.uber.org/goleak"
)

// Verify checks, after every other cleanup of the test has run, that the
// test left no goroutines behind: call it first. The keyring's D-Bus
// session connection is shared by the whole process and stays open.
func Verify(t *testing.T) {
	opts := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.newConn.func1"),
		goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.(*Conn).inWorker")}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}
