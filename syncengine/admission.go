package syncengine

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"sync"
	"time"

	"peersync/syncengine/blip"
)

// Admission decides which connections a listener serves, so that sockets
// anyone on the network can open never starve the sessions of real users.
//
// Handshake: from accept until the peer is authenticated and upgraded to a
// replication session, a connection is "in handshake". It must get there
// within HandshakeTimeout (TLS, HTTP request, authentication and upgrade
// together) or it is closed. At most MaxHandshakes connections are in
// handshake at once, at most MaxHandshakesPerAddress from one address. A
// new connection over either bound closes the oldest connection in
// handshake (its own address's, when over the per-address bound) at once:
// the accept loop never waits, and a fresh client always gets its turn,
// while holding sockets open costs an attacker a stream of new ones.
//
// Sessions: MaxConnections counts only authenticated, upgraded sessions. A
// session must send its first BLIP request within StartTimeout or it is
// closed (code 1008). When every slot is taken, a new session from an
// address closes that address's oldest session that has not sent a request
// yet (code 1013, try again later); if there is none, the new one is
// refused with HTTP 503, which clients retry. A session that has sent a
// request is never closed for being quiet: only IdleTimeout ends it, and
// heartbeats reset that.

// AdmissionStats counts what a listener's admission did since it was made.
type AdmissionStats struct {
	Handshakes         int   // connections in handshake now
	Sessions           int   // session slots taken now (including ones being upgraded)
	HandshakesEvicted  int64 // closed at once to make room for a newer connection
	HandshakesTimedOut int64 // closed by the handshake timeout
	SessionsEvicted    int64 // never-started sessions closed to make room for a newer one
	SessionsNotStarted int64 // closed for sending no request within the start timeout
	SessionsRefused    int64 // refused with HTTP 503: every slot held by a started session
}

// Admission reports what the listener's admission has done.
func (l *Listener) Admission() AdmissionStats { return l.adm.snapshot() }

// InboundMemory is the budget all the listener's connections share for
// incoming messages.
func (l *Listener) InboundMemory() *blip.MemoryBudget { return l.inbound }

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

type admission struct {
	handshakeTimeout time.Duration
	maxHandshakes    int
	maxPerAddress    int
	maxSessions      int
	startTimeout     time.Duration

	mu         sync.Mutex
	handshakes []*handshakeConn // oldest first
	perAddress map[string]int   // connections in handshake by remote host
	sessions   []*sessionSlot   // oldest first
	stats      AdmissionStats
}

func newAdmission(cfg ListenerConfig) *admission {
	return &admission{
		handshakeTimeout: cfg.HandshakeTimeout,
		maxHandshakes:    cfg.MaxHandshakes,
		maxPerAddress:    cfg.MaxHandshakesPerAddress,
		maxSessions:      cfg.MaxConnections,
		startTimeout:     cfg.StartTimeout,
		perAddress:       map[string]int{},
	}
}

func (a *admission) snapshot() AdmissionStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.stats
	st.Handshakes, st.Sessions = len(a.handshakes), len(a.sessions)
	return st
}

// listener wraps ln so every accepted connection enters the handshake.
func (a *admission) listener(ln net.Listener) net.Listener { return &admissionListener{ln, a} }

type admissionListener struct {
	net.Listener
	adm *admission
}

// Accept never waits for room: making room closes an older connection.
func (l *admissionListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.adm.enterHandshake(c), nil
}

// handshakeConn is an accepted connection; while it is listed in
// admission.handshakes, it is in handshake and its timer runs.
type handshakeConn struct {
	net.Conn
	adm   *admission
	host  string
	timer *time.Timer
}

// NetConn returns the connection below (blip finds its batchConn so).
func (c *handshakeConn) NetConn() net.Conn { return c.Conn }

func (c *handshakeConn) Close() error {
	c.adm.leaveHandshake(c)
	return c.Conn.Close()
}

func hostOf(addr net.Addr) string {
	if ta, ok := addr.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, _ := net.SplitHostPort(addr.String())
	return host
}

func (a *admission) enterHandshake(c net.Conn) net.Conn {
	hc := &handshakeConn{Conn: c, adm: a, host: hostOf(c.RemoteAddr())}
	a.mu.Lock()
	var victim *handshakeConn
	if a.perAddress[hc.host] >= a.maxPerAddress {
		i := slices.IndexFunc(a.handshakes, func(o *handshakeConn) bool { return o.host == hc.host })
		victim = a.handshakes[i]
	} else if len(a.handshakes) >= a.maxHandshakes {
		victim = a.handshakes[0]
	}
	if victim != nil {
		a.removeHandshakeLocked(victim)
		a.stats.HandshakesEvicted++
	}
	a.handshakes = append(a.handshakes, hc)
	a.perAddress[hc.host]++
	hc.timer = time.AfterFunc(a.handshakeTimeout, func() {
		a.mu.Lock()
		timedOut := a.removeHandshakeLocked(hc)
		if timedOut {
			a.stats.HandshakesTimedOut++
		}
		a.mu.Unlock()
		if timedOut {
			hc.Conn.Close()
		}
	})
	a.mu.Unlock()
	if victim != nil {
		victim.Conn.Close()
	}
	return hc
}

// removeHandshakeLocked takes c out of the handshake; false if it was not in it.
func (a *admission) removeHandshakeLocked(c *handshakeConn) bool {
	i := slices.Index(a.handshakes, c)
	if i < 0 {
		return false
	}
	a.handshakes = slices.Delete(a.handshakes, i, i+1)
	if a.perAddress[c.host]--; a.perAddress[c.host] <= 0 {
		delete(a.perAddress, c.host)
	}
	c.timer.Stop()
	return true
}

func (a *admission) leaveHandshake(c *handshakeConn) {
	a.mu.Lock()
	a.removeHandshakeLocked(c)
	a.mu.Unlock()
}

// finishHandshake ends c's handshake; false if it was closed meanwhile
// (evicted or timed out).
func (a *admission) finishHandshake(c *handshakeConn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.removeHandshakeLocked(c)
}

// closeHandshakes closes every connection still in handshake (the
// listener is stopping).
func (a *admission) closeHandshakes() {
	a.mu.Lock()
	hs := slices.Clone(a.handshakes)
	for _, c := range hs {
		a.removeHandshakeLocked(c)
	}
	a.mu.Unlock()
	for _, c := range hs {
		c.Conn.Close()
	}
}

type handshakeKey struct{}

// connContext gives each request its handshakeConn (http.Server.ConnContext).
func (a *admission) connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if rc, ok := c.(*refusalConn); ok { // TLS listeners wrap it to end refused handshakes cleanly
		c = rc.Conn
	}
	if hc, ok := c.(*handshakeConn); ok {
		ctx = context.WithValue(ctx, handshakeKey{}, hc)
	}
	return ctx
}

// sessionSlot is one of the MaxConnections slots; listed in
// admission.sessions while it is held.
type sessionSlot struct {
	adm   *admission
	host  string
	conn  *blip.Conn // nil while the connection is being upgraded
	timer *time.Timer
	kick  chan closeReason // buffered 1: admission wants the session closed
}

type closeReason struct {
	code   int
	reason string
}

// reserveSession takes a slot for an authenticated request from host,
// closing host's oldest never-started session if every slot is taken; nil
// when there is no room.
func (a *admission) reserveSession(host string) *sessionSlot {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sessions) >= a.maxSessions {
		i := slices.IndexFunc(a.sessions, func(s *sessionSlot) bool {
			return s.host == host && s.conn != nil && !started(s.conn)
		})
		if i < 0 {
			a.stats.SessionsRefused++
			return nil
		}
		victim := a.sessions[i]
		a.removeSessionLocked(victim)
		a.stats.SessionsEvicted++
		victim.kick <- closeReason{blip.CloseTryAgainLater, "replaced by a newer session from the same address"}
	}
	s := &sessionSlot{adm: a, host: host, kick: make(chan closeReason, 1)}
	a.sessions = append(a.sessions, s)
	return s
}

// started reports whether the peer has sent a request.
func started(c *blip.Conn) bool { return c.Stats().RequestsReceived > 0 }

// admit moves hc's connection, now upgraded to conn, from the handshake
// into the slot and starts the start timeout. False if the handshake was
// cut meanwhile; the slot is then released.
func (s *sessionSlot) admit(hc *handshakeConn, conn *blip.Conn) bool {
	a := s.adm
	if hc != nil && !a.finishHandshake(hc) {
		s.release()
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s.conn = conn
	s.timer = time.AfterFunc(a.startTimeout, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if !started(conn) && a.removeSessionLocked(s) {
			a.stats.SessionsNotStarted++
			s.kick <- closeReason{1008, "no BLIP request within " + a.startTimeout.String()}
		}
	})
	return true
}

// wait returns when conn has ended, closing it first if admission asks to.
// It releases the slot.
func (s *sessionSlot) wait(conn *blip.Conn) {
	select {
	case <-conn.Done():
	case k := <-s.kick:
		conn.CloseWithCode(k.code, k.reason)
	}
	s.release()
}

func (s *sessionSlot) release() {
	s.adm.mu.Lock()
	s.adm.removeSessionLocked(s)
	s.adm.mu.Unlock()
}

func (a *admission) removeSessionLocked(s *sessionSlot) bool {
	if s.timer != nil {
		s.timer.Stop()
	}
	i := slices.Index(a.sessions, s)
	if i < 0 {
		return false
	}
	a.sessions = slices.Delete(a.sessions, i, i+1)
	return true
}
