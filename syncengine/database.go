package syncengine

import (
	"errors"
	"fmt"
	"sync"

	"peersync/syncengine/store"
)

// Document is a stored document. Body is the winning revision's JSON.
type Document = store.Document

// Change is one change-feed entry.
type Change = store.Change

// ListOptions page through a collection in ID order.
type ListOptions = store.ListOptions

// BlobRef is a blob reference as it appears in a document body.
type BlobRef = store.BlobRef

// DefaultCollection always exists in every database.
const DefaultCollection = store.DefaultCollection

// Database is an open database. Safe for concurrent use.
type Database struct {
	engine        *Engine
	name          string
	store         *store.DB
	stopObserving func()

	closeOnce sync.Once
	closeErr  error
	usersMu   sync.Mutex
	users     []component // listeners and replicators using this database
}

// Name returns the database name.
func (db *Database) Name() string { return db.name }

// UUID returns the database's stable identity.
func (db *Database) UUID() string { return db.store.UUID() }

// Store returns the underlying store, for the replication layer.
func (db *Database) Store() *store.DB { return db.store }

// Info describes a database.
type Info struct {
	Name          string
	UUID          string
	Path          string
	Size          int64
	DocumentCount int // live documents across all collections
	Collections   []string
}

// Info returns counts and sizes.
func (db *Database) Info() (Info, error) {
	info := Info{Name: db.name, UUID: db.UUID(), Path: db.store.Path(), Size: db.store.Size()}
	err := db.store.View(func(tx *store.Tx) error {
		info.Collections = tx.Collections()
		for _, c := range info.Collections {
			n, err := tx.Count(c)
			if err != nil {
				return err
			}
			info.DocumentCount += n
		}
		return nil
	})
	return info, err
}

// Compact removes unreferenced blobs and rewrites the file; it returns the
// number of blobs removed.
func (db *Database) Compact() (int, error) { return db.store.Compact() }

// Close stops the listeners and replicators on this database and closes it.
func (db *Database) Close() error {
	return db.closeFor(fmt.Errorf("database %q was closed", db.name))
}

// closeFor closes the database; the listeners it stops say reason.
func (db *Database) closeFor(reason error) error {
	db.closeOnce.Do(func() {
		db.usersMu.Lock()
		users := db.users
		db.users = nil
		db.usersMu.Unlock()
		for _, u := range users {
			if l, ok := u.(*Listener); ok {
				l.stopFor(reason)
			} else {
				u.Stop()
			}
		}
		db.stopObserving()
		db.closeErr = db.store.Close()
		e := db.engine
		e.mu.Lock()
		if e.dbs[db.name] == db {
			delete(e.dbs, db.name)
		}
		e.mu.Unlock()
	})
	return db.closeErr
}

func (db *Database) addUser(c component) {
	db.usersMu.Lock()
	db.users = append(db.users, c)
	db.usersMu.Unlock()
}

func (db *Database) removeUser(c component) {
	db.usersMu.Lock()
	defer db.usersMu.Unlock()
	for i, u := range db.users {
		if u == c {
			db.users = append(db.users[:i], db.users[i+1:]...)
			return
		}
	}
}

// Collections lists collection names.
func (db *Database) Collections() ([]string, error) {
	var names []string
	err := db.store.View(func(tx *store.Tx) error { names = tx.Collections(); return nil })
	return names, err
}

// CreateCollection adds a collection named "scope.collection".
func (db *Database) CreateCollection(name string) (*Collection, error) {
	err := db.store.Update(func(tx *store.Tx) error { return tx.CreateCollection(name) })
	if err != nil {
		return nil, err
	}
	return &Collection{db: db, name: name}, nil
}

// DeleteCollection removes a collection and its documents.
func (db *Database) DeleteCollection(name string) error {
	return db.store.Update(func(tx *store.Tx) error { return tx.DeleteCollection(name) })
}

// Collection returns an existing collection.
func (db *Database) Collection(name string) (*Collection, error) {
	if name == "" {
		name = DefaultCollection
	}
	err := db.store.View(func(tx *store.Tx) error {
		_, err := tx.LastSequence(name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Collection{db: db, name: name}, nil
}

// DefaultCollection returns "_default._default".
func (db *Database) DefaultCollection() *Collection {
	return &Collection{db: db, name: DefaultCollection}
}

// Batch runs fn with a batch whose writes commit together, or not at all
// when fn returns an error.
func (db *Database) Batch(fn func(*Batch) error) error {
	return db.store.Update(func(tx *store.Tx) error { return fn(&Batch{tx: tx}) })
}

// Batch is a set of writes in one transaction.
type Batch struct{ tx *store.Tx }

// Save writes a new revision in the batch.
func (b *Batch) Save(c *Collection, id string, body []byte, opts SaveOptions) (*Document, error) {
	return b.tx.Put(c.name, id, body, store.PutOptions(opts))
}

// Delete writes a tombstone in the batch.
func (b *Batch) Delete(c *Collection, id, rev string) (*Document, error) {
	return b.tx.Put(c.name, id, nil, store.PutOptions{ParentRev: rev, Deleted: true})
}

// SaveBlob stores blob bytes in the batch.
func (b *Batch) SaveBlob(data []byte, contentType string) (BlobRef, error) {
	d, err := b.tx.PutBlob(data)
	return BlobRef{Digest: d, Length: int64(len(data)), ContentType: contentType}, err
}

// SaveOptions qualify a save: the revision the edit is based on ("" for a
// new document); LastWriteWins saves over whatever is current instead of
// failing with ErrConflict.
type SaveOptions struct {
	ParentRev     string
	LastWriteWins bool
	Deleted       bool
}

// Collection is a named set of documents in a database.
type Collection struct {
	db   *Database
	name string
}

// Name returns "scope.collection".
func (c *Collection) Name() string { return c.name }

// Database returns the collection's database.
func (c *Collection) Database() *Database { return c.db }

// Save writes a new revision of a document.
func (c *Collection) Save(id string, body []byte, opts SaveOptions) (*Document, error) {
	var d *Document
	err := c.db.Batch(func(b *Batch) (err error) {
		d, err = b.Save(c, id, body, opts)
		return err
	})
	return d, err
}

// Get returns a live document; a deleted one is ErrNotFound.
func (c *Collection) Get(id string) (*Document, error) {
	d, err := c.GetWithTombstone(id)
	if err == nil && d.Deleted {
		return nil, fmt.Errorf("document %q is deleted: %w", id, ErrNotFound)
	}
	return d, err
}

// GetWithTombstone returns a document even when its winner is a tombstone.
func (c *Collection) GetWithTombstone(id string) (*Document, error) {
	var d *Document
	err := c.db.store.View(func(tx *store.Tx) (err error) {
		d, err = tx.Get(c.name, id)
		return err
	})
	return d, err
}

// GetRevision returns the body of a given revision, if still kept.
func (c *Collection) GetRevision(id, rev string) ([]byte, bool, error) {
	var body []byte
	var deleted bool
	err := c.db.store.View(func(tx *store.Tx) error {
		r, err := tx.GetRevision(c.name, id, rev)
		if err != nil {
			return err
		}
		if r.Body == nil {
			return fmt.Errorf("document %q revision %s: body no longer kept: %w", id, rev, ErrNotFound)
		}
		body, deleted = r.Body, r.Deleted
		return nil
	})
	return body, deleted, err
}

// Delete deletes a document by writing a tombstone on top of rev ("" means
// whatever is current).
func (c *Collection) Delete(id, rev string) (*Document, error) {
	return c.Save(id, nil, SaveOptions{ParentRev: rev, LastWriteWins: rev == "", Deleted: true})
}

// Purge removes a document and its history; purges do not replicate.
func (c *Collection) Purge(id string) error {
	return c.db.store.Update(func(tx *store.Tx) error { return tx.Purge(c.name, id) })
}

// List pages through documents in ID order.
func (c *Collection) List(opts ListOptions) ([]*Document, error) {
	var docs []*Document
	err := c.db.store.View(func(tx *store.Tx) (err error) {
		docs, err = tx.List(c.name, opts)
		return err
	})
	return docs, err
}

// Count returns the number of live documents.
func (c *Collection) Count() (int, error) {
	var n int
	err := c.db.store.View(func(tx *store.Tx) (err error) {
		n, err = tx.Count(c.name)
		return err
	})
	return n, err
}

// ChangesSince returns change-feed entries after seq (limit ≤ 0 = all).
func (c *Collection) ChangesSince(seq uint64, limit int) ([]Change, error) {
	var cs []Change
	err := c.db.store.View(func(tx *store.Tx) (err error) {
		cs, err = tx.ChangesSince(c.name, seq, limit)
		return err
	})
	return cs, err
}

// Conflicts returns the IDs of documents in conflict.
func (c *Collection) Conflicts() ([]string, error) {
	var ids []string
	err := c.db.store.View(func(tx *store.Tx) (err error) {
		ids, err = tx.ConflictedIDs(c.name)
		return err
	})
	return ids, err
}

// Resolve settles a conflict in favour of the leaf winner, optionally
// saving merged as the new body; losing branches get tombstones.
func (c *Collection) Resolve(id, winner string, merged []byte) (*Document, error) {
	var d *Document
	err := c.db.store.Update(func(tx *store.Tx) (err error) {
		d, err = tx.Resolve(c.name, id, winner, merged, false)
		return err
	})
	return d, err
}

// SaveBlob stores bytes and returns the reference to put in a body.
func (c *Collection) SaveBlob(data []byte, contentType string) (BlobRef, error) {
	var ref BlobRef
	err := c.db.Batch(func(b *Batch) (err error) {
		ref, err = b.SaveBlob(data, contentType)
		return err
	})
	return ref, err
}

// GetBlob returns a blob's bytes.
func (c *Collection) GetBlob(digest string) ([]byte, error) {
	var data []byte
	err := c.db.store.View(func(tx *store.Tx) (err error) {
		data, err = tx.GetBlob(digest)
		return err
	})
	return data, err
}

// IsNotFound reports whether err means something does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrDatabaseNotFound)
}

// BlobDigestOf returns the digest a blob with these bytes is stored under.
func BlobDigestOf(data []byte) string { return store.BlobDigest(data) }

// Engine returns the engine the database belongs to.
func (db *Database) Engine() *Engine { return db.engine }

// Validate reports whether Save would accept id and body (the ID, the body
// and the blobs it references) without writing anything.
func (c *Collection) Validate(id string, body []byte) error {
	return c.db.store.View(func(tx *store.Tx) error { return tx.CheckPut(id, body) })
}
