package syncengine

import (
	"errors"

	"peersync/syncengine/repl"
	"peersync/syncengine/store"
)

// Sentinel errors. Test with errors.Is; messages wrap them with detail.
var (
	ErrNotFound          = store.ErrNotFound
	ErrConflict          = store.ErrConflict
	ErrInUse             = store.ErrInUse
	ErrInvalidBody       = store.ErrInvalidBody
	ErrBodyTooLarge      = store.ErrBodyTooLarge
	ErrInvalidDocID      = store.ErrInvalidID
	ErrInvalidCollection = store.ErrInvalidName
	ErrMissingBlob       = store.ErrMissingBlob
	ErrDamaged           = store.ErrDamaged // the file is damaged; see DamagedError

	ErrInvalidDatabaseName = errors.New("invalid database name")
	ErrDatabaseExists      = errors.New("database already exists")
	ErrDatabaseNotFound    = errors.New("no such database")
	ErrClosed              = errors.New("engine is closed")

	// ErrNoProgress stops a one-shot replication that made no progress for
	// ReplicatorConfig.NoProgressTimeout. It is permanent: not retried.
	ErrNoProgress = repl.ErrNoProgress
)
