package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// ReleaseMapped tells the kernel that this process no longer needs the
// pages of the database file it has read so far: they leave its resident
// memory and stay in the page cache, and the next read maps them again. A
// full replication reads the whole file once; without this the sender's
// resident size grew by the file's size. It runs inside a read transaction,
// so bbolt cannot remap the file meanwhile.
func (db *DB) ReleaseMapped() error {
	return db.View(func(tx *Tx) error { return releaseMapped(tx.btx) })
}

func releaseMapped(btx *bolt.Tx) error {
	// The mapping is read-only and shared (bbolt writes with pwrite), so
	// dropping its pages loses nothing.
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, btx.DB().Info().Data, uintptr(btx.Size()), syscall.MADV_DONTNEED)
	if errno != 0 {
		return errno
	}
	return nil
}
