package syncengine

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"peersync/syncengine/store"
)

// DamagedError is returned for a database whose file is damaged. It
// matches ErrDamaged. Nothing else is affected: other databases, their
// listeners and replications carry on.
type DamagedError struct {
	Database string
	Err      error // the store's description of the damage
}

func (e *DamagedError) Error() string {
	return "database " + e.Database + " is damaged: " + strings.TrimPrefix(e.Err.Error(), store.ErrDamaged.Error()+": ")
}

func (e *DamagedError) Unwrap() error { return e.Err }

// asDamaged names the database in a store error that says it is damaged.
func asDamaged(name string, err error) error {
	var de *DamagedError
	if errors.Is(err, store.ErrDamaged) && !errors.As(err, &de) {
		return &DamagedError{Database: name, Err: err}
	}
	return err
}

// CheckReport is what CheckDatabase found.
type CheckReport = store.VerifyReport

// CheckProgress hears how far a check has come: a phase ("pages",
// "documents"), and done out of total (total < 0 when unknown).
type CheckProgress = store.Progress

// CheckDatabase checks a database file: bbolt's consistency check over its
// pages and the store's own check of its records. A damaged database is a
// report with problems, not an error. It never writes to the file.
func (e *Engine) CheckDatabase(name string, progress CheckProgress) (CheckReport, error) {
	if err := e.existing(name); err != nil {
		return CheckReport{}, err
	}
	e.mu.Lock()
	db := e.dbs[name]
	e.mu.Unlock()
	if db != nil {
		return db.store.Verify(progress)
	}
	return store.VerifyFile(e.path(name), e.opts, progress)
}

// SalvageReport says what SalvageDatabase copied and what was lost.
type SalvageReport = store.SalvageReport

// SalvageDatabase copies every document (with its revision tree), local
// document and blob that can still be read from database name into a new
// database into ("" means name-salvaged), skipping what cannot be read. It
// never writes to the damaged file. The copy has a new UUID, so peers send
// it everything again and what was lost comes back from them.
func (e *Engine) SalvageDatabase(name, into string) (SalvageReport, error) {
	if into == "" {
		into = name + "-salvaged"
	}
	if err := e.existing(name); err != nil {
		return SalvageReport{}, err
	}
	if err := ValidateDatabaseName(into); err != nil {
		return SalvageReport{}, err
	}
	if _, err := os.Stat(e.path(into)); err == nil {
		return SalvageReport{}, fmt.Errorf("%w: %s", ErrDatabaseExists, into)
	}
	e.mu.Lock()
	db := e.dbs[name]
	e.mu.Unlock()
	var rep SalvageReport
	var err error
	if db != nil {
		rep, err = db.store.Salvage(e.path(into))
	} else {
		rep, err = store.Salvage(e.path(name), e.path(into), e.opts)
	}
	if err != nil {
		return rep, asDamaged(name, err)
	}
	e.publish(DatabasesChanged{})
	return rep, nil
}

// existing checks that name is a valid name of a database that exists.
func (e *Engine) existing(name string) error {
	if err := ValidateDatabaseName(name); err != nil {
		return err
	}
	if _, err := os.Stat(e.path(name)); err != nil {
		return fmt.Errorf("%w: %s", ErrDatabaseNotFound, name)
	}
	return nil
}
