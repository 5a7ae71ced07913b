package ui

import (
	"io"

	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// Engine is everything the UI asks of the sync engine. Run adapts a
// *syncengine.Engine to it; tests may pass anything that behaves the same.
type Engine interface {
	Subscribe(buffer int) *syncengine.Subscription
	DatabaseNames() ([]string, error)
	CreateDatabase(name string) error
	OpenDatabase(name string) (Database, error)
	DeleteDatabase(name string) error
	CheckDatabase(name string) (syncengine.CheckReport, error)
	SalvageDatabase(name, into string) (syncengine.SalvageReport, error)
	Identities() (Identities, error)
}

// Database is one open database.
type Database interface {
	Name() string
	Info() (syncengine.Info, error)
	Compact() (int, error)
	Collections() ([]string, error)
	Collection(name string) (Collection, error)

	// Automatic conflict resolutions, with the losing revisions kept.
	Resolutions(limit int) ([]syncengine.Resolution, error)
	Resolution(id uint64) (syncengine.Resolution, error)
	RestoreResolution(id uint64) (*syncengine.Document, error)
	DismissResolution(id uint64) error
}

// Collection is the document API the browser and conflict center use.
// *syncengine.Collection satisfies it as is.
type Collection interface {
	Name() string
	List(opts syncengine.ListOptions) ([]*syncengine.Document, error)
	Count() (int, error) // live documents
	GetWithTombstone(id string) (*syncengine.Document, error)
	Save(id string, body []byte, opts syncengine.SaveOptions) (*syncengine.Document, error)
	Delete(id, rev string) (*syncengine.Document, error)
	Conflicts() ([]string, error)
	Resolve(id, winner string, merged []byte) (*syncengine.Document, error)
	GetBlob(digest string) ([]byte, error)
	SaveBlob(data []byte, contentType string) (syncengine.BlobRef, error)
	CheckJSONLines(r io.Reader) (syncengine.LineCheck, error)
	ImportJSONLines(r io.Reader, opts syncengine.ImportOptions) (int, error)
	ExportJSONLines(w io.Writer, opts syncengine.ExportOptions) (int, error)
}

// Identities is the TLS identity store; *tlsid.Store satisfies it.
type Identities interface {
	List() ([]*tlsid.Identity, error)
	CreateSelfSigned(opts tlsid.CreateOptions) (*tlsid.Identity, error)
	ImportPEM(label string, pemData []byte) (*tlsid.Identity, error)
	ImportPKCS12(label string, data []byte, password string) (*tlsid.Identity, error)
	Delete(label string) error
}

var (
	_ Collection = (*syncengine.Collection)(nil)
	_ Identities = (*tlsid.Store)(nil)
)

// NewEngine adapts a *syncengine.Engine to Engine.
func NewEngine(e *syncengine.Engine) Engine { return engineAdapter{e} }

// engineAdapter only changes result types: the engine returns concrete
// pointers, the UI wants its own interfaces.
type engineAdapter struct{ e *syncengine.Engine }

func (a engineAdapter) Subscribe(n int) *syncengine.Subscription { return a.e.Subscribe(n) }
func (a engineAdapter) DatabaseNames() ([]string, error)         { return a.e.DatabaseNames() }
func (a engineAdapter) DeleteDatabase(name string) error         { return a.e.DeleteDatabase(name) }

func (a engineAdapter) CheckDatabase(name string) (syncengine.CheckReport, error) {
	return a.e.CheckDatabase(name, nil)
}

func (a engineAdapter) SalvageDatabase(name, into string) (syncengine.SalvageReport, error) {
	return a.e.SalvageDatabase(name, into)
}

func (a engineAdapter) CreateDatabase(name string) error {
	_, err := a.e.CreateDatabase(name)
	return err
}

func (a engineAdapter) OpenDatabase(name string) (Database, error) {
	db, err := a.e.OpenDatabase(name)
	if err != nil {
		return nil, err
	}
	return databaseAdapter{db}, nil
}

func (a engineAdapter) Identities() (Identities, error) {
	s, err := a.e.Identities()
	if err != nil {
		return nil, err
	}
	return s, nil
}

type databaseAdapter struct{ *syncengine.Database }

func (d databaseAdapter) Collection(name string) (Collection, error) {
	c, err := d.Database.Collection(name)
	if err != nil {
		return nil, err
	}
	return c, nil
}
