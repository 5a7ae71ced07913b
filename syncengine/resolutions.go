package syncengine

import (
	"time"

	"peersync/syncengine/repl"
	"peersync/syncengine/store"
)

// Resolution records a conflict a replication resolved automatically: the
// document, when, the rule that decided, the revision it was left at and
// the losing revision with its body, which the revision tree no longer
// keeps. Records are written in the transaction that saves the outcome
// and kept for Engine.SetKeepResolved's time (default 30 days), at most
// store.DefaultMaxResolved per database, oldest dropped first.
type Resolution = store.Resolution

// DefaultKeepResolved is how long resolutions are kept unless set.
const DefaultKeepResolved = store.DefaultKeepResolved

// The rules the built-in resolvers record (Revision.Rule).
const (
	RuleDeletionWins  = repl.RuleDeletionWins
	RuleNewerEditWins = repl.RuleNewerEditWins
	RuleTieLocalWins  = repl.RuleTieLocalWins
	RuleMoreEditsWin  = repl.RuleMoreEditsWin
	RuleRevIDWins     = repl.RuleRevIDWins
	RuleLocalWins     = repl.RuleLocalWins
	RuleRemoteWins    = repl.RuleRemoteWins
	RuleCustom        = repl.RuleCustom
	RuleCustomMerge   = repl.RuleCustomMerge
)

// ConflictResolved reports a recorded automatic resolution. Resolution
// has no LoserBody (Database.Resolution reads it).
type ConflictResolved struct {
	Database   string
	Resolution Resolution
}

func (ConflictResolved) isEvent() {}

// Resolutions lists the database's recorded automatic resolutions, newest
// first, up to limit (≤ 0: all that are kept), without the losing bodies
// (Resolution reads one with its body).
func (db *Database) Resolutions(limit int) ([]Resolution, error) {
	var rs []Resolution
	err := db.store.View(func(tx *store.Tx) (err error) {
		rs, err = tx.Resolutions(limit)
		return err
	})
	return rs, err
}

// Resolution returns one record, with the loser's body.
func (db *Database) Resolution(id uint64) (Resolution, error) {
	var r Resolution
	err := db.store.View(func(tx *store.Tx) (err error) {
		r, err = tx.Resolution(id)
		return err
	})
	return r, err
}

// RestoreResolution makes the losing revision's body the document's
// current revision, as a new local edit that replicates like any other,
// and deletes the record.
func (db *Database) RestoreResolution(id uint64) (*Document, error) {
	var d *Document
	err := db.store.Update(func(tx *store.Tx) (err error) {
		d, err = tx.RestoreResolution(id)
		return err
	})
	return d, err
}

// DismissResolution deletes a record, leaving the document as it is.
func (db *Database) DismissResolution(id uint64) error {
	return db.store.Update(func(tx *store.Tx) error { return tx.DismissResolution(id) })
}

// SetKeepResolved sets how long every database of this engine keeps its
// records of automatic resolutions (≤ 0: 30 days), now and when opened
// later, and purges what is older.
func (e *Engine) SetKeepResolved(d time.Duration) {
	e.mu.Lock()
	e.opts.KeepResolved = d
	dbs := make([]*Database, 0, len(e.dbs))
	for _, db := range e.dbs {
		dbs = append(dbs, db)
	}
	e.mu.Unlock()
	for _, db := range dbs {
		db.store.SetKeepResolved(d)
	}
	e.purgeResolutions(dbs)
}

// purgeResolutionsEvery is how often an engine purges expired records
// from its open databases (opening one purges it too).
const purgeResolutionsEvery = time.Hour

func (e *Engine) purgeResolutions(dbs []*Database) {
	for _, db := range dbs {
		if n, err := db.store.PurgeResolutions(); err != nil {
			e.log.Warn("expired conflict records not purged", "database", db.name, "error", err.Error())
		} else if n > 0 {
			e.log.Debug("expired conflict records purged", "database", db.name, "records", n)
		}
	}
}

// purgeTick purges expired records from the open databases, then arms
// the timer again (a timer, not a goroutine: an idle engine runs nothing).
func (e *Engine) purgeTick() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	dbs := make([]*Database, 0, len(e.dbs))
	for _, db := range e.dbs {
		dbs = append(dbs, db)
	}
	e.mu.Unlock()
	e.purgeResolutions(dbs)
	e.mu.Lock()
	if !e.closed {
		e.purgeTimer.Reset(purgeResolutionsEvery)
	}
	e.mu.Unlock()
}

// observeResolutions publishes ConflictResolved for each record.
func (e *Engine) observeResolutions(name string, st *store.DB) (cancel func()) {
	return st.ObserveResolutions(func(rs []Resolution) {
		for _, r := range rs {
			r.LoserBody = nil
			e.publish(ConflictResolved{Database: name, Resolution: r})
		}
	})
}
