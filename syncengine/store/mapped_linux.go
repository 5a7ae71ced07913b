package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped advises the kernel that the pages of btx's mapping are not
// needed (madvise MADV_DONTNEED).
func releaseMapped(btx *bolt.Tx) error {
	// The mapping is read-only and shared (bbolt writes with pwrite), so
	// dropping its pages loses nothing.
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, btx.DB().Info().Data, uintptr(btx.Size()), syscall.MADV_DONTNEED)
	if errno != 0 {
		return errno
	}
	return nil
}
