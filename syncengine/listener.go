package syncengine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/endpoint"
	"peersync/syncengine/repl"
	"peersync/syncengine/tlsid"
)

// Listener defaults.
const (
	// replMaxInFlight lets a session keep its 200 revs, a few change
	// batches and blob requests outstanding at once.
	replMaxInFlight = 400

	DefaultMaxConnections   = 100
	DefaultHandshakeTimeout = 10 * time.Second
	// Unfinished handshakes at once, and from one address (see admission.go).
	DefaultMaxHandshakes           = 128
	DefaultMaxHandshakesPerAddress = 32
	// DefaultStartTimeout closes a session that sent no request this long
	// after it was upgraded; replicators send theirs at once.
	DefaultStartTimeout = 30 * time.Second
	// DefaultIdleTimeout closes a connection that sent nothing, not even a
	// heartbeat ping, for this long; replicators ping every 5 minutes.
	DefaultIdleTimeout = 15 * time.Minute
	// Memory incoming messages may hold: all connections of a listener
	// together (beyond 256 KiB each), and one connection. Joining a big
	// message's chunks takes twice its size, so a listener takes messages
	// up to about 22 MiB (revision bodies are at most 20 MiB). The Go heap
	// can run to twice what is live; 48 MiB keeps a listener under attack
	// well under 128 MB (docs/benchmarks.md).
	DefaultMaxInboundMemory    = 48 << 20
	DefaultMaxConnectionMemory = 44 << 20
)

// ListenerConfig configures a Listener (Couchbase Lite's URLEndpointListener).
type ListenerConfig struct {
	Database         *Database
	Collections      []string // shared collections; default: the default collection
	Port             int      // 0 picks a free port
	NetworkInterface string   // interface name (eth0) or IP address; "" = all
	DisableTLS       bool     // plain ws://; TLS is on by default
	TLSIdentity      *tlsid.Identity
	Authenticator    ListenerAuthenticator // nil = no authentication
	ReadOnly         bool                  // refuse pushes with HTTP 403
	EnableDeltaSync  bool
	MaxConnections   int           // replication sessions at once; only authenticated, upgraded ones count (default 100)
	HandshakeTimeout time.Duration // from accept to an upgraded session: TLS, HTTP request, authentication (default 10 s)
	// Connections in handshake at once (default 128), and from one address
	// (default 32); a new one over either closes the oldest.
	MaxHandshakes           int
	MaxHandshakesPerAddress int
	StartTimeout            time.Duration // a session must send its first request within this (default 30 s)
	IdleTimeout             time.Duration // close a connection silent this long (default 15 min)
	MaxInboundMemory        int           // bytes all connections' incoming messages may hold together (default 48 MiB)
	MaxConnectionMemory     int           // bytes one connection's incoming messages may hold (default 44 MiB)
	// KnownUser, when set, lets refusal reports tell an unknown user from a wrong password.
	KnownUser func(username string) bool
}

// ListenerAuthenticator is PasswordAuthenticator or CertificateAuthenticator.
type ListenerAuthenticator interface{ isListenerAuth() }

// PasswordAuthenticator checks HTTP Basic credentials.
type PasswordAuthenticator func(username, password string) bool

// CertificateAuthenticator requires a TLS client certificate: one that
// chains to Roots, or that Verify accepts.
type CertificateAuthenticator struct {
	Roots  *x509.CertPool
	Verify func(chain []*x509.Certificate) bool
}

func (PasswordAuthenticator) isListenerAuth()    {}
func (CertificateAuthenticator) isListenerAuth() {}

// ErrTLSRequired rejects client-certificate authentication without TLS.
var ErrTLSRequired = errors.New("client certificate authentication requires TLS")

// ListenerStatus counts connections.
type ListenerStatus struct {
	ConnectionCount       int // open replication connections
	ActiveConnectionCount int // those transferring documents right now
	// Protocols counts the open connections by negotiated subprotocol.
	Protocols map[string]int
}

// ListenerStarted and ListenerStopped report a listener's lifetime;
// ConnectionOpened and ConnectionClosed its peers.
type (
	ListenerStarted struct {
		ID       string
		Database string
		URLs     []string
	}
	ListenerStopped struct {
		ID       string
		Database string
		Err      error
	}
	ConnectionOpened struct {
		ListenerID string
		Remote     string
		User       string
		Protocol   string // the negotiated subprotocol, e.g. BLIP_3+CBMobile_4
	}
	ConnectionClosed struct {
		ListenerID string
		Remote     string
		Err        error
	}
)

func (ListenerStarted) isEvent()  {}
func (ListenerStopped) isEvent()  {}
func (ConnectionOpened) isEvent() {}
func (ConnectionClosed) isEvent() {}

// Listener is the passive peer: it accepts replication connections to one
// database.
type Listener struct {
	cfg    ListenerConfig
	engine *Engine
	id     string

	// lifecycle serializes Start and Stop as wholes, so their events go
	// out in order although they are published after mu is released.
	lifecycle sync.Mutex

	mu       sync.Mutex
	ln       net.Listener
	srv      *http.Server
	identity *tlsid.Identity
	sessions map[*blip.Conn]*repl.Passive
	adm      *admission
	inbound  *blip.MemoryBudget // shared by all connections
	failures *failureLimiter
	wg       sync.WaitGroup
	running  bool
	stopErr  error // why it stopped without Stop (its database went away)
}

// NewListener checks cfg and returns a stopped listener.
func (e *Engine) NewListener(cfg ListenerConfig) (*Listener, error) {
	if cfg.Database == nil {
		return nil, errors.New("listener: no database")
	}
	if _, ok := cfg.Authenticator.(CertificateAuthenticator); ok && cfg.DisableTLS {
		return nil, ErrTLSRequired
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("listener: port %d out of range", cfg.Port)
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	setDefault(&cfg.MaxHandshakes, DefaultMaxHandshakes)
	setDefault(&cfg.MaxHandshakesPerAddress, min(DefaultMaxHandshakesPerAddress, cfg.MaxHandshakes))
	setDefault(&cfg.StartTimeout, DefaultStartTimeout)
	setDefault(&cfg.MaxInboundMemory, DefaultMaxInboundMemory)
	setDefault(&cfg.MaxConnectionMemory, DefaultMaxConnectionMemory)
	return &Listener{cfg: cfg, engine: e, id: newID(), failures: newFailureLimiter(),
		adm: newAdmission(cfg), inbound: blip.NewMemoryBudget(int64(cfg.MaxInboundMemory))}, nil
}

// ID identifies the listener in events.
func (l *Listener) ID() string { return l.id }

// Config returns the listener's configuration.
func (l *Listener) Config() ListenerConfig { return l.cfg }

// Start binds the port and serves until Stop.
func (l *Listener) Start() error {
	l.lifecycle.Lock()
	defer l.lifecycle.Unlock()
	// Publish after mu is released (deferred calls run last first): see
	// the lock order in events.go.
	var started *ListenerStarted
	var port int
	defer func() {
		if started != nil {
			l.engine.publish(*started)
			l.engine.log.Info("listener started", "database", started.Database, "port", port, "tls", !l.cfg.DisableTLS)
		}
	}()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running {
		return nil
	}
	host, err := bindHost(l.cfg.NetworkInterface)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(l.cfg.Port)))
	if err != nil {
		return fmt.Errorf("listener: %w", err)
	}
	ln = l.adm.listener(blip.BatchingListener(ln))
	if !l.cfg.DisableTLS {
		tc, id, err := l.tlsConfig(net.ParseIP(host))
		if err != nil {
			ln.Close()
			return err
		}
		l.identity = id
		ln = tls.NewListener(refusalListener{ln}, tc)
	}
	l.ln = ln
	l.sessions = map[*blip.Conn]*repl.Passive{}
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serveHTTP),
		ReadHeaderTimeout: l.cfg.HandshakeTimeout,
		ConnContext:       l.adm.connContext,
		// TLS handshake failures become refusal reports; the rest stays at debug level.
		ErrorLog: log.New(tlsErrorLog{l}, "", 0),
	}
	l.running, l.stopErr = true, nil
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.srv.Serve(ln)
	}()
	l.cfg.Database.addUser(l)
	l.engine.track(l)
	started = &ListenerStarted{ID: l.id, Database: l.cfg.Database.Name(), URLs: l.urlsLocked()}
	port = l.portLocked()
	return nil
}

// tlsConfig builds the server TLS settings. The anonymous identity is
// (re-)issued to name what a listener bound to bound serves, so clients
// that trust it as a root can verify the host they dialled.
func (l *Listener) tlsConfig(bound net.IP) (*tls.Config, *tlsid.Identity, error) {
	id := l.cfg.TLSIdentity
	if id == nil {
		ids, err := l.engine.Identities()
		if err != nil {
			return nil, nil, err
		}
		if id, err = ids.GetOrCreateAnonymousFor(anonymousLabel, tlsid.ServedNames(bound)); err != nil {
			return nil, nil, fmt.Errorf("listener: anonymous identity: %w", err)
		}
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{id.TLSCertificate()}}
	if ca, ok := l.cfg.Authenticator.(CertificateAuthenticator); ok {
		// crypto/tls checks the chain inside the handshake and names what
		// is wrong in its alert (certificate required, unknown CA, expired).
		tc.ClientAuth, tc.ClientCAs = tls.RequireAndVerifyClientCert, ca.Roots
		if ca.Verify != nil {
			tc.ClientAuth, tc.ClientCAs = tls.RequireAnyClientCert, nil
			tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
				return verifyClientCert(ca, raw)
			}
		}
	}
	return markSuccessfulHandshakes(tc), id, nil
}

// verifyClientCert asks ca.Verify about a client's chain; a refusal ends
// the handshake with a bad_certificate alert.
func verifyClientCert(ca CertificateAuthenticator, raw [][]byte) error {
	chain := make([]*x509.Certificate, 0, len(raw))
	for _, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return err
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return errors.New("no client certificate")
	}
	if ca.Verify(chain) {
		return nil
	}
	return errors.New("client certificate rejected")
}

// bindHost turns the NetworkInterface setting into a host to bind.
func bindHost(iface string) (string, error) {
	if iface == "" {
		return "", nil
	}
	if ip := net.ParseIP(iface); ip != nil {
		return ip.String(), nil
	}
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return "", fmt.Errorf("listener: no network interface %q", iface)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() {
			return ipn.IP.String(), nil
		}
	}
	return "", fmt.Errorf("listener: interface %q has no usable address", iface)
}

// Port returns the bound port (0 when stopped).
func (l *Listener) Port() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.portLocked()
}

func (l *Listener) portLocked() int {
	if l.ln == nil {
		return 0
	}
	return l.ln.Addr().(*net.TCPAddr).Port
}

// URLs returns a replication URL, ws[s]://host:port/<db> as Couchbase
// Lite's listener reports it, for each usable address the listener is
// reachable on (IPv6 link-local addresses are left out). Replicators dial
// it with /_blipsync added.
func (l *Listener) URLs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.urlsLocked()
}

func (l *Listener) urlsLocked() []string {
	if l.ln == nil {
		return nil
	}
	bound := l.ln.Addr().(*net.TCPAddr).IP
	var ips []net.IP
	if !bound.IsUnspecified() {
		ips = []net.IP{bound}
	} else if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() && !ipn.IP.IsMulticast() {
				ips = append(ips, ipn.IP)
			}
		}
	}
	urls := make([]string, 0, len(ips))
	for _, ip := range ips {
		urls = append(urls, endpoint.URL(!l.cfg.DisableTLS, ip.String(), l.portLocked(), l.cfg.Database.Name()))
	}
	return urls
}

// TLSIdentity returns the identity in use, nil when TLS is off or stopped.
func (l *Listener) TLSIdentity() *tlsid.Identity {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.running {
		return nil
	}
	return l.identity
}

// Status returns connection counts.
func (l *Listener) Status() ListenerStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := ListenerStatus{ConnectionCount: len(l.sessions), Protocols: map[string]int{}}
	for c, s := range l.sessions {
		st.Protocols[c.Subprotocol()]++
		if !s.Idle() {
			st.ActiveConnectionCount++
		}
	}
	return st
}

// Running reports whether the listener is serving.
func (l *Listener) Running() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running
}

// Err says why the listener stopped when it was not asked to (its database
// was closed or deleted); nil while it runs or after Stop.
func (l *Listener) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopErr
}

// Stop closes every connection with close code 4001 (application
// transient: Couchbase Lite and PeerSync replicators reconnect after it,
// while they treat 1001 "going away" as the end) and waits for them to end.
func (l *Listener) Stop() { l.stopFor(nil) }

// stopFor stops the listener, saying why when it was not asked to.
func (l *Listener) stopFor(reason error) {
	l.lifecycle.Lock()
	defer l.lifecycle.Unlock()
	l.mu.Lock()
	if !l.running {
		l.mu.Unlock()
		return
	}
	l.running, l.stopErr = false, reason
	l.ln.Close()
	conns := make([]*blip.Conn, 0, len(l.sessions))
	for c := range l.sessions {
		conns = append(conns, c)
	}
	srv := l.srv
	l.mu.Unlock()
	l.adm.closeHandshakes()
	for _, c := range conns {
		c.CloseWithCode(blip.CloseAppTransient, "listener stopped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(ctx)
	cancel()
	l.wg.Wait()
	l.mu.Lock()
	l.ln = nil
	l.mu.Unlock()
	l.cfg.Database.removeUser(l)
	l.engine.untrack(l)
	l.engine.publish(ListenerStopped{ID: l.id, Database: l.cfg.Database.Name(), Err: reason})
	if reason != nil {
		l.engine.log.Warn("listener stopped", "database", l.cfg.Database.Name(), "reason", reason.Error())
	} else {
		l.engine.log.Info("listener stopped", "database", l.cfg.Database.Name())
	}
}

func (l *Listener) snapshotEvent() Event {
	return ListenerStarted{ID: l.id, Database: l.cfg.Database.Name(), URLs: l.URLs()}
}

// serveHTTP answers GET /<db>/ with a description and upgrades
// /<db>/_blipsync to a replication session.
func (l *Listener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.URL.Path, "/")
	dbName, rest, _ := strings.Cut(path, "/")
	if dbName != l.cfg.Database.Name() {
		l.refuse(r.RemoteAddr, "", RefusedUnknownDatabase, "asked for "+strconv.Quote(dbName))
		http.Error(w, fmt.Sprintf("no database %q here", dbName), http.StatusNotFound)
		return
	}
	user, ok := l.authenticate(w, r)
	if !ok {
		return
	}
	switch {
	case rest == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"db_name": dbName, "uuid": l.cfg.Database.UUID(), "server": "PeerSync"})
	case rest == "_blipsync":
		l.serveBLIP(w, r, user)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

func (l *Listener) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	pw, ok := l.cfg.Authenticator.(PasswordAuthenticator)
	if !ok || pw == nil {
		return "", true // none, or the TLS handshake already checked the client certificate
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if l.failures.blocked(host) {
		l.refuse(r.RemoteAddr, "", RefusedRateLimited, "too many failed logins")
		http.Error(w, "too many failed logins; try again later", http.StatusTooManyRequests)
		return "", false
	}
	user, pass, has := r.BasicAuth()
	if has && pw(user, pass) {
		return user, true
	}
	l.failures.add(host)
	l.refuse(r.RemoteAddr, user, l.passwordRefusal(user, has), "")
	w.Header().Set("WWW-Authenticate", `Basic realm="PeerSync"`)
	http.Error(w, "wrong username or password", http.StatusUnauthorized)
	return "", false
}

func (l *Listener) serveBLIP(w http.ResponseWriter, r *http.Request, user string) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	slot := l.adm.reserveSession(host)
	if slot == nil {
		l.refuse(r.RemoteAddr, user, RefusedTooManyConnections, "every replication session slot is taken")
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many replication sessions; try again later", http.StatusServiceUnavailable)
		return
	}
	conn, err := blip.Accept(w, r, blip.Options{Logger: l.engine.log, MaxInFlight: replMaxInFlight,
		IdleTimeout: l.cfg.IdleTimeout, MaxBufferedBytes: l.cfg.MaxConnectionMemory, Budget: l.inbound})
	if err != nil {
		slot.release()
		l.refuse(r.RemoteAddr, user, RefusedProtocol, err.Error())
		return // Accept has answered with an HTTP error
	}
	hc, _ := r.Context().Value(handshakeKey{}).(*handshakeConn)
	if !slot.admit(hc, conn) {
		conn.Close() // the handshake ran out of time meanwhile
		return
	}
	sess := repl.NewPassive(conn, repl.PassiveOptions{ReadOnly: l.cfg.ReadOnly, Options: repl.Options{
		DB: l.cfg.Database.Store(), Collections: l.cfg.Collections, Logger: l.engine.log,
		EnableDelta: l.cfg.EnableDeltaSync, VersionVectors: conn.Subprotocol() == blip.SubprotocolV4,
	}, SyncGatewayPeer: r.URL.Query().Get("client") == "sgr2"})
	l.mu.Lock()
	if !l.running {
		l.mu.Unlock()
		conn.CloseWithCode(blip.CloseAppTransient, "listener stopped")
		sess.Close()
		slot.release()
		return
	}
	l.sessions[conn] = sess
	l.wg.Add(1)
	l.mu.Unlock()
	defer l.wg.Done()
	l.engine.publish(ConnectionOpened{ListenerID: l.id, Remote: r.RemoteAddr, User: user, Protocol: conn.Subprotocol()})
	conn.Start()
	slot.wait(conn)
	conn.Close() // waits for running handlers, which use the session
	sess.Close()
	l.mu.Lock()
	delete(l.sessions, conn)
	l.mu.Unlock()
	l.engine.publish(ConnectionClosed{ListenerID: l.id, Remote: r.RemoteAddr, Err: conn.Err()})
}

// failureLimiter blocks an address after repeated failed logins.
type failureLimiter struct {
	mu   sync.Mutex
	seen map[string][]time.Time
}

const (
	maxLoginFailures   = 10
	loginFailureWindow = time.Minute
)

func newFailureLimiter() *failureLimiter { return &failureLimiter{seen: map[string][]time.Time{}} }

func (f *failureLimiter) recent(host string, now time.Time) []time.Time {
	times := f.seen[host]
	for len(times) > 0 && now.Sub(times[0]) > loginFailureWindow {
		times = times[1:]
	}
	f.seen[host] = times
	return times
}

func (f *failureLimiter) blocked(host string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.recent(host, time.Now())) >= maxLoginFailures
}

func (f *failureLimiter) add(host string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.seen[host] = append(f.recent(host, now), now)
}
