package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"peersync/syncengine/hlv"
)

// DefaultCollection always exists.
const DefaultCollection = "_default._default"

// Defaults for Options.
const (
	DefaultMaxBodySize     = 20 << 20
	DefaultMaxRevTreeDepth = 20
	DefaultLockTimeout     = time.Second
)

var (
	bucketMeta  = []byte("meta")
	bucketColls = []byte("coll")
	bucketLocal = []byte("local")
	bucketBlobs = []byte("blobs")
	bucketDocs  = []byte("docs")
	bucketSeqs  = []byte("seqs")
	keyUUID     = []byte("uuid")
	keySource   = []byte("source")
	keyClock    = []byte("clock")
	keyFormat   = []byte("format")
	keyCount    = []byte("count")
)

// Format is the layout version a file is written in, kept in meta under
// "format". Files without the key are format 1 (before version vectors: no
// source ID, clock or vectors); Open upgrades them in place.
const Format = 2

// Options tune a database. Zero values take the defaults.
type Options struct {
	LockTimeout     time.Duration // how long to wait for another process's lock
	MaxBodySize     int           // bytes of JSON per revision body
	MaxRevTreeDepth int           // generations kept behind each leaf

	// Wall is the wall clock that version times start from; nil means
	// time.Now. Tests set it to step the clock back. Resolution records
	// take their times from it too.
	Wall func() time.Time

	// KeepResolved is how long records of automatic conflict resolutions
	// are kept (default DefaultKeepResolved); MaxResolved is how many at
	// most (default DefaultMaxResolved), the oldest dropped first.
	KeepResolved time.Duration
	MaxResolved  int
}

func (o Options) withDefaults() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.MaxBodySize <= 0 {
		o.MaxBodySize = DefaultMaxBodySize
	}
	if o.MaxRevTreeDepth <= 0 {
		o.MaxRevTreeDepth = DefaultMaxRevTreeDepth
	}
	if o.KeepResolved <= 0 {
		o.KeepResolved = DefaultKeepResolved
	}
	if o.MaxResolved <= 0 {
		o.MaxResolved = DefaultMaxResolved
	}
	return o
}

// DB is an open database file. It is safe for concurrent use.
type DB struct {
	path   string
	uuid   string
	source hlv.SourceID
	clock  *hlv.Clock // its newest time is saved in meta by the transaction that used it
	opts   Options

	mu   sync.RWMutex // held for writing only while Compact swaps the file
	bolt *bolt.DB

	writeMu   sync.Mutex            // orders commits and their notifications
	broken    atomic.Pointer[error] // set when bbolt can no longer be called (see guard)
	obsMu     sync.Mutex
	observers map[int]func([]Change)
	nextObs   int

	resolvedObs  map[int]func([]Resolution)
	keepResolved atomic.Int64 // a time.Duration: how long resolution records are kept

	touched atomic.Int64 // bytes of records read or written since the mapped pages were released
}

// releaseMappedEvery is how many bytes of records transactions read or
// write between two releases of the file's mapped pages.
const releaseMappedEvery = 8 << 20

// ReleaseMapped tells the kernel that this process no longer needs the
// pages of the database file it has read so far: they leave its resident
// memory and stay in the page cache, and the next read maps them again.
// Transactions call it after every releaseMappedEvery bytes of records:
// a full replication reads (or writes) the whole file once, and without it
// the process's resident size grew by the file's size. It runs inside a
// read transaction, so bbolt cannot remap the file meanwhile.
func (db *DB) ReleaseMapped() error {
	return db.View(func(tx *Tx) error { return releaseMapped(tx.btx) })
}

// releaseWhenTouched releases the mapped pages once enough records were
// read or written. Only advice: nothing depends on it succeeding.
func (db *DB) releaseWhenTouched() {
	if db.touched.Load() < releaseMappedEvery {
		return
	}
	db.touched.Store(0)
	db.bolt.View(releaseMapped)
}

// Open opens the database file at path, or creates it when there is no
// file. A file locked by another process fails with ErrInUse after
// opts.LockTimeout rather than hanging; a damaged file (an empty one too)
// fails with ErrDamaged, and nothing is written to it.
func Open(path string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Create(path, opts)
	}
	if err := verifyFile(path, opts); err != nil {
		return nil, err
	}
	return open(path, opts)
}

// Create makes a new database file at path, which must not exist. The file
// is built under a temporary name in the same directory and linked into
// place once complete, so a failure (a full disk) leaves nothing behind.
func Create(path string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	if err := createWith(path, opts, nil); err != nil {
		return nil, err
	}
	return open(path, opts)
}

// createWith builds a new database at path, filling it with fill (if not
// nil) before it appears under its name.
func createWith(path string, opts Options, fill func(*DB) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.new")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	db, err := open(tmp.Name(), opts)
	if err != nil {
		return err
	}
	if fill != nil {
		if err := fill(db); err != nil {
			db.Close()
			return err
		}
	}
	if err := db.bolt.Sync(); err != nil {
		db.Close()
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	// A link never replaces an existing file; where links are not
	// supported, a rename after checking is the next best.
	if err := os.Link(tmp.Name(), path); err != nil {
		if _, serr := os.Lstat(path); serr == nil || !errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("create %s: %w", path, err)
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
	}
	syncDir(filepath.Dir(path))
	return nil
}

// open opens a file that is sound (or empty, to be initialised).
func open(path string, opts Options) (*DB, error) {
	db := &DB{path: path, opts: opts, observers: map[int]func([]Change){}, resolvedObs: map[int]func([]Resolution){}}
	db.SetKeepResolved(opts.KeepResolved)
	b, err := openBolt(path, db.opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	db.bolt = b
	err = db.Update(func(tx *Tx) error {
		wrote, err := db.initialise(tx)
		if err == nil && !wrote {
			return errRollback // a complete file: leave it untouched
		}
		return err
	})
	if err != nil && !errors.Is(err, errRollback) {
		b.Close()
		return nil, fmt.Errorf("initialise %s: %w", path, err)
	}
	// Records of resolutions past their time go now; a file with none
	// (or none expired) is not written.
	if _, err := db.PurgeResolutions(); err != nil {
		b.Close()
		return nil, fmt.Errorf("initialise %s: %w", path, err)
	}
	// bbolt rebuilt its free list by walking every page of the mapping
	// (NoFreelistSync): give those pages back, or the whole file stays
	// resident in every process that opens it. Only advice: nothing
	// depends on it succeeding.
	db.ReleaseMapped()
	return db, nil
}

// loadSource reads the database's source ID, or makes one for a new file
// (or a file from before source IDs).
func loadSource(meta *bolt.Bucket) (id hlv.SourceID, made bool, err error) {
	if text := meta.Get(keySource); text != nil {
		id, err := hlv.ParseSourceID(string(text))
		if err != nil {
			return hlv.SourceID{}, false, fmt.Errorf("%w: meta: %w", ErrDamaged, err)
		}
		return id, false, nil
	}
	if id, err = hlv.NewSourceID(); err != nil {
		return hlv.SourceID{}, false, err
	}
	return id, true, meta.Put(keySource, []byte(id.String()))
}

// initialise reads meta, and makes what a new file lacks or upgrades an
// older one, all in the one transaction tx. It reports whether it wrote.
func (db *DB) initialise(tx *Tx) (wrote bool, err error) {
	btx := tx.btx
	if btx.Bucket(bucketMeta) == nil {
		wrote = true
	}
	meta, err := btx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return false, err
	}
	format, err := loadFormat(meta)
	if err != nil {
		return false, err
	}
	if id := meta.Get(keyUUID); id != nil {
		db.uuid = string(id)
	} else {
		db.uuid, wrote = uuid.NewString(), true
		if err := meta.Put(keyUUID, []byte(db.uuid)); err != nil {
			return false, err
		}
	}
	made := false
	if db.source, made, err = loadSource(meta); err != nil {
		return false, err
	}
	wrote = wrote || made
	last, err := loadClock(meta)
	if err != nil {
		return false, err
	}
	db.clock = hlv.NewClock(last, db.opts.Wall)
	if format < Format {
		// Records stay as they are (one without vectors reads as legacy):
		// only meta gains what the older format lacked.
		wrote = true
		if err := db.saveClock(btx); err != nil {
			return false, err
		}
		if err := meta.Put(keyFormat, binary.AppendUvarint(nil, Format)); err != nil {
			return false, err
		}
	}
	for _, name := range [][]byte{bucketColls, bucketLocal, bucketBlobs} {
		if btx.Bucket(name) == nil {
			wrote = true
			if _, err := btx.CreateBucket(name); err != nil {
				return false, err
			}
		}
	}
	if btx.Bucket(bucketColls).Bucket([]byte(DefaultCollection)) == nil {
		wrote = true
		if err := tx.createCollection(DefaultCollection); err != nil {
			return false, err
		}
	}
	return wrote, nil
}

// loadFormat reads the file's format: 1 when it has none. A format newer
// than this code knows is refused before anything is written.
func loadFormat(meta *bolt.Bucket) (uint64, error) {
	v := meta.Get(keyFormat)
	if v == nil {
		return 1, nil
	}
	f, n := binary.Uvarint(v)
	if n != len(v) || f == 0 {
		return 0, fmt.Errorf("%w: meta: bad format %x", ErrDamaged, v)
	}
	if f > Format {
		return 0, fmt.Errorf("%w: format %d, this version reads up to %d", ErrNewerFormat, f, Format)
	}
	return f, nil
}

// loadClock reads the newest time the database's clock issued or saw (0
// for a file from before version vectors).
func loadClock(meta *bolt.Bucket) (uint64, error) {
	v := meta.Get(keyClock)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: meta: clock is %d bytes", ErrDamaged, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// saveClock records the clock's newest time, so that after a reopen it
// never issues an earlier one, even if the wall clock stepped back.
func (db *DB) saveClock(btx *bolt.Tx) error {
	return btx.Bucket(bucketMeta).Put(keyClock, binary.BigEndian.AppendUint64(nil, db.clock.Last()))
}

// syncDir makes a rename or link in dir durable where the platform allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func openBolt(path string, timeout time.Duration) (b *bolt.DB, err error) {
	defer guard(&err)
	defer faultsPanic()()
	b, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      timeout,
		FreelistType: bolt.FreelistMapType,
		// The free list is written with each commit (boltfile checks it
		// before bbolt reads it): rebuilding it at open instead walks every
		// page of the mapping, which made each process that opened a
		// database hold the whole file in memory for a moment.
		NoFreelistSync: false,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrInUse, path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return b, nil
}

// Close closes the file. Pending transactions finish first.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.brokenErr() != nil {
		return nil
	}
	return db.bolt.Close()
}

// Path returns the file's path.
func (db *DB) Path() string { return db.path }

// UUID returns the database's stable identity, made when it was created.
func (db *DB) UUID() string { return db.uuid }

// SourceID returns the source that names this database's versions in
// version vectors, made when it was created and kept for its lifetime.
func (db *DB) SourceID() hlv.SourceID { return db.source }

// Options returns the options in force.
func (db *DB) Options() Options { return db.opts }

// Size returns the file size in bytes.
func (db *DB) Size() int64 {
	fi, err := os.Stat(db.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// InUse returns the bytes the database's pages hold in use (keys, values
// and page headers of every bucket), which, unlike Size, does not count
// the free space bbolt keeps in its file.
func (db *DB) InUse() (int64, error) {
	var n int64
	err := db.View(func(tx *Tx) error {
		return tx.btx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			st := b.Stats()
			n += int64(st.LeafInuse + st.BranchInuse + st.InlineBucketInuse)
			return nil
		})
	})
	return n, err
}

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(*Tx) error) (err error) {
	if err := db.brokenErr(); err != nil {
		return err
	}
	defer db.guard(&err)
	defer faultsPanic()()
	db.mu.RLock()
	defer db.mu.RUnlock()
	defer db.releaseWhenTouched()
	return db.bolt.View(func(btx *bolt.Tx) error { return fn(&Tx{btx: btx, db: db}) })
}

// Update runs fn in a read-write transaction and commits it if fn returns
// nil. Observers are told of the transaction's changes after the commit.
func (db *DB) Update(fn func(*Tx) error) (err error) {
	if err := db.brokenErr(); err != nil {
		return err
	}
	defer db.guard(&err)
	defer faultsPanic()()
	db.mu.RLock()
	defer db.mu.RUnlock()
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	defer db.releaseWhenTouched()
	var changes []Change
	var resolved []Resolution
	err = db.bolt.Update(func(btx *bolt.Tx) error {
		tx := &Tx{btx: btx, db: db, writable: true}
		if err := fn(tx); err != nil {
			return err
		}
		if tx.clockUsed {
			if err := db.saveClock(btx); err != nil {
				return err
			}
		}
		changes, resolved = tx.changes, tx.resolved
		return nil
	})
	if err == nil && len(changes) > 0 {
		db.notify(changes)
	}
	if err == nil && len(resolved) > 0 {
		db.notifyResolved(resolved)
	}
	return err
}

// Observe registers fn to hear of every committed change, in commit order.
// fn runs on the committing goroutine and must not block or write to db.
// The returned function unregisters it.
func (db *DB) Observe(fn func([]Change)) (cancel func()) {
	db.obsMu.Lock()
	defer db.obsMu.Unlock()
	id := db.nextObs
	db.nextObs++
	db.observers[id] = fn
	return func() {
		db.obsMu.Lock()
		defer db.obsMu.Unlock()
		delete(db.observers, id)
	}
}

func (db *DB) notify(changes []Change) {
	db.obsMu.Lock()
	defer db.obsMu.Unlock()
	for _, fn := range db.observers {
		fn(changes)
	}
}

// Check runs bbolt's consistency check over the whole file. It runs in a
// write transaction (rolled back) because bbolt's check can report false
// corruption while another transaction writes.
func (db *DB) Check() (err error) {
	if err := db.brokenErr(); err != nil {
		return err
	}
	defer db.guard(&err)
	defer faultsPanic()()
	db.mu.RLock()
	defer db.mu.RUnlock()
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	var errs []error
	err = db.bolt.Update(func(btx *bolt.Tx) error {
		for err := range btx.Check() {
			errs = append(errs, err)
		}
		return errRollback
	})
	if err != errRollback {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

var errRollback = errors.New("rollback")
