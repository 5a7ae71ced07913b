//go:build unix

package syncengine

import (
	"syscall"
	"testing"
)

// refusingAddr returns a 127.0.0.1 address that refuses connections for
// the whole test: a TCP socket bound to it but not listening holds the
// port (no one else can listen there) and the kernel answers every
// connection attempt with a reset.
func refusingAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return localAddr(sa.(*syscall.SockaddrInet4).Port)
}
