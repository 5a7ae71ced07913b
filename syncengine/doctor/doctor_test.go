package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testPeer is an engine with a database "notes" and a listener on
// 127.0.0.1.
type testPeer struct {
	e *syncengine.Engine
	l *syncengine.Listener
}

func newTestPeer(t *testing.T, mod func(*testPeer, *syncengine.ListenerConfig)) *testPeer {
	t.Helper()
	dir := t.TempDir()
	e, err := syncengine.New(syncengine.Options{DataDir: dir, Identities: tlsid.NewStore(dir+"/ids", tlsid.NewMemoryKeyStore())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	db, err := e.CreateDatabase("notes")
	if err != nil {
		t.Fatal(err)
	}
	p := &testPeer{e: e}
	cfg := syncengine.ListenerConfig{Database: db, NetworkInterface: "127.0.0.1"}
	if mod != nil {
		mod(p, &cfg)
	}
	if p.l, err = e.NewListener(cfg); err != nil {
		t.Fatal(err)
	}
	if err := p.l.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *testPeer) url() string { return p.l.URLs()[0] }

func withPassword(_ *testPeer, c *syncengine.ListenerConfig) {
	c.DisableTLS = true
	c.Authenticator = syncengine.PasswordAuthenticator(func(u, pw string) bool { return u == "alice" && pw == "s3cret" })
}

func diagnose(t *testing.T, tg Target) Report {
	t.Helper()
	rep := Diagnose(context.Background(), tg, Options{})
	t.Logf("\n%s", rep)
	return rep
}

// wantFailure checks that step failed with detail and advice containing
// the given texts, that the steps before it passed and the ones after it
// did not run.
func wantFailure(t *testing.T, rep Report, step string, detail, advice []string) {
	t.Helper()
	f := rep.Failed()
	if f == nil || f.Name != step {
		t.Fatalf("failed step = %+v, want %s", f, step)
	}
	for _, d := range detail {
		if !strings.Contains(f.Detail, d) {
			t.Errorf("detail %q lacks %q", f.Detail, d)
		}
	}
	for _, a := range advice {
		if !strings.Contains(f.Advice, a) {
			t.Errorf("advice %q lacks %q", f.Advice, a)
		}
	}
	after := false
	for _, s := range rep.Steps {
		switch {
		case s.Name == step:
			after = true
		case after && s.Ran:
			t.Errorf("step %s ran after the failure", s.Name)
		case !after && !(s.Ran && s.OK):
			t.Errorf("step %s before the failure: %+v", s.Name, s)
		}
	}
}

func TestHealthyListenerPassesEveryStep(t *testing.T) {
	p := newTestPeer(t, func(_ *testPeer, c *syncengine.ListenerConfig) {
		c.Authenticator = syncengine.PasswordAuthenticator(func(u, pw string) bool { return u == "alice" && pw == "s3cret" })
	})
	fp := p.l.TLSIdentity().Fingerprint()
	rep := diagnose(t, Target{URL: p.url(), Auth: syncengine.BasicAuthenticator{Username: "alice", Password: "s3cret"},
		PinnedFingerprint: fp})
	var names []string
	for _, s := range rep.Steps {
		names = append(names, s.Name)
		if !s.Ran || !s.OK || s.Detail == "" || s.Advice != "" {
			t.Errorf("step %+v, want run and OK with a detail and no advice", s)
		}
	}
	if want := []string{StepResolve, StepTCP, StepTLS, StepHTTP, StepWebSocket, StepBLIP}; !slices.Equal(names, want) {
		t.Errorf("steps %v, want %v", names, want)
	}
	if !rep.OK() || rep.Certificate == nil || rep.Certificate.Fingerprint != tlsid.FormatFingerprint(fp) {
		t.Errorf("report OK=%v certificate %+v", rep.OK(), rep.Certificate)
	}
	if ws := rep.Step(StepWebSocket); !strings.Contains(ws.Detail, "the peer chose BLIP_3+CBMobile_4") {
		t.Errorf("WebSocket detail %q: want PeerSync's listener to choose CBMobile_4", ws.Detail)
	}
	tlsStep := rep.Step(StepTLS)
	for _, want := range []string{"TLS 1.3", tlsid.FormatFingerprint(fp), "PeerSync Anonymous", "valid until", "pinned"} {
		if !strings.Contains(tlsStep.Detail, want) {
			t.Errorf("TLS detail %q lacks %q", tlsStep.Detail, want)
		}
	}
	if d := rep.Step(StepHTTP).Detail; !strings.Contains(d, `user "alice" was accepted`) || !strings.Contains(d, `"notes" exists`) {
		t.Errorf("HTTP detail %q", d)
	}
	if d := rep.Step(StepBLIP).Detail; !strings.Contains(d, "404") {
		t.Errorf("BLIP detail %q", d)
	}
	// JSON for scripts.
	var decoded struct {
		OK    bool `json:"ok"`
		Steps []struct {
			Name   string  `json:"name"`
			OK     bool    `json:"ok"`
			TookMS float64 `json:"took_ms"`
		} `json:"steps"`
	}
	raw, _ := json.Marshal(rep)
	if err := json.Unmarshal(raw, &decoded); err != nil || !decoded.OK || len(decoded.Steps) != 6 || !decoded.Steps[5].OK {
		t.Errorf("JSON %s: %v", raw, err)
	}
}

func TestClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	rep := diagnose(t, Target{URL: "ws://127.0.0.1:" + strconv.Itoa(port) + "/notes"})
	wantFailure(t, rep, StepTCP, []string{"refused"}, []string{"nothing listens on port " + strconv.Itoa(port), "start the listener"})
}

func TestWrongPin(t *testing.T) {
	p := newTestPeer(t, nil)
	got := tlsid.FormatFingerprint(p.l.TLSIdentity().Fingerprint())
	rep := diagnose(t, Target{URL: p.url(), PinnedFingerprint: strings.Repeat("ab", 32)})
	wantFailure(t, rep, StepTLS, []string{"not the pinned certificate", tlsid.FormatFingerprint(strings.Repeat("ab", 32)), got},
		[]string{"--pin " + got, "Trust server certificate"})
}

func TestSelfSignedWithoutTrust(t *testing.T) {
	p := newTestPeer(t, nil)
	got := tlsid.FormatFingerprint(p.l.TLSIdentity().Fingerprint())
	rep := diagnose(t, Target{URL: p.url()})
	wantFailure(t, rep, StepTLS, []string{"self-signed", got}, []string{"--pin " + got, "--accept-self-signed"})
	// With the flag the advice names, the same target passes.
	if rep := diagnose(t, Target{URL: p.url(), AcceptSelfSigned: true}); !rep.OK() {
		t.Errorf("with AcceptSelfSigned: failed at %+v", rep.Failed())
	}
}

// expiredIdentity makes a self-signed server identity that expired an
// hour ago.
func expiredIdentity(t *testing.T, ids *tlsid.Store) *tlsid.Identity {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "old-server"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	bundle := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	id, err := ids.ImportPEM("expired", bundle)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestExpiredCertificate(t *testing.T) {
	p := newTestPeer(t, func(p *testPeer, c *syncengine.ListenerConfig) {
		ids, err := p.e.Identities()
		if err != nil {
			t.Fatal(err)
		}
		c.TLSIdentity = expiredIdentity(t, ids)
	})
	// Even pinned, an expired certificate is refused.
	rep := diagnose(t, Target{URL: p.url(), PinnedFingerprint: p.l.TLSIdentity().Fingerprint()})
	wantFailure(t, rep, StepTLS, []string{"expired on " + time.Now().Add(-time.Hour).UTC().Format(time.DateOnly)[:8], "old-server"},
		[]string{"renew the certificate"})
}

func TestWrongPassword(t *testing.T) {
	p := newTestPeer(t, withPassword)
	rep := diagnose(t, Target{URL: p.url(), Auth: syncengine.BasicAuthenticator{Username: "alice", Password: "guess"}})
	wantFailure(t, rep, StepHTTP, []string{`refused user "alice"`, "401"}, []string{"--password-file"})
	if strings.Contains(rep.String(), "guess") {
		t.Errorf("the report shows the password:\n%s", rep)
	}
	rep = diagnose(t, Target{URL: p.url()})
	wantFailure(t, rep, StepHTTP, []string{"wants a user name and password"}, []string{"--user U --password-file F"})
}

func TestUnknownDatabase(t *testing.T) {
	p := newTestPeer(t, func(_ *testPeer, c *syncengine.ListenerConfig) { c.DisableTLS = true })
	u := strings.TrimSuffix(p.url(), "/notes") + "/todo"
	rep := diagnose(t, Target{URL: u})
	wantFailure(t, rep, StepHTTP, []string{`no database "todo"`, "404"}, []string{"database name"})
}

// subprotocolServer answers GET /notes/ and upgrades /notes/_blipsync
// only for the given subprotocols.
func subprotocolServer(t *testing.T, protocols ...string) string {
	up := websocket.Upgrader{Subprotocols: protocols}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/notes/":
			w.Write([]byte(`{"db_name":"notes","uuid":"u-1"}`))
		case "/notes/_blipsync":
			ws, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer ws.Close()
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "http://", "ws://", 1) + "/notes"
}

func TestPeerSpeakingOnlyAnotherSubprotocol(t *testing.T) {
	rep := diagnose(t, Target{URL: subprotocolServer(t, "BLIP_3+CBMobile_2")})
	wantFailure(t, rep, StepWebSocket, []string{"the peer speaks only BLIP_3+CBMobile_2"}, []string{"BLIP_3+CBMobile_4, BLIP_3+CBMobile_3"})
}

// A peer that speaks only revision trees (Couchbase Lite 3.x) passes the
// WebSocket step: the doctor offers both protocols the replicator may use.
func TestPeerSpeakingOnlyCBMobile3Upgrades(t *testing.T) {
	rep := diagnose(t, Target{URL: subprotocolServer(t, "BLIP_3+CBMobile_3")})
	ws := rep.Step(StepWebSocket)
	if !ws.Ran || !ws.OK || !strings.Contains(ws.Detail, "the peer chose BLIP_3+CBMobile_3") {
		t.Errorf("WebSocket step %+v: want it to pass with CBMobile_3", ws)
	}
}

func TestMDNSStepReportsWhatDiscoveryKnows(t *testing.T) {
	p := newTestPeer(t, func(_ *testPeer, c *syncengine.ListenerConfig) { c.DisableTLS = true })
	heard := time.Now().Add(-3 * time.Second)
	rep := diagnose(t, Target{URL: p.url(), Peer: &Peer{Name: "alpha", Browsing: true, LastSeen: heard, Interfaces: []string{"eth0"}}})
	m := rep.Step(StepMDNS)
	if m == nil || !m.OK || !strings.Contains(m.Detail, "eth0") || !strings.Contains(m.Detail, heard.Format(time.TimeOnly)) || !rep.OK() {
		t.Errorf("mDNS step %+v", m)
	}
	// Reported even when the connection fails, and a failing query is a failure.
	rep = diagnose(t, Target{URL: "ws://127.0.0.1:1/notes", Peer: &Peer{Name: "alpha", Browsing: true, QueryError: "no multicast here"}})
	m = rep.Step(StepMDNS)
	if m == nil || !m.Ran || m.OK || !strings.Contains(m.Detail, "no multicast here") || !strings.Contains(m.Advice, "5353") {
		t.Errorf("mDNS step %+v", m)
	}
}

func TestBadTargetIsOneClearError(t *testing.T) {
	for _, u := range []string{"http://x/notes", "wss://host:4984/", "::"} {
		rep := Diagnose(context.Background(), Target{URL: u}, Options{})
		if f := rep.Failed(); f == nil || f.Name != StepResolve || strings.Contains(f.Detail, "\n") {
			t.Errorf("%q: %+v", u, f)
		}
	}
}

// FuzzParseTarget: any string gives a target or a one-line error, never a
// panic, and a target always names a database.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"wss://h:4984/notes", "ws://[::1]:1/db/_blipsync", "ws://h/", "wss://h:x/a/b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := parseTarget(Target{URL: s})
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		if tg.dbName == "" || tg.port == "" || !strings.HasSuffix(tg.u.Path, "/_blipsync") {
			t.Errorf("%q: target %+v", s, tg)
		}
	})
}

// TestClientCertificateRequired: a listener that wants client
// certificates, and a doctor that has none, fails at TLS and says which
// flag gives one.
func TestClientCertificateRequired(t *testing.T) {
	p := newTestPeer(t, func(_ *testPeer, c *syncengine.ListenerConfig) {
		c.Authenticator = syncengine.CertificateAuthenticator{Roots: x509.NewCertPool()}
	})
	rep := diagnose(t, Target{URL: p.url(), PinnedFingerprint: p.l.TLSIdentity().Fingerprint()})
	wantFailure(t, rep, StepTLS, []string{"requires a client certificate"}, []string{"--client-cert LABEL"})
}

// BenchmarkDiagnoseHealthy times a whole diagnosis of a healthy TLS
// listener on 127.0.0.1.
func BenchmarkDiagnoseHealthy(b *testing.B) {
	dir := b.TempDir()
	e, err := syncengine.New(syncengine.Options{DataDir: dir, Identities: tlsid.NewStore(dir+"/ids", tlsid.NewMemoryKeyStore())})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	db, _ := e.CreateDatabase("notes")
	l, _ := e.NewListener(syncengine.ListenerConfig{Database: db, NetworkInterface: "127.0.0.1"})
	if err := l.Start(); err != nil {
		b.Fatal(err)
	}
	tg := Target{URL: l.URLs()[0], PinnedFingerprint: l.TLSIdentity().Fingerprint()}
	for b.Loop() {
		if rep := Diagnose(context.Background(), tg, Options{}); !rep.OK() {
			b.Fatalf("%s", rep)
		}
	}
}

// TestReachStopsAfterTLS: Reach fetches the certificate of a peer not yet
// trusted and stops after the handshake, so it sends no credentials; a
// pin makes the same peer pass, and a closed port is unreachable.
func TestReachStopsAfterTLS(t *testing.T) {
	p := newTestPeer(t, nil)
	fp := p.l.TLSIdentity().Fingerprint()
	rep := Reach(context.Background(), Target{URL: p.url(), Auth: syncengine.BasicAuthenticator{Username: "alice", Password: "s3cret"}}, Options{})
	t.Logf("\n%s", rep)
	if len(rep.Steps) != 3 || rep.Steps[2].Name != StepTLS || rep.Step(StepTCP) == nil || !rep.Step(StepTCP).OK {
		t.Fatalf("steps %+v, want resolve, TCP and TLS only", rep.Steps)
	}
	if rep.OK() || rep.Certificate == nil || rep.Certificate.Fingerprint != tlsid.FormatFingerprint(fp) {
		t.Errorf("unpinned: ok %v, certificate %+v, want the refused certificate %s", rep.OK(), rep.Certificate, fp)
	}
	if rep := Reach(context.Background(), Target{URL: p.url(), PinnedFingerprint: fp}, Options{}); !rep.OK() || len(rep.Steps) != 3 {
		t.Errorf("pinned: %s", rep)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	rep = Reach(context.Background(), Target{URL: "wss://127.0.0.1:" + strconv.Itoa(port) + "/notes"}, Options{})
	if f := rep.Failed(); f == nil || f.Name != StepTCP || len(rep.Steps) != 3 || rep.Steps[2].Ran {
		t.Errorf("closed port: %s", rep)
	}
}
