package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/store"
)

// Filter decides whether a revision replicates. body is nil for tombstones.
type Filter func(collection, docID, revID string, deleted bool, body []byte) bool

// DocEvent reports one document replicated (or failed) in one direction.
type DocEvent struct {
	Collection string
	DocID      string
	RevID      string
	Pushed     bool // true: sent to the peer (see Unacknowledged); false: received from it
	Deleted    bool
	Err        error // nil on success
}

// Options configure a session in either role. Zero values take defaults.
type Options struct {
	DB          *store.DB
	Collections []string // shared (passive) or replicated (active); default: the default collection
	Logger      *slog.Logger
	OnDocuments func([]DocEvent) // called from session goroutines; must not block for long
	EnableDelta bool             // offer and accept JSON deltas (both peers must allow it)
	// VersionVectors: the connection speaks CBMobile_4, which names
	// revisions by version vectors; false is CBMobile_3 (revision IDs).
	VersionVectors bool

	// Limits.
	BatchSize        int // changes per changes/proposeChanges message (default 200)
	MaxRevsInFlight  int // revs sent and not yet acknowledged (default 200)
	MaxBytesInFlight int // bytes of those revs (default 8 MiB)
	MaxHistory       int // ancestors sent with a rev (default 20)
	// RequestTimeout bounds how long any request waits for the peer's
	// answer (default 2 min), so a peer that keeps the connection alive
	// but never answers cannot stall the session.
	RequestTimeout time.Duration
}

// ActiveOptions configure the active peer's session: the one that dialled
// and decides what is replicated.
type ActiveOptions struct {
	Options
	Run RunConfig

	RemoteID         string // the peer's stable identity: keys remote ancestors and checkpoints
	ConflictResolver ConflictResolver
	PushFilter       Filter
	PullFilter       Filter
	DocIDs           []string
	// Unacknowledged carries revisions sent without an answer from one
	// connection of a replication to the next; nil = none.
	Unacknowledged *Unacknowledged
}

// PassiveOptions configure the passive peer's session: the one a listener
// runs for a peer that connected to it.
type PassiveOptions struct {
	Options
	ReadOnly bool // refuse every push with HTTP 403
	// SyncGatewayPeer: the peer is Sync Gateway's replicator (its handshake
	// URL says client=sgr2), which pulls over CBMobile_4 without saying
	// versioning=version-vectors.
	SyncGatewayPeer bool
}

// DefaultRequestTimeout leaves room for a rev whose blobs the peer fetches
// over a slow link before answering.
const DefaultRequestTimeout = 2 * time.Minute

func (o *Options) setDefaults() {
	if len(o.Collections) == 0 {
		o.Collections = []string{store.DefaultCollection}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 200
	}
	if o.MaxRevsInFlight <= 0 {
		o.MaxRevsInFlight = 200
	}
	if o.MaxBytesInFlight <= 0 {
		o.MaxBytesInFlight = 8 << 20
	}
	if o.MaxHistory <= 0 {
		o.MaxHistory = 20
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
}

// Stats count what a session moved.
type Stats struct {
	PushTotal, PushDone int64 // revisions offered / finished (sent, not needed or failed)
	PullTotal, PullDone int64 // revisions requested / finished (saved or failed)
	Delta               DeltaStats
}

// DeltaStats count revision bodies sent and received as deltas or in full.
type DeltaStats struct {
	SentAsDelta, SentFull         int64
	ReceivedAsDelta, ReceivedFull int64
	BodyBytesSent                 int64 // bytes of rev bodies (deltas or full) sent
	BytesSaved                    int64 // full body bytes minus delta bytes, summed over deltas sent
}

// Session is what both roles share: one replication connection's
// collections, counters and incoming revisions. An *Active or *Passive
// holds it; its role is fixed when it is made.
type Session struct {
	conn *blip.Conn
	db   *store.DB
	opts Options
	log  *slog.Logger
	// act is the active peer's configuration; nil in a passive session.
	act             *ActiveOptions
	readOnly        bool
	syncGatewayPeer bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	collMode bool     // the peer addressed collections by index (getCollections)
	colls    []string // index → collection name ("" = not shared)
	pushers  []*pusher

	recv *receiver

	runs  []*collRun // active: set once the checkpoints are read
	err   error
	state chan struct{} // something that may make the session idle happened

	pushTotal, pushDone, pullTotal, pullDone atomic.Int64
	sentDelta, sentFull, recvDelta, recvFull atomic.Int64
	bodyBytesSent, bytesSaved                atomic.Int64
}

// NewActive sets up the active peer's session on conn; start the
// connection, then call Run. Close the session before the database.
func NewActive(conn *blip.Conn, opts ActiveOptions) *Active {
	if opts.ConflictResolver == nil {
		opts.ConflictResolver = DefaultResolver
	}
	s := newSession(conn, opts.Options)
	s.act = &opts
	s.handleShared()
	return &Active{Session: s}
}

// NewPassive sets up the passive peer's session on conn, which serves
// whatever the peer asks for; start the connection afterwards. Close the
// session before the database.
func NewPassive(conn *blip.Conn, opts PassiveOptions) *Passive {
	s := newSession(conn, opts.Options)
	s.readOnly, s.syncGatewayPeer = opts.ReadOnly, opts.SyncGatewayPeer
	// Only a passive peer keeps its peers' checkpoints and serves pulls.
	conn.Handle("getCollections", s.guard(s.handleGetCollections))
	conn.Handle("getCheckpoint", s.guard(s.handleGetCheckpoint))
	conn.Handle("setCheckpoint", s.guard(s.handleSetCheckpoint))
	conn.Handle("subChanges", s.guard(s.handleSubChanges))
	conn.Handle("proposeChanges", s.guard(s.recv.handleProposeChanges))
	s.handleShared()
	return &Passive{Session: s}
}

// Passive is the session a listener runs for one connected peer.
type Passive struct{ *Session }

func newSession(conn *blip.Conn, opts Options) *Session {
	opts.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{conn: conn, db: opts.DB, opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, state: make(chan struct{}, 1)}
	s.colls = []string{store.DefaultCollection}
	if !slices.Contains(opts.Collections, store.DefaultCollection) {
		s.colls = []string{""}
	}
	s.recv = newReceiver(s)
	go func() {
		select {
		case <-conn.Done():
			s.cancel()
		case <-ctx.Done():
		}
	}()
	return s
}

// handleShared registers what a peer may send in either role: changes
// (answering a pull, or pushing to a passive peer), revisions, and blob
// requests for the revisions being pushed.
func (s *Session) handleShared() {
	s.conn.Handle("changes", s.guard(s.recv.handleChanges))
	s.conn.Handle("rev", s.guard(s.recv.handleRev))
	s.conn.Handle("norev", s.guard(s.handleNorev))
	s.conn.Handle("getAttachment", s.guard(s.handleGetAttachment))
	s.conn.Handle("proveAttachment", s.guard(s.handleProveAttachment))
	// Sync Gateway sends these; they need no action from us.
	s.conn.Handle("setHeartbeat", func(r *blip.Request) { r.Respond(nil, nil) })
}

// unacknowledged is the active replication's record of pushes not yet
// answered; nil, which records nothing, in a passive session.
func (s *Session) unacknowledged() *Unacknowledged {
	if s.act == nil {
		return nil
	}
	return s.act.Unacknowledged
}

// guard drops requests that arrive after the session closed.
func (s *Session) guard(h func(*blip.Request)) blip.Handler {
	return func(r *blip.Request) {
		if s.ctx.Err() != nil {
			r.RespondError("HTTP", 503, "session closing")
			return
		}
		h(r)
	}
}

// handleNorev answers a norev sent as a request that wants a reply (peers
// normally send it with NoReply), so such a peer is not left waiting.
func (s *Session) handleNorev(req *blip.Request) {
	if _, _, perr := s.collection(req); perr != nil {
		respondErr(req, perr)
		return
	}
	s.recv.handleNorev(req)
	req.Respond(nil, nil)
}

// Done is closed when the session's connection ends or Close is called.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Stats returns the counters so far.
func (s *Session) Stats() Stats {
	return Stats{PushTotal: s.pushTotal.Load(), PushDone: s.pushDone.Load(),
		PullTotal: s.pullTotal.Load(), PullDone: s.pullDone.Load(),
		Delta: DeltaStats{SentAsDelta: s.sentDelta.Load(), SentFull: s.sentFull.Load(),
			ReceivedAsDelta: s.recvDelta.Load(), ReceivedFull: s.recvFull.Load(),
			BodyBytesSent: s.bodyBytesSent.Load(), BytesSaved: s.bytesSaved.Load()}}
}

// Close stops the session's goroutines and waits for them. It does not
// close the connection.
func (s *Session) Close() {
	s.cancel()
	s.recv.stop()
	s.wg.Wait()
}

// request sends msg and waits for the answer at most RequestTimeout.
// Every request of the session goes through here.
func (s *Session) request(ctx context.Context, msg *blip.Message) (*blip.Message, error) {
	rctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	resp, err := s.conn.Send(rctx, msg)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = fmt.Errorf("%w: %s, after %v", ErrNoAnswer, msg.Profile(), s.opts.RequestTimeout)
	}
	return resp, err
}

func (s *Session) go_(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

func (s *Session) emit(evs ...DocEvent) {
	if s.opts.OnDocuments != nil && len(evs) > 0 {
		s.opts.OnDocuments(evs)
	}
}

// collection resolves a request's "collection" property to a collection
// name and its index.
func (s *Session) collection(req *blip.Request) (string, int, *blip.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prop, has := req.Properties["collection"]
	switch {
	case has && !s.collMode:
		return "", 0, httpError(400, "collection property without getCollections")
	case !has && s.collMode:
		return "", 0, httpError(400, "missing collection property")
	}
	idx := 0
	if has {
		n, err := strconv.Atoi(prop)
		if err != nil || n < 0 || n >= len(s.colls) {
			return "", 0, httpError(404, "no collection with index %q", prop)
		}
		idx = n
	}
	if s.colls[idx] == "" {
		return "", 0, httpError(404, "collection not shared")
	}
	return s.colls[idx], idx, nil
}

func (s *Session) shared(name string) bool { return slices.Contains(s.opts.Collections, name) }

// setCollections switches to collection-aware mode with the given names.
func (s *Session) setCollections(names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.collMode = true
	s.colls = make([]string, len(names))
	for i, n := range names {
		if s.shared(n) {
			s.colls[i] = n
		}
	}
}

// withCollection adds the "collection" property in collection-aware mode.
func (s *Session) withCollection(props blip.Properties, idx int) blip.Properties {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.collMode {
		props["collection"] = strconv.Itoa(idx)
	}
	return props
}
