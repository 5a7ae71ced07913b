// Package doctor answers "why won't it connect?" for a replication target.
// Diagnose walks the path a replicator takes — name resolution, TCP, TLS,
// GET /<db>/, the WebSocket upgrade and one BLIP request — and reports each
// step in a plain sentence with its duration and, when it fails, what to
// do. It judges certificates with the engine's own trust rules
// (syncengine.ClientTLSConfig) and never changes anything on either side.
// For peers found by mDNS it reports what the running discovery knows; it
// sends no multicast itself.
package doctor

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"peersync/syncengine"
)

// Step names, in the order they run.
const (
	StepResolve   = "name resolution"
	StepTCP       = "TCP connect"
	StepTLS       = "TLS"
	StepHTTP      = "HTTP GET /<db>/"
	StepWebSocket = "WebSocket upgrade"
	StepBLIP      = "BLIP round trip"
	StepMDNS      = "mDNS discovery"
)

// Target is what to diagnose: a replication URL and the settings a
// replicator would use for it.
type Target struct {
	URL  string                             // ws:// or wss://host:port/<db>[/_blipsync]
	Auth syncengine.ReplicatorAuthenticator // nil, Basic or client certificate
	// Server trust, as in syncengine.ReplicatorConfig.
	PinnedFingerprint string
	PinnedCertificate *x509.Certificate
	AcceptSelfSigned  bool
	// Peer is set for a peer the running discovery found (or holds as a
	// manual peer); it adds the mDNS step.
	Peer *Peer
}

// Peer is what discovery knows about a peer and about its own browsing.
type Peer struct {
	Name       string
	Manual     bool      // added by hand, never announced
	LastSeen   time.Time // last announcement heard (zero: never)
	Browsing   bool      // discovery is running
	Interfaces []string  // where the browser queries; empty: the system's default multicast interface
	QueryError string    // the browser's last mDNS query error; "" when queries work
}

// Options tune Diagnose. Zero values take defaults.
type Options struct {
	StepTimeout time.Duration // per step (default 10 s)
	Resolver    *net.Resolver // default net.DefaultResolver
}

// Step is one check.
type Step struct {
	Name   string
	Ran    bool // false: not run, because an earlier step failed
	OK     bool
	Took   time.Duration
	Detail string // what happened, one sentence
	Advice string // what to do, when it failed
}

// MarshalJSON writes the duration in milliseconds.
func (s Step) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name   string  `json:"name"`
		Ran    bool    `json:"ran"`
		OK     bool    `json:"ok"`
		TookMS float64 `json:"took_ms"`
		Detail string  `json:"detail"`
		Advice string  `json:"advice,omitempty"`
	}{s.Name, s.Ran, s.OK, float64(s.Took.Microseconds()) / 1000, s.Detail, s.Advice})
}

// Report is the outcome of Diagnose.
type Report struct {
	Target string `json:"target"`
	Steps  []Step `json:"steps"`
	// Certificate is the server certificate seen, if any.
	Certificate *Certificate `json:"certificate,omitempty"`
}

// Certificate describes the server certificate the TLS step saw.
type Certificate struct {
	Subject     string    `json:"subject"`
	SANs        []string  `json:"sans"`
	Fingerprint string    `json:"fingerprint"` // tlsid.FormatFingerprint form
	NotAfter    time.Time `json:"not_after"`
	SelfSigned  bool      `json:"self_signed"`
}

// MarshalJSON adds "ok", the overall verdict, for scripts.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		OK bool `json:"ok"`
		plain
	}{r.OK(), plain(r)})
}

// OK reports whether every step that ran passed.
func (r Report) OK() bool { return r.Failed() == nil }

// Failed returns the first failed step, or nil.
func (r Report) Failed() *Step {
	for i := range r.Steps {
		if r.Steps[i].Ran && !r.Steps[i].OK {
			return &r.Steps[i]
		}
	}
	return nil
}

// Step returns the step of that name, or nil.
func (r Report) Step(name string) *Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// String renders the report for people: one line per step, advice
// indented under a failed one.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Diagnosing %s\n", r.Target)
	for _, s := range r.Steps {
		mark := "ok  "
		switch {
		case !s.Ran:
			mark = "--  "
		case !s.OK:
			mark = "FAIL"
		}
		took := ""
		if s.Ran {
			took = fmt.Sprintf(" (%s)", roundDuration(s.Took))
		}
		fmt.Fprintf(&b, "%s %s: %s%s\n", mark, s.Name, s.Detail, took)
		if s.Advice != "" {
			fmt.Fprintf(&b, "     → %s\n", s.Advice)
		}
	}
	return b.String()
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// target is a parsed Target.
type target struct {
	Target
	u      *url.URL // with the /_blipsync suffix
	host   string
	port   string
	dbName string
}

func parseTarget(t Target) (*target, error) {
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("%q is not a ws:// or wss:// URL", t.URL)
	}
	if !strings.HasSuffix(u.Path, "/_blipsync") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/_blipsync"
		u.RawPath = ""
	}
	db := strings.Trim(strings.TrimSuffix(u.Path, "/_blipsync"), "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, fmt.Errorf("%q names no database (want ws[s]://host:port/<db>)", t.URL)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"ws": "80", "wss": "443"}[u.Scheme]
	}
	return &target{Target: t, u: u, host: u.Hostname(), port: port, dbName: db}, nil
}

// replicatorConfig is the configuration a replicator for t would have.
func (t *target) replicatorConfig() syncengine.ReplicatorConfig {
	return syncengine.ReplicatorConfig{Target: t.u.String(), Authenticator: t.Auth,
		PinnedServerCertificate: t.PinnedCertificate, PinnedServerFingerprint: t.PinnedFingerprint,
		AcceptOnlySelfSignedServerCertificate: t.AcceptSelfSigned}
}

// Diagnose runs the steps in order. A failed step stops the ones after it,
// which are reported as not run; the mDNS step, which only reads what
// discovery knows, is reported for peers whatever happened before.
func Diagnose(ctx context.Context, t Target, opts Options) Report {
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 10 * time.Second
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	rep := Report{Target: t.URL}
	tg, err := parseTarget(t)
	if err != nil {
		rep.Steps = append(rep.Steps, Step{Name: StepResolve, Ran: true, Detail: err.Error(),
			Advice: "give a URL like wss://192.168.1.20:4984/notes"})
		rep.Steps = append(rep.Steps, notRun(StepTCP, StepTLS, StepHTTP, StepWebSocket, StepBLIP)...)
	} else {
		rep.Target = tg.u.String()
		s := &session{t: tg, opts: opts, rep: &rep}
		s.run(ctx, "")
	}
	if t.Peer != nil {
		rep.Steps = append(rep.Steps, mdnsStep(*t.Peer))
	}
	return rep
}

// Reach checks only that the target answers: name resolution, TCP and,
// for wss://, the TLS handshake, judged by t's trust settings. It stops
// there, so it sends no credentials and no request: t.Auth is ignored (not
// even a client certificate is offered) and t.Peer is not reported. The
// TLS step records the certificate seen, trusted or not, in
// Report.Certificate, so a peer's certificate can be fetched before it is
// trusted.
func Reach(ctx context.Context, t Target, opts Options) Report {
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 10 * time.Second
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	t.Auth, t.Peer = nil, nil
	rep := Report{Target: t.URL}
	tg, err := parseTarget(t)
	if err != nil {
		rep.Steps = append(rep.Steps, Step{Name: StepResolve, Ran: true, Detail: err.Error(),
			Advice: "give a URL like wss://192.168.1.20:4984/notes"})
		rep.Steps = append(rep.Steps, notRun(StepTCP, StepTLS)...)
		return rep
	}
	rep.Target = tg.u.String()
	s := &session{t: tg, opts: opts, rep: &rep}
	s.run(ctx, StepTLS)
	return rep
}

func notRun(names ...string) []Step {
	steps := make([]Step, len(names))
	for i, n := range names {
		steps[i] = Step{Name: n, Detail: "not run: an earlier step failed"}
	}
	return steps
}

// mdnsStep reports what the running discovery knows about the peer.
func mdnsStep(p Peer) Step {
	st := Step{Name: StepMDNS, Ran: true, OK: true}
	where := "the system's default multicast interface"
	if len(p.Interfaces) > 0 {
		where = strings.Join(p.Interfaces, ", ")
	}
	switch {
	case p.Manual:
		st.Detail = fmt.Sprintf("%s was added by hand, so it is not announced; nothing to check", p.Name)
	case !p.Browsing:
		st.OK = false
		st.Detail = "discovery is off, so nothing is known about announcements"
		st.Advice = "turn browsing on (`[discovery] browse = true`, or the Peers screen) to see peers on the local network"
	case p.QueryError != "":
		st.OK = false
		st.Detail = fmt.Sprintf("mDNS queries on %s fail: %s", where, p.QueryError)
		st.Advice = "multicast seems blocked here: allow UDP port 5353 in the firewall, or add the peer by hand (host and port)"
	case p.LastSeen.IsZero():
		st.OK = false
		st.Detail = fmt.Sprintf("discovery browses on %s but has never heard %s announce itself", where, p.Name)
		st.Advice = "check that the peer's listener has announce = true and that both machines are on the same network segment"
	default:
		st.Detail = fmt.Sprintf("discovery browses on %s and last heard %s announce itself %s ago (at %s)",
			where, p.Name, time.Since(p.LastSeen).Round(time.Second), p.LastSeen.Format(time.TimeOnly))
	}
	return st
}
