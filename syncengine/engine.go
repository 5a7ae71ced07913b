package syncengine

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"peersync/syncengine/store"
	"peersync/syncengine/tlsid"
)

// dbExt is the file extension of database files in the data directory.
const dbExt = ".peersync"

// Options configure an Engine.
type Options struct {
	DataDir string       // required; created (0700) if missing
	Logger  *slog.Logger // nil = discard
	Store   store.Options
	// Identities is the TLS identity store; nil opens one in the data
	// directory with keys in the OS keyring (tests pass a memory store).
	Identities *tlsid.Store
}

// Engine owns a data directory of databases and the event stream. Every
// database is opened once per engine and shared by all its users.
type Engine struct {
	dir  string
	log  *slog.Logger
	opts store.Options
	bus  bus

	mu     sync.Mutex
	dbs    map[string]*Database
	closed bool
	comps  []component // listeners and replicators to stop on Close
	ids    *tlsid.Store

	purgeTimer *time.Timer // purges expired resolution records; stopped by Close
}

// component is something the engine stops when it closes.
type component interface{ Stop() }

// New opens an engine on a data directory.
func New(opts Options) (*Engine, error) {
	if opts.DataDir == "" {
		return nil, errors.New("syncengine: no data directory given")
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{dir: opts.DataDir, log: log, opts: opts.Store, dbs: map[string]*Database{}, ids: opts.Identities}
	e.bus.snapshot = e.snapshot
	e.mu.Lock()
	e.purgeTimer = time.AfterFunc(purgeResolutionsEvery, e.purgeTick)
	e.mu.Unlock()
	return e, nil
}

// DataDir returns the engine's data directory.
func (e *Engine) DataDir() string { return e.dir }

// Logger returns the engine's logger.
func (e *Engine) Logger() *slog.Logger { return e.log }

// Subscribe returns a stream of events with the given buffer (0 = 256).
// It starts with a snapshot: a status event for every running listener and
// replicator.
func (e *Engine) Subscribe(buffer int) *Subscription { return e.bus.subscribe(buffer) }

func (e *Engine) publish(ev Event) { e.bus.publish(ev) }

func (e *Engine) snapshot() []Event {
	e.mu.Lock()
	comps := slices.Clone(e.comps)
	e.mu.Unlock()
	var evs []Event
	for _, c := range comps {
		if s, ok := c.(interface{ snapshotEvent() Event }); ok {
			evs = append(evs, s.snapshotEvent())
		}
	}
	return evs
}

var dbNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// MaxDatabaseNameLength bounds database names.
const MaxDatabaseNameLength = 100

// ValidateDatabaseName checks a database name: 1–100 characters, letters,
// digits, '_', '-' and '.', not starting with '.', '_' or '-'. Names are
// URL path segments, so nothing needs escaping.
func ValidateDatabaseName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidDatabaseName)
	case len(name) > MaxDatabaseNameLength:
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidDatabaseName, MaxDatabaseNameLength)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("%w: %q contains a path separator", ErrInvalidDatabaseName, name)
	case !dbNameRE.MatchString(name):
		return fmt.Errorf("%w: %q (use letters, digits, '_', '-', '.'; start with a letter or digit)", ErrInvalidDatabaseName, name)
	}
	return nil
}

func (e *Engine) path(name string) string { return filepath.Join(e.dir, name+dbExt) }

// CreateDatabase creates a new, empty database.
func (e *Engine) CreateDatabase(name string) (*Database, error) {
	if err := ValidateDatabaseName(name); err != nil {
		return nil, err
	}
	if _, err := os.Stat(e.path(name)); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrDatabaseExists, name)
	}
	db, err := e.open(name)
	if err == nil {
		e.publish(DatabasesChanged{})
	}
	return db, err
}

// OpenDatabase opens an existing database (or returns the handle already
// open in this engine).
func (e *Engine) OpenDatabase(name string) (*Database, error) {
	if err := ValidateDatabaseName(name); err != nil {
		return nil, err
	}
	e.mu.Lock()
	db := e.dbs[name]
	e.mu.Unlock()
	if db != nil {
		return db, nil
	}
	if _, err := os.Stat(e.path(name)); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrDatabaseNotFound, name)
	}
	return e.open(name)
}

func (e *Engine) open(name string) (*Database, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if db := e.dbs[name]; db != nil {
		return db, nil
	}
	st, err := store.Open(e.path(name), e.opts)
	if errors.Is(err, store.ErrDamaged) {
		return nil, asDamaged(name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", name, err)
	}
	db := &Database{engine: e, name: name, store: st}
	stopChanges := st.Observe(func(cs []store.Change) {
		e.publish(DocumentsChanged{Database: name, Changes: cs})
	})
	stopResolved := e.observeResolutions(name, st)
	db.stopObserving = func() { stopChanges(); stopResolved() }
	e.dbs[name] = db
	return db, nil
}

// DatabaseNames lists the databases in the data directory, sorted.
func (e *Engine) DatabaseNames() ([]string, error) {
	entries, err := os.ReadDir(e.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ent := range entries {
		name, ok := strings.CutSuffix(ent.Name(), dbExt)
		if ok && ent.Type().IsRegular() && ValidateDatabaseName(name) == nil {
			names = append(names, name)
		}
	}
	return names, nil
}

// DeleteDatabase stops what uses the database, closes it and removes its
// file.
func (e *Engine) DeleteDatabase(name string) error {
	if err := ValidateDatabaseName(name); err != nil {
		return err
	}
	e.mu.Lock()
	db := e.dbs[name]
	e.mu.Unlock()
	if db != nil {
		db.closeFor(fmt.Errorf("database %q was deleted", name))
	}
	if err := os.Remove(e.path(name)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrDatabaseNotFound, name)
		}
		return err
	}
	e.publish(DatabasesChanged{})
	return nil
}

func (e *Engine) track(c component) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.comps = append(e.comps, c)
}

func (e *Engine) untrack(c component) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.comps = slices.DeleteFunc(e.comps, func(x component) bool { return x == c })
}

// Close stops every listener and replicator and closes every database.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.purgeTimer.Stop()
	comps := slices.Clone(e.comps)
	e.mu.Unlock()
	for _, c := range slices.Backward(comps) {
		c.Stop()
	}
	e.mu.Lock()
	dbs := make([]*Database, 0, len(e.dbs))
	for _, db := range e.dbs {
		dbs = append(dbs, db)
	}
	e.mu.Unlock()
	var errs []error
	for _, db := range dbs {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}

// newID returns a short random identifier for listeners and replicators.
func newID() string { return uuid.NewString()[:8] }
