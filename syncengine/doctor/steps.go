package doctor

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"peersync/syncengine"
	"peersync/syncengine/blip"
)

// knownSubprotocols are the Couchbase Mobile replication subprotocols the
// WebSocket step asks about when a peer refuses ours.
var knownSubprotocols = []string{blip.SubprotocolV4, blip.Subprotocol, "BLIP_3+CBMobile_2"}

// session carries what one step hands the next.
type session struct {
	t    *target
	opts Options
	rep  *Report

	addrs []string // resolved IP addresses
	addr  string   // host:port that accepted TCP
	tc    *tls.Config
	ws    *websocket.Conn
}

type stepFunc func(ctx context.Context) Step

func (s *session) run(ctx context.Context, upTo string) {
	steps := []struct {
		name string
		fn   stepFunc
	}{
		{StepResolve, s.resolve}, {StepTCP, s.connect}, {StepTLS, s.handshake},
		{StepHTTP, s.getDatabase}, {StepWebSocket, s.upgrade}, {StepBLIP, s.roundTrip},
	}
	for i, st := range steps {
		if st.name == upTo {
			steps = steps[:i+1]
			break
		}
	}
	defer func() {
		if s.ws != nil {
			s.ws.Close()
		}
	}()
	for i, st := range steps {
		budget := s.opts.StepTimeout
		if st.name == StepTCP {
			budget *= time.Duration(max(1, len(s.addrs))) // each address gets the full timeout
		}
		sctx, cancel := context.WithTimeout(ctx, budget)
		start := time.Now()
		res := st.fn(sctx)
		cancel()
		res.Name, res.Ran, res.Took = st.name, true, time.Since(start)
		s.rep.Steps = append(s.rep.Steps, res)
		if !res.OK {
			for _, rest := range steps[i+1:] {
				s.rep.Steps = append(s.rep.Steps, notRun(rest.name)...)
			}
			return
		}
	}
}

func fail(detail, advice string) Step { return Step{Detail: detail, Advice: advice} }
func pass(detail string) Step         { return Step{OK: true, Detail: detail} }

// resolve looks the host name up.
func (s *session) resolve(ctx context.Context) Step {
	if ip := net.ParseIP(s.t.host); ip != nil {
		s.addrs = []string{ip.String()}
		return pass(fmt.Sprintf("%s is an IP address; nothing to resolve", s.t.host))
	}
	addrs, err := s.opts.Resolver.LookupHost(ctx, s.t.host)
	if err != nil || len(addrs) == 0 {
		advice := "check the spelling of the host name, or use the peer's IP address"
		if strings.HasSuffix(s.t.host, ".local") {
			advice = ".local names need mDNS on this machine: use the peer's IP address, or the Peers screen's address"
		}
		return fail(fmt.Sprintf("%s did not resolve: %v", s.t.host, unwrapDNS(err)), advice)
	}
	s.addrs = addrs
	return pass(fmt.Sprintf("%s is %s", s.t.host, strings.Join(addrs, ", ")))
}

func unwrapDNS(err error) error {
	var de *net.DNSError
	if errors.As(err, &de) {
		if de.IsNotFound {
			return errors.New("no such host")
		}
		return errors.New(de.Err)
	}
	if err == nil {
		return errors.New("no addresses")
	}
	return err
}

// connect tries TCP to every address; the first that answers is used on.
func (s *session) connect(ctx context.Context) Step {
	var results []string
	var refused, timedOut bool
	for _, a := range s.addrs {
		hp := net.JoinHostPort(a, s.t.port)
		d := net.Dialer{Timeout: s.opts.StepTimeout}
		c, err := d.DialContext(ctx, "tcp", hp)
		if err == nil {
			c.Close()
			if s.addr == "" {
				s.addr = hp
			}
			results = append(results, hp+" accepted")
			continue
		}
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			refused = true
			results = append(results, hp+" refused the connection")
		case isTimeout(err) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
			timedOut = true
			results = append(results, hp+" did not answer (timed out)")
		default:
			results = append(results, fmt.Sprintf("%s: %v", hp, err))
		}
	}
	detail := strings.Join(results, "; ")
	if s.addr != "" {
		return pass(detail)
	}
	advice := "check the address and that this machine has a route to it"
	switch {
	case refused:
		advice = fmt.Sprintf("nothing listens on port %s there: start the listener on the peer (`peersync listen`, "+
			"the app's Listeners screen or a [[listener]] in the configuration) or correct the port", s.t.port)
	case timedOut:
		advice = fmt.Sprintf("no answer at all: a firewall may drop the packets (allow TCP port %s on the peer) or the address is wrong", s.t.port)
	}
	return fail(detail, advice)
}

// dial connects to the address that answered, whatever name the URL has.
func (s *session) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.addr)
}

// handshake runs TLS with the replicator's own trust settings.
func (s *session) handshake(ctx context.Context) Step {
	var seen *tls.ConnectionState
	tc, err := syncengine.ClientTLSConfig(s.t.replicatorConfig(), s.t.u.String(), func(cs *tls.ConnectionState) {
		c := *cs
		seen = &c
	})
	if err != nil {
		return fail(err.Error(), "fix the replication's trust settings (--pin takes 64 hex digits, with or without colons)")
	}
	s.tc = tc
	if tc == nil {
		return pass("ws:// target: no TLS, so the traffic is not encrypted and the peer is not authenticated")
	}
	conn, err := s.dial(ctx, "", "")
	if err != nil {
		return fail("could not reconnect for the TLS handshake: "+err.Error(), "run the doctor again; the peer may be restarting")
	}
	defer conn.Close()
	hc := tc.Clone()
	asked := false // whether the server asked for a client certificate
	hc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked = true
		if len(tc.Certificates) > 0 {
			return &tc.Certificates[0], nil
		}
		return &tls.Certificate{}, nil
	}
	tconn := tls.Client(conn, hc)
	err = tconn.HandshakeContext(ctx)
	if err == nil && asked {
		// TLS 1.3 servers refuse a client certificate after the handshake;
		// a short read brings such an alert to light.
		tconn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, rerr := tconn.Read(make([]byte, 1)); rerr != nil && !isTimeout(rerr) && !errors.Is(rerr, io.EOF) {
			err = rerr
		}
	}
	return judgeTLS(s.t, s.rep, seen, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// authHeader is what a replicator sends: Basic credentials, pre-emptively.
func (s *session) authHeader() http.Header {
	h := http.Header{}
	if b, ok := s.t.Auth.(syncengine.BasicAuthenticator); ok {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(b.Username+":"+b.Password)))
	}
	return h
}

// getDatabase asks GET /<db>/, as a replicator does first.
func (s *session) getDatabase(ctx context.Context) Step {
	u := *s.t.u
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	u.Path = strings.TrimSuffix(u.Path, "_blipsync")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	req.Header = s.authHeader()
	tr := &http.Transport{TLSClientConfig: s.tc, DialContext: s.dial, Proxy: nil}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		st := tlsAfterHandshake(err)
		if st.Detail == "" {
			return fail("the request failed: "+err.Error(), "run the doctor again; if it persists, look at the peer's log")
		}
		return st
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if st, refused := s.httpRefusal(resp.StatusCode, strings.TrimSpace(string(body))); refused {
		return st
	}
	if resp.StatusCode != http.StatusOK {
		return pass(fmt.Sprintf("the peer answered HTTP %d; it is known by URL, as some servers are", resp.StatusCode))
	}
	var info struct {
		UUID       string `json:"uuid"`
		ServerUUID string `json:"server_uuid"`
		Server     string `json:"server"`
	}
	json.Unmarshal(body, &info)
	who := s.authSentence()
	switch {
	case info.UUID != "":
		return pass(fmt.Sprintf("%s; database %q exists (%s, UUID %s)", who, s.t.dbName, orDefault(info.Server, "server"), info.UUID))
	case info.ServerUUID != "":
		return pass(fmt.Sprintf("%s; database %q exists (Sync Gateway server %s)", who, s.t.dbName, info.ServerUUID))
	}
	return pass(fmt.Sprintf("%s; database %q answered HTTP 200", who, s.t.dbName))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (s *session) authSentence() string {
	switch a := s.t.Auth.(type) {
	case syncengine.BasicAuthenticator:
		return fmt.Sprintf("user %q was accepted", a.Username)
	case syncengine.ClientCertAuthenticator:
		return "the client certificate was accepted"
	}
	return "no credentials were needed"
}

// httpRefusal explains the statuses that stop a replication.
func (s *session) httpRefusal(code int, body string) (Step, bool) {
	quoted := ""
	if body != "" {
		quoted = fmt.Sprintf(" (%q)", firstLine(body))
	}
	switch code {
	case http.StatusUnauthorized:
		if b, ok := s.t.Auth.(syncengine.BasicAuthenticator); ok {
			return fail(fmt.Sprintf("the peer refused user %q: wrong user name or password (HTTP 401)%s", b.Username, quoted),
				"check the user name and password (--user U --password-file F; in the app: Replications → Edit… → User and Password); "+
					"on the peer the user must be one of the listener's users"), true
		}
		return fail("the peer wants a user name and password (HTTP 401)"+quoted,
			"give credentials: --user U --password-file F (in the app: Replications → Edit… → User and Password)"), true
	case http.StatusForbidden:
		return fail("the peer refused access (HTTP 403)"+quoted, "ask the peer's owner to give this user access"), true
	case http.StatusNotFound:
		return fail(fmt.Sprintf("the peer has no database %q (HTTP 404)%s", s.t.dbName, quoted),
			"check the database name at the end of the URL: it must be the one the peer's listener serves"), true
	case http.StatusTooManyRequests:
		return fail("the peer is refusing this address after too many failed logins (HTTP 429)"+quoted,
			"fix the credentials, then wait a minute before trying again"), true
	}
	return Step{}, false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// upgrade opens the WebSocket offering the replication subprotocols
// PeerSync speaks (CBMobile_4 first, as the replicator does).
func (s *session) upgrade(ctx context.Context) Step {
	offered := strings.Join(blip.Subprotocols, ", ")
	ws, chosen, st, ok := s.dialWS(ctx, blip.Subprotocols)
	if !ok {
		return st
	}
	if slices.Contains(blip.Subprotocols, chosen) {
		s.ws = ws
		return pass(fmt.Sprintf("offered %s; the peer chose %s", offered, chosen))
	}
	if ws != nil {
		ws.Close()
	}
	// Ask about each other known subprotocol alone to say what the peer speaks.
	var speaks []string
	for _, p := range knownSubprotocols {
		if slices.Contains(blip.Subprotocols, p) {
			continue
		}
		if ws, chosen, _, ok := s.dialWS(ctx, []string{p}); ok {
			if ws != nil {
				ws.Close()
			}
			if chosen == p {
				speaks = append(speaks, p)
			}
		}
	}
	detail := fmt.Sprintf("offered %s; the peer accepted none", offered)
	advice := "the peer is not a Couchbase Mobile replication endpoint: check the URL's port and path"
	if len(speaks) > 0 {
		detail = fmt.Sprintf("offered %s; the peer speaks only %s", offered, strings.Join(speaks, " and "))
		advice = fmt.Sprintf("PeerSync speaks %s (Couchbase Lite 4.x and 3.x, Sync Gateway 3.x and later): replicate with a peer or "+
			"endpoint that offers one of them, or configure the peer to allow it", offered)
	}
	return fail(detail, advice)
}

// dialWS runs one WebSocket handshake. ok is false when the handshake
// itself failed; st then says why.
func (s *session) dialWS(ctx context.Context, protocols []string) (*websocket.Conn, string, Step, bool) {
	d := websocket.Dialer{Proxy: nil, TLSClientConfig: s.tc, NetDialContext: s.dial, Subprotocols: protocols,
		HandshakeTimeout: s.opts.StepTimeout}
	ws, resp, err := d.DialContext(ctx, s.t.u.String(), s.authHeader())
	if err == nil {
		return ws, ws.Subprotocol(), Step{}, true
	}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if st, refused := s.httpRefusal(resp.StatusCode, strings.TrimSpace(string(body))); refused {
			return nil, "", st, false
		}
		if resp.StatusCode == http.StatusBadRequest {
			return nil, "", Step{}, true // the peer refused the subprotocols offered
		}
		return nil, "", fail(fmt.Sprintf("the peer answered HTTP %d instead of upgrading (%q)", resp.StatusCode, firstLine(string(body))),
			"check the URL's path: it must end in /<db>/_blipsync, or just /<db>"), false
	}
	if st := tlsAfterHandshake(err); st.Detail != "" {
		return nil, "", st, false
	}
	return nil, "", fail("the WebSocket handshake failed: "+err.Error(), "look at the peer's log for why it dropped the connection"), false
}

// roundTrip sends one BLIP request. getCheckpoint for a client ID no one
// uses is harmless: the peer answers 404, which proves it works.
func (s *session) roundTrip(ctx context.Context) Step {
	conn := blip.NewConn(s.ws, blip.Options{})
	s.ws = nil // conn owns it now
	conn.Start()
	defer conn.Close()
	id := make([]byte, 8)
	rand.Read(id)
	client := "peersync-doctor-" + hex.EncodeToString(id)
	resp, err := conn.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "getCheckpoint", "client": client}})
	var be *blip.Error
	switch {
	case err == nil:
		return pass(fmt.Sprintf("getCheckpoint answered with a checkpoint (rev %q)", resp.Properties["rev"]))
	case errors.As(err, &be) && be.Code == 404:
		return pass("getCheckpoint for an unused client ID answered 404 (no such checkpoint), as it should")
	case errors.As(err, &be):
		return fail(fmt.Sprintf("getCheckpoint answered an error: %v", be), "look at the peer's log; the peer may not support this request")
	case errors.Is(err, context.DeadlineExceeded):
		return fail("no answer to getCheckpoint in time", "the peer accepted the WebSocket but does not answer BLIP requests; look at its log")
	}
	return fail("getCheckpoint failed: "+err.Error(), "look at the peer's log for why it closed the connection")
}

// tlsAfterHandshake explains TLS alerts a server sends after the handshake
// (TLS 1.3 refuses a client certificate only then). It returns a zero Step
// for other errors.
func tlsAfterHandshake(err error) Step {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "certificate required"):
		return fail("the peer requires a client certificate and none was offered",
			"authenticate with a stored identity the peer trusts: --client-cert LABEL")
	case strings.Contains(msg, "remote error: tls: bad certificate"), strings.Contains(msg, "remote error: tls: unknown certificate"):
		return fail("the peer did not accept this side's client certificate ("+msg+")",
			"use an identity issued by a CA the peer's listener trusts (its client_ca)")
	}
	return Step{}
}
