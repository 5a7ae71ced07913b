package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"peersync/syncengine/store/boltfile"
)

// bbolt trusts its file: a damaged page makes it panic, sometimes on a
// goroutine of its own that nobody can recover, and a truncated file makes
// reads of the memory map fault. So a file is walked page by page with
// plain reads (boltfile) before bbolt opens it, and every call into bbolt
// runs under guard, which turns a panic raised inside bbolt, or a fault
// reading the map, into ErrDamaged.

// damaged wraps a description of the damage.
func damaged(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDamaged, fmt.Sprintf(format, args...))
}

// guard is deferred around calls into bbolt. Panics from anywhere else
// are bugs and carry on.
func guard(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if ok, _ := fromBolt(r); !ok {
		panic(r)
	}
	*err = damaged("%v", r)
}

// guard is guard for an open database. A panic while bbolt began a
// transaction leaves bbolt's locks held, so the database is marked broken
// and bbolt is never called again: every call fails with that error, and
// Close leaves the file to the process's exit rather than hang.
func (db *DB) guard(err *error) {
	r := recover()
	if r == nil {
		return
	}
	ok, locked := fromBolt(r)
	if !ok {
		panic(r)
	}
	*err = damaged("%v", r)
	if locked {
		db.broken.CompareAndSwap(nil, err)
	}
}

// brokenErr is the error that broke the database, or nil.
func (db *DB) brokenErr() error {
	if p := db.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// fromBolt reports whether the panic being handled was raised in bbolt or
// is a memory fault (only the mapped file can fault; SetPanicOnFault
// makes that a panic), and whether bbolt was beginning a transaction.
func fromBolt(r any) (ok, locked bool) {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	f, ok := r.(interface{ Addr() uintptr })
	fault := ok && f.Addr() != 0
	origin := ""
	for {
		f, more := frames.Next()
		// The first frame outside the runtime is where the panic began.
		if origin == "" && !strings.HasPrefix(f.Function, "runtime.") {
			origin = f.Function
		}
		if strings.HasPrefix(f.Function, "go.etcd.io/bbolt.(*DB).beginTx") || strings.HasPrefix(f.Function, "go.etcd.io/bbolt.(*DB).beginRWTx") {
			locked = true
		}
		if strings.HasPrefix(f.Function, "peersync/syncengine/store.") || !more {
			break
		}
	}
	return fault || strings.HasPrefix(origin, "go.etcd.io/bbolt"), locked
}

// faultsPanic makes memory faults on this goroutine panics (which guard
// recovers) until the returned function runs.
func faultsPanic() (restore func()) {
	old := debug.SetPanicOnFault(true)
	return func() { debug.SetPanicOnFault(old) }
}

// verifyFile makes sure bbolt can open the file at path without panicking:
// it takes a shared lock (ErrInUse when another process writes the file),
// then walks every page. A problem found is ErrDamaged.
func verifyFile(path string, opts Options) error {
	unlock, err := lockShared(path, opts.LockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	bf, err := boltfile.Open(path)
	if errors.Is(err, boltfile.ErrUnreadable) {
		return damaged("%v", err)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer bf.Close()
	if rep := bf.Check(1, nil); !rep.Sound() {
		return damaged("%s", rep.Problems[0])
	}
	return nil
}

// lockShared holds bbolt's shared lock on the file (by opening it
// read-only), so no other process writes it while it is read. A file bbolt
// cannot open at all is damaged and gets no lock: nobody can write it.
func lockShared(path string, timeout time.Duration) (unlock func(), err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, damaged("the file is empty (0 bytes)")
	}
	b, err := openReadOnly(path, timeout)
	switch {
	case errors.Is(err, ErrInUse), errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
		return nil, err
	case err != nil:
		return func() {}, nil
	}
	return func() { b.Close() }, nil
}

func openReadOnly(path string, timeout time.Duration) (b *bolt.DB, err error) {
	defer guard(&err)
	defer faultsPanic()()
	b, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrInUse, path)
	}
	return b, err
}
