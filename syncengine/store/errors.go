package store

import "errors"

// Sentinel errors; callers test with errors.Is.
var (
	ErrNotFound        = errors.New("not found")
	ErrConflict        = errors.New("revision conflict")
	ErrInUse           = errors.New("database is in use by another process")
	ErrInvalidBody     = errors.New("invalid document body")
	ErrBodyTooLarge    = errors.New("document body too large")
	ErrInvalidID       = errors.New("invalid document ID")
	ErrInvalidName     = errors.New("invalid collection name")
	ErrMissingBlob     = errors.New("document references a blob that is not stored")
	ErrCollectionExist = errors.New("collection already exists")
	ErrDefaultColl     = errors.New("the default collection cannot be deleted")
	ErrDamaged         = errors.New("database file is damaged")
	ErrNewerFormat     = errors.New("database file was written by a newer version of PeerSync")
)
