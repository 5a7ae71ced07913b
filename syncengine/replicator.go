package syncengine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/endpoint"
	"peersync/syncengine/repl"
	"peersync/syncengine/tlsid"
)

// Replicator defaults, as Couchbase Lite's.
const (
	DefaultMaxAttemptsOneShot = 10
	DefaultMaxAttemptWaitTime = 300 * time.Second
	DefaultHeartbeat          = 300 * time.Second
	statusInterval            = 200 * time.Millisecond // status events at most 5 per second
)

// DefaultNoProgressTimeout is how long a one-shot replication may make no
// progress before it stops with ErrNoProgress (PeerSync's own bound;
// Couchbase Lite has none).
const DefaultNoProgressTimeout = 3 * time.Minute

// ReplicatorType says which way documents flow.
type ReplicatorType int

const (
	PushAndPull ReplicatorType = iota
	Push
	Pull
)

func (t ReplicatorType) String() string {
	return [...]string{"pushAndPull", "push", "pull"}[t]
}

// ParseReplicatorType reads "push", "pull" or "pushAndPull".
func ParseReplicatorType(s string) (ReplicatorType, error) {
	for t := PushAndPull; t <= Pull; t++ {
		if strings.EqualFold(s, t.String()) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("replication type %q: use push, pull or pushAndPull", s)
}

// Activity is a replicator's state.
type Activity int

const (
	Stopped    Activity = iota
	Offline             // waiting to retry
	Connecting          // dialling and authenticating
	Idle                // caught up (continuous)
	Busy                // transferring
)

func (a Activity) String() string {
	return [...]string{"stopped", "offline", "connecting", "idle", "busy"}[a]
}

// Progress counts revisions finished out of those known so far.
type Progress struct{ Completed, Total int64 }

// ReplicatorStatus is a snapshot of a replicator.
//
// Pushed counts the revisions this replicator delivered to the peer: those
// the peer acknowledged, and those sent when a connection ended before the
// answer came that a later connection then found on the peer (proposeChanges
// answer 304), each once. Revisions the peer already had from elsewhere are
// not counted. Pulled counts the revisions received and saved.
type ReplicatorStatus struct {
	Activity    Activity
	Progress    Progress
	Pushed      int64 // revisions delivered to the peer (see above)
	Pulled      int64 // revisions received
	Delta       DeltaStats
	WireSent    int64     // bytes written to the network (BLIP frames) by this replicator
	WireRecv    int64     // bytes read from the network
	Protocol    string    // the subprotocol of the current or last connection, e.g. BLIP_3+CBMobile_4
	Error       error     // the last error; nil when fine
	Transient   bool      // whether Error will be retried
	NextAttempt time.Time // when Offline: when the next attempt starts
	// Seq grows with every change of the status, so a subscriber that
	// also reads Status can tell which of two statuses is newer: events
	// still queued may be older than a status it has just read.
	Seq uint64
}

// Replicator events.
type (
	ReplicatorStatusChanged struct {
		ID     string
		Status ReplicatorStatus
	}
	DocumentsReplicated struct {
		ReplicatorID string
		Documents    []repl.DocEvent
	}
)

func (ReplicatorStatusChanged) isEvent() {}
func (DocumentsReplicated) isEvent()     {}

// Re-exported from repl so callers need only this package.
type (
	DeltaStats       = repl.DeltaStats
	Conflict         = repl.Conflict
	Revision         = repl.Revision
	ConflictResolver = repl.ConflictResolver
	Filter           = repl.Filter
	DocEvent         = repl.DocEvent
)

// Built-in conflict resolvers.
var (
	DefaultResolver ConflictResolver = repl.DefaultResolver
	LocalWins       ConflictResolver = repl.LocalWins
	RemoteWins      ConflictResolver = repl.RemoteWins
)

// ReplicatorAuthenticator is BasicAuthenticator or ClientCertAuthenticator.
type ReplicatorAuthenticator interface{ isReplicatorAuth() }

// BasicAuthenticator sends HTTP Basic credentials with every request.
type BasicAuthenticator struct{ Username, Password string }

// ClientCertAuthenticator presents a TLS client certificate.
type ClientCertAuthenticator struct{ Identity *tlsid.Identity }

func (BasicAuthenticator) isReplicatorAuth()      {}
func (ClientCertAuthenticator) isReplicatorAuth() {}

// ReplicatorConfig configures a Replicator (the active peer).
type ReplicatorConfig struct {
	Database    *Database
	Collections []string // default: the default collection
	Target      string   // ws[s]://host:port/<db>; …/<db>/_blipsync is accepted too, and Config shows the first form
	Type        ReplicatorType
	Continuous  bool

	Authenticator ReplicatorAuthenticator
	// Server trust: by default system roots. PinnedServerCertificate accepts
	// exactly that certificate; AcceptOnlySelfSignedServerCertificate
	// accepts any self-signed one (and still validates CA-issued ones).
	PinnedServerCertificate               *x509.Certificate
	PinnedServerFingerprint               string // SHA-256 hex of the certificate, as an alternative to the certificate
	AcceptOnlySelfSignedServerCertificate bool
	Headers                               map[string]string

	DocumentIDs      []string
	PushFilter       Filter
	PullFilter       Filter
	ConflictResolver ConflictResolver // nil = DefaultResolver

	MaxAttempts        int           // 0 = 10 for one-shot, unlimited for continuous
	MaxAttemptWaitTime time.Duration // 0 = 300 s
	Heartbeat          time.Duration // 0 = 300 s
	// NoProgressTimeout stops a one-shot replication with ErrNoProgress
	// after this long without progress (0 = DefaultNoProgressTimeout).
	NoProgressTimeout time.Duration
	RequestTimeout    time.Duration // how long a request waits for the peer's answer; 0 = 2 min
	EnableDeltaSync   bool
	// Protocol chooses what is offered to the peer: ProtocolAuto (version
	// vectors, falling back to revision trees for a peer that refuses them),
	// ProtocolV4 or ProtocolV3 only.
	Protocol Protocol
}

// Protocol names a replication protocol a replicator may offer.
type Protocol string

const (
	ProtocolAuto Protocol = ""   // CBMobile_4 first, then CBMobile_3
	ProtocolV4   Protocol = "v4" // CBMobile_4 only: version vectors (Couchbase Lite 4.x)
	ProtocolV3   Protocol = "v3" // CBMobile_3 only: revision trees (Couchbase Lite 3.x)
)

// The subprotocols a connection may speak, as statuses and events name them.
const (
	SubprotocolV4 = blip.SubprotocolV4
	SubprotocolV3 = blip.Subprotocol
)

// ParseProtocol reads "auto" (or ""), "v4" or "v3".
func ParseProtocol(s string) (Protocol, error) {
	switch Protocol(s) {
	case "auto", ProtocolAuto:
		return ProtocolAuto, nil
	case ProtocolV4, ProtocolV3:
		return Protocol(s), nil
	}
	return "", fmt.Errorf("protocol %q is not one of auto, v4, v3", s)
}

// subprotocols is what p offers, in order of preference.
func (p Protocol) subprotocols() []string {
	switch p {
	case ProtocolV4:
		return []string{blip.SubprotocolV4}
	case ProtocolV3:
		return []string{blip.Subprotocol}
	}
	return blip.Subprotocols
}

// Replicator runs a replication, reconnecting with backoff on transient
// errors. Safe for concurrent use.
type Replicator struct {
	cfg      ReplicatorConfig
	engine   *Engine
	id       string
	target   *url.URL // what is dialled: …/<db>/_blipsync
	endpoint endpoint.Endpoint
	// backoffFn, when set (by tests), replaces backoff: the wait before
	// the next attempt after the n-th consecutive failure.
	backoffFn func(n int, limit time.Duration) time.Duration

	mu     sync.Mutex
	status ReplicatorStatus
	// publishMu orders status events as the statuses were set: the session
	// and the progress reporter set them from different goroutines, and a
	// stale event published last would be what subscribers keep.
	publishMu  sync.Mutex
	cancel     context.CancelFunc
	done       chan struct{}
	retryNow   chan struct{}
	serverCert *x509.Certificate
	session    *repl.Active
	lastSent   ReplicatorStatus
	pushed     int64
	pulled     int64
	deltaBase  deltaTotals // delta statistics of earlier connections
	wireBase   wireTotals  // network bytes of earlier connections

	unacked *repl.Unacknowledged // revisions sent whose answer a cut lost
}

// deltaTotals accumulates delta statistics across reconnections.
type deltaTotals struct{ DeltaStats }

// wireTotals accumulates network byte counts across reconnections.
type wireTotals struct{ sent, recv int64 }

func (d deltaTotals) add(s DeltaStats) DeltaStats {
	return DeltaStats{SentAsDelta: d.SentAsDelta + s.SentAsDelta, SentFull: d.SentFull + s.SentFull,
		ReceivedAsDelta: d.ReceivedAsDelta + s.ReceivedAsDelta, ReceivedFull: d.ReceivedFull + s.ReceivedFull,
		BodyBytesSent: d.BodyBytesSent + s.BodyBytesSent, BytesSaved: d.BytesSaved + s.BytesSaved}
}

// NewReplicator checks cfg and returns a stopped replicator.
func (e *Engine) NewReplicator(cfg ReplicatorConfig) (*Replicator, error) {
	if cfg.Database == nil {
		return nil, errors.New("replicator: no database")
	}
	ep, err := endpoint.Parse(cfg.Target)
	if err != nil {
		return nil, fmt.Errorf("replicator: target %w", err) // reads: target "…" is not …
	}
	cfg.Target = ep.String() // one spelling per peer
	u, err := url.Parse(ep.SyncURL())
	if err != nil {
		return nil, fmt.Errorf("replicator: target %q: %w", cfg.Target, err)
	}
	if _, ok := cfg.Authenticator.(ClientCertAuthenticator); ok && u.Scheme != "wss" {
		return nil, ErrTLSRequired
	}
	if cfg.MaxAttemptWaitTime <= 0 {
		cfg.MaxAttemptWaitTime = DefaultMaxAttemptWaitTime
	}
	if cfg.MaxAttempts <= 0 && !cfg.Continuous {
		cfg.MaxAttempts = DefaultMaxAttemptsOneShot
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.NoProgressTimeout <= 0 {
		cfg.NoProgressTimeout = DefaultNoProgressTimeout
	}
	if _, err := ParseProtocol(string(cfg.Protocol)); err != nil {
		return nil, fmt.Errorf("replicator: %w", err)
	}
	if cfg.PinnedServerFingerprint != "" {
		fp, err := tlsid.ParseFingerprint(cfg.PinnedServerFingerprint)
		if err != nil {
			return nil, fmt.Errorf("replicator: pinned fingerprint: %w", err)
		}
		cfg.PinnedServerFingerprint = fp
	}
	return &Replicator{cfg: cfg, engine: e, id: newID(), target: u, endpoint: ep, retryNow: make(chan struct{}, 1),
		unacked: &repl.Unacknowledged{}}, nil
}

// ID identifies the replicator in events.
func (r *Replicator) ID() string { return r.id }

// Config returns the replicator's configuration.
func (r *Replicator) Config() ReplicatorConfig { return r.cfg }

// Start begins replicating; reset discards the checkpoints and starts over.
// Starting a running replicator does nothing.
func (r *Replicator) Start(reset bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	r.status = ReplicatorStatus{Activity: Connecting}
	r.cfg.Database.addUser(r)
	r.engine.track(r)
	go r.run(ctx, reset, r.done)
}

// Stop ends the replication, saving checkpoints, and waits for it.
func (r *Replicator) Stop() {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// Wait blocks until the replicator stops by itself (a one-shot replication
// finished or failed permanently) or ctx ends, and returns its last error.
func (r *Replicator) Wait(ctx context.Context) error {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done == nil {
		return r.Status().Error
	}
	select {
	case <-done:
		return r.Status().Error
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done returns a channel closed when the running replication stops (nil
// when it is not running).
func (r *Replicator) Done() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// RetryNow skips the wait of an offline replicator.
func (r *Replicator) RetryNow() {
	select {
	case r.retryNow <- struct{}{}:
	default:
	}
}

// Status returns the current status.
func (r *Replicator) Status() ReplicatorStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// ServerCertificate returns the certificate the server presented on the
// last TLS connection, for trust on first use.
func (r *Replicator) ServerCertificate() *x509.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.serverCert
}

func (r *Replicator) snapshotEvent() Event {
	return ReplicatorStatusChanged{ID: r.id, Status: r.Status()}
}

func (r *Replicator) setStatus(fn func(*ReplicatorStatus)) {
	r.publishMu.Lock()
	defer r.publishMu.Unlock()
	r.mu.Lock()
	fn(&r.status)
	r.status.Seq++
	st := r.status
	changed := st.Activity != r.lastSent.Activity || st.Progress != r.lastSent.Progress ||
		st.Error != r.lastSent.Error || st.Pushed != r.lastSent.Pushed || st.Pulled != r.lastSent.Pulled ||
		st.Protocol != r.lastSent.Protocol
	r.lastSent = st
	r.mu.Unlock()
	if changed {
		r.engine.publish(ReplicatorStatusChanged{ID: r.id, Status: st})
	}
}

func (r *Replicator) run(ctx context.Context, reset bool, done chan struct{}) {
	defer func() {
		r.cfg.Database.removeUser(r)
		r.engine.untrack(r)
		r.mu.Lock()
		r.cancel, r.done = nil, nil
		r.mu.Unlock()
		close(done)
	}()
	failures := 0
	for {
		r.setStatus(func(s *ReplicatorStatus) { s.Activity = Connecting })
		connected, err := r.attempt(ctx, reset)
		if ctx.Err() != nil {
			r.setStatus(func(s *ReplicatorStatus) { s.Activity = Stopped })
			return
		}
		if err == nil {
			r.setStatus(func(s *ReplicatorStatus) { s.Activity, s.Error = Stopped, nil })
			return
		}
		if connected {
			failures, reset = 0, false
		}
		failures++
		transient := IsTransient(err)
		r.engine.log.Warn("replication error", "replicator", r.id, "target", r.cfg.Target, "error", err.Error(), "transient", transient)
		if !transient || (r.cfg.MaxAttempts > 0 && failures >= r.cfg.MaxAttempts) {
			r.setStatus(func(s *ReplicatorStatus) { s.Activity, s.Error, s.Transient = Stopped, err, false })
			return
		}
		delay := backoff
		if r.backoffFn != nil {
			delay = r.backoffFn
		}
		wait := delay(failures, r.cfg.MaxAttemptWaitTime)
		next := time.Now().Add(wait)
		r.setStatus(func(s *ReplicatorStatus) { s.Activity, s.Error, s.Transient, s.NextAttempt = Offline, err, true, next })
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			r.setStatus(func(s *ReplicatorStatus) { s.Activity = Stopped })
			return
		case <-timer.C:
		case <-r.retryNow:
			timer.Stop()
		}
	}
}

// backoff is 2^n seconds after the n-th failure, capped, with up to 10%
// jitter so many replicators do not retry in step.
func backoff(n int, limit time.Duration) time.Duration {
	d := limit
	if n < 30 {
		d = min(time.Duration(1<<n)*time.Second, limit)
	}
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// attempt connects once and replicates until done or failed. It reports
// whether the connection was established.
func (r *Replicator) attempt(ctx context.Context, reset bool) (bool, error) {
	tc, err := r.tlsConfig()
	if err != nil {
		return false, err
	}
	header := http.Header{}
	for k, v := range r.cfg.Headers {
		header.Set(k, v)
	}
	if b, ok := r.cfg.Authenticator.(BasicAuthenticator); ok {
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(b.Username+":"+b.Password)))
	}
	_, clientCert := r.cfg.Authenticator.(ClientCertAuthenticator)
	remoteID, err := r.remoteIdentity(ctx, tc, header)
	if err != nil {
		return false, asTLSAlert(err, clientCert)
	}
	idle := r.cfg.Heartbeat + max(r.cfg.Heartbeat/2, 5*time.Second)
	dial := func(subprotocols []string) (*blip.Conn, error) {
		return blip.Dial(ctx, r.target.String(), blip.DialOptions{Header: header, TLSConfig: tc, Subprotocols: subprotocols,
			HandshakeTimeout: 30 * time.Second, Conn: blip.Options{PingInterval: r.cfg.Heartbeat, IdleTimeout: idle, Logger: r.engine.log, MaxInFlight: replMaxInFlight}})
	}
	conn, err := dial(r.cfg.Protocol.subprotocols())
	if err != nil && r.cfg.Protocol == ProtocolAuto && refusedSubprotocols(err) {
		r.engine.log.Info("replicator: peer refused "+blip.SubprotocolV4+"; trying "+blip.Subprotocol, "target", r.cfg.Target, "err", err)
		conn, err = dial([]string{blip.Subprotocol})
	}
	if err != nil {
		return false, asTLSAlert(err, clientCert)
	}
	v4 := conn.Subprotocol() == blip.SubprotocolV4
	r.engine.log.Info("replicator: connected", "target", r.cfg.Target, "protocol", conn.Subprotocol())
	r.setStatus(func(s *ReplicatorStatus) { s.Protocol = conn.Subprotocol() })
	sess := repl.NewActive(conn, repl.ActiveOptions{
		Options: repl.Options{DB: r.cfg.Database.Store(), Collections: r.cfg.Collections, Logger: r.engine.log,
			OnDocuments: r.onDocuments, EnableDelta: r.cfg.EnableDeltaSync, RequestTimeout: r.cfg.RequestTimeout,
			VersionVectors: v4},
		Run: repl.RunConfig{Push: r.cfg.Type != Pull, Pull: r.cfg.Type != Push,
			Continuous: r.cfg.Continuous, Reset: reset, NoProgressTimeout: r.cfg.NoProgressTimeout},
		RemoteID: remoteID, ConflictResolver: r.cfg.ConflictResolver, PushFilter: r.cfg.PushFilter,
		PullFilter: r.cfg.PullFilter, DocIDs: r.cfg.DocumentIDs, Unacknowledged: r.unacked,
	})
	defer func() {
		conn.Close() // first: it waits for running handlers, which use the session
		sess.Close()
	}()
	r.mu.Lock()
	r.session = sess
	r.mu.Unlock()
	conn.Start()
	stopReports := r.reportProgress(sess, conn)
	defer stopReports()
	err = sess.Run(ctx)
	return true, err
}

// refusedSubprotocols tells whether a failed handshake may have failed
// for what was offered, so offering CBMobile_3 alone may succeed: the peer
// answered without a subprotocol, or refused with a status that is not
// about authentication, the path or load.
func refusedSubprotocols(err error) bool {
	var he *blip.HTTPError
	if errors.As(err, &he) {
		switch he.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
			http.StatusTooManyRequests, http.StatusServiceUnavailable:
			return false
		}
		return he.StatusCode >= 400
	}
	return errors.Is(err, blip.ErrNoSubprotocol)
}

// reportProgress publishes coalesced status while a session runs.
func (r *Replicator) reportProgress(sess *repl.Active, conn *blip.Conn) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	update := func() {
		st := sess.Stats()
		activity := Busy
		if sess.Idle() {
			activity = Idle
		}
		r.setStatus(func(s *ReplicatorStatus) {
			s.Activity = activity
			s.Error = nil
			s.Progress = Progress{Completed: st.PushDone + st.PullDone, Total: st.PushTotal + st.PullTotal}
			s.Pushed, s.Pulled = r.pushed, r.pulled
			s.Delta = r.deltaBase.add(st.Delta)
			cs := conn.Stats()
			s.WireSent, s.WireRecv = r.wireBase.sent+cs.BytesSentWire, r.wireBase.recv+cs.BytesReceivedWire
		})
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(statusInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				update()
			case <-done:
				update()
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		r.mu.Lock()
		r.deltaBase = deltaTotals{r.deltaBase.add(sess.Stats().Delta)}
		cs := conn.Stats()
		r.wireBase.sent += cs.BytesSentWire
		r.wireBase.recv += cs.BytesReceivedWire
		r.mu.Unlock()
	}
}

func (r *Replicator) onDocuments(evs []repl.DocEvent) {
	r.mu.Lock()
	for _, e := range evs {
		if e.Err == nil {
			if e.Pushed {
				r.pushed++
			} else {
				r.pulled++
			}
		}
	}
	r.mu.Unlock()
	r.engine.publish(DocumentsReplicated{ReplicatorID: r.id, Documents: slices.Clone(evs)})
}

// remoteIdentity asks the target for its database's stable identity (GET
// on the database URL): a PeerSync listener's UUID, or Sync Gateway's
// server UUID and database name. Peers that do not answer are known by URL.
func (r *Replicator) remoteIdentity(ctx context.Context, tc *tls.Config, header http.Header) (string, error) {
	u, err := url.Parse(r.endpoint.DatabaseURL())
	if err != nil {
		return "", err
	}
	byURL := u.Host + u.Path
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	req.Header = header.Clone()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	r.noteServerCert(resp.TLS)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", &blip.HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(msg))}
	default:
		return byURL, nil
	}
	var info struct {
		UUID       string `json:"uuid"`
		ServerUUID string `json:"server_uuid"`
		DBName     string `json:"db_name"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&info)
	switch {
	case info.UUID != "":
		return info.UUID, nil
	case info.ServerUUID != "":
		return info.ServerUUID + "/" + info.DBName, nil
	}
	return byURL, nil
}

func (r *Replicator) noteServerCert(cs *tls.ConnectionState) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return
	}
	r.mu.Lock()
	r.serverCert = cs.PeerCertificates[0]
	r.mu.Unlock()
}

// PendingDocumentIDs lists documents not yet pushed, per the push
// checkpoint of the last connection (everything, before the first).
func (r *Replicator) PendingDocumentIDs() ([]string, error) {
	if r.cfg.Type == Pull {
		return nil, errors.New("a pull replicator pushes nothing")
	}
	r.mu.Lock()
	sess := r.session
	r.mu.Unlock()
	coll := DefaultCollection
	if len(r.cfg.Collections) > 0 {
		coll = r.cfg.Collections[0]
	}
	var since uint64
	if sess != nil {
		since = sess.PushCheckpoint(coll)
	}
	return repl.PendingDocumentIDs(r.cfg.Database.Store(), coll, since, r.cfg.DocumentIDs, r.cfg.PushFilter)
}

// IsDocumentPending reports whether a document still has to be pushed.
func (r *Replicator) IsDocumentPending(id string) (bool, error) {
	ids, err := r.PendingDocumentIDs()
	return slices.Contains(ids, id), err
}
