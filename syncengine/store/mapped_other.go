//go:build !linux

package store

// ReleaseMapped does nothing here: only on Linux does the store give back
// the pages of the database file it has read (see mapped_linux.go).
func (db *DB) ReleaseMapped() error { return nil }
