//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped does nothing here: only on Linux does the store give back
// the pages of the database file it has read (see mapped_linux.go).
func releaseMapped(*bolt.Tx) error { return nil }
