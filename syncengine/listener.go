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
	// DefaultIdleTimeout closes a connection that sent nothing, not even a
	// heartbeat ping, for this long; replicators ping every 5 minutes.
	DefaultIdleTimeout = 15 * time.Minute
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
	MaxConnections   int           // default 100
	HandshakeTimeout time.Duration // time to complete the TLS and WebSocket handshakes (default 10 s)
	IdleTimeout      time.Duration // close a connection silent this long (default 15 min)
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

	mu       sync.Mutex
	ln       net.Listener
	srv      *http.Server
	identity *tlsid.Identity
	sessions map[*blip.Conn]*repl.Session
	failures *failureLimiter
	wg       sync.WaitGroup
	running  bool
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
	return &Listener{cfg: cfg, engine: e, id: newID(), failures: newFailureLimiter()}, nil
}

// ID identifies the listener in events.
func (l *Listener) ID() string { return l.id }

// Config returns the listener's configuration.
func (l *Listener) Config() ListenerConfig { return l.cfg }

// Start binds the port and serves until Stop.
func (l *Listener) Start() error {
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
	ln = &limitListener{Listener: ln, sem: make(chan struct{}, l.cfg.MaxConnections)}
	if !l.cfg.DisableTLS {
		tc, id, err := l.tlsConfig()
		if err != nil {
			ln.Close()
			return err
		}
		l.identity = id
		ln = tls.NewListener(ln, tc)
	}
	l.ln = ln
	l.sessions = map[*blip.Conn]*repl.Session{}
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serveHTTP),
		ReadHeaderTimeout: l.cfg.HandshakeTimeout,
		// TLS handshake failures become refusal reports; the rest stays at debug level.
		ErrorLog: log.New(tlsErrorLog{l}, "", 0),
	}
	l.running = true
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.srv.Serve(ln)
	}()
	l.cfg.Database.addUser(l)
	l.engine.track(l)
	l.engine.publish(ListenerStarted{ID: l.id, Database: l.cfg.Database.Name(), URLs: l.urlsLocked()})
	l.engine.log.Info("listener started", "database", l.cfg.Database.Name(), "port", l.portLocked(), "tls", !l.cfg.DisableTLS)
	return nil
}

func (l *Listener) tlsConfig() (*tls.Config, *tlsid.Identity, error) {
	id := l.cfg.TLSIdentity
	if id == nil {
		ids, err := l.engine.Identities()
		if err != nil {
			return nil, nil, err
		}
		if id, err = ids.GetOrCreateAnonymous(anonymousLabel); err != nil {
			return nil, nil, fmt.Errorf("listener: anonymous identity: %w", err)
		}
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{id.TLSCertificate()}}
	if ca, ok := l.cfg.Authenticator.(CertificateAuthenticator); ok {
		tc.ClientAuth = tls.RequireAnyClientCert
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyClientCert(ca, raw)
		}
	}
	return tc, id, nil
}

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
	if ca.Verify != nil {
		if ca.Verify(chain) {
			return nil
		}
		return errors.New("client certificate rejected")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: ca.Roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err
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

// URLs returns a replication URL for each usable address the listener is
// reachable on (IPv6 link-local addresses are left out).
func (l *Listener) URLs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.urlsLocked()
}

func (l *Listener) urlsLocked() []string {
	if l.ln == nil {
		return nil
	}
	scheme := "wss"
	if l.cfg.DisableTLS {
		scheme = "ws"
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
	port := strconv.Itoa(l.portLocked())
	urls := make([]string, 0, len(ips))
	for _, ip := range ips {
		urls = append(urls, scheme+"://"+net.JoinHostPort(ip.String(), port)+"/"+l.cfg.Database.Name()+"/_blipsync")
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
	st := ListenerStatus{ConnectionCount: len(l.sessions)}
	for _, s := range l.sessions {
		if !s.Idle() {
			st.ActiveConnectionCount++
		}
	}
	return st
}

// Stop closes every connection with close code 1001 (going away, which
// peers treat as transient) and waits for them to end.
func (l *Listener) Stop() {
	l.mu.Lock()
	if !l.running {
		l.mu.Unlock()
		return
	}
	l.running = false
	l.ln.Close()
	conns := make([]*blip.Conn, 0, len(l.sessions))
	for c := range l.sessions {
		conns = append(conns, c)
	}
	srv := l.srv
	l.mu.Unlock()
	for _, c := range conns {
		c.CloseWithCode(1001, "listener stopped")
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
	l.engine.publish(ListenerStopped{ID: l.id, Database: l.cfg.Database.Name()})
	l.engine.log.Info("listener stopped", "database", l.cfg.Database.Name())
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
	conn, err := blip.Accept(w, r, blip.Options{Logger: l.engine.log, MaxInFlight: replMaxInFlight,
		IdleTimeout: l.cfg.IdleTimeout})
	if err != nil {
		l.refuse(r.RemoteAddr, user, RefusedProtocol, err.Error())
		return // Accept has answered with an HTTP error
	}
	sess := repl.NewSession(conn, repl.Options{
		DB: l.cfg.Database.Store(), Collections: l.cfg.Collections, ReadOnly: l.cfg.ReadOnly, Logger: l.engine.log,
		EnableDelta: l.cfg.EnableDeltaSync,
	})
	l.mu.Lock()
	if !l.running {
		l.mu.Unlock()
		conn.CloseWithCode(1001, "listener stopped")
		sess.Close()
		return
	}
	l.sessions[conn] = sess
	l.wg.Add(1)
	l.mu.Unlock()
	defer l.wg.Done()
	l.engine.publish(ConnectionOpened{ListenerID: l.id, Remote: r.RemoteAddr, User: user})
	conn.Start()
	<-conn.Done()
	sess.Close()
	l.mu.Lock()
	delete(l.sessions, conn)
	l.mu.Unlock()
	l.engine.publish(ConnectionClosed{ListenerID: l.id, Remote: r.RemoteAddr, Err: conn.Err()})
}

// limitListener refuses connections beyond a maximum by making Accept wait.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
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
