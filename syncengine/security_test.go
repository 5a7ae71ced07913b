package syncengine

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"peersync/syncengine/tlsid"
)

// testCA issues certificates for the security tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

// issue makes a leaf (server or client) and imports it into ids as label.
func (ca *testCA) issue(t *testing.T, ids *tlsid.Store, label string, client bool, notAfter time.Time) *tlsid.Identity {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: label},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})...)
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	id, err := ids.ImportPEM(label, bundle)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// tryReplicate runs a one-shot push and returns its final error.
func tryReplicate(t *testing.T, p *peer, cfg ReplicatorConfig) (*Replicator, error) {
	t.Helper()
	cfg.Database = p.db
	if cfg.Type == 0 {
		cfg.Type = Push
	}
	r, err := p.e.NewReplicator(cfg)
	if err != nil {
		return nil, err
	}
	r.Start(false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r, r.Wait(ctx)
}

func TestSecurityMatrix(t *testing.T) {
	ca := newTestCA(t)
	type tlsMode struct {
		name  string
		setup func(t *testing.T, b *peer, c *ListenerConfig)
		trust func(t *testing.T, b *peer, l *Listener, r *ReplicatorConfig)
	}
	modes := []tlsMode{
		{"off", func(t *testing.T, _ *peer, c *ListenerConfig) { c.DisableTLS = true }, nil},
		{"anonymous", nil, func(_ *testing.T, _ *peer, _ *Listener, r *ReplicatorConfig) {
			r.AcceptOnlySelfSignedServerCertificate = true
		}},
		{"self-signed identity", func(t *testing.T, b *peer, c *ListenerConfig) {
			ids, _ := b.e.Identities()
			id, err := ids.CreateSelfSigned(tlsid.CreateOptions{Label: "server", Attributes: tlsid.Attributes{CommonName: "b", IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}, Usage: tlsid.UsageServer})
			if err != nil {
				t.Fatal(err)
			}
			c.TLSIdentity = id
		}, func(_ *testing.T, _ *peer, l *Listener, r *ReplicatorConfig) {
			r.PinnedServerCertificate = l.TLSIdentity().Certificate()
		}},
		{"CA-issued", func(t *testing.T, b *peer, c *ListenerConfig) {
			ids, _ := b.e.Identities()
			c.TLSIdentity = ca.issue(t, ids, "server", false, time.Now().Add(time.Hour))
		}, func(_ *testing.T, _ *peer, l *Listener, r *ReplicatorConfig) {
			// Trust the CA through the pin of the leaf: the system roots do not know our test CA.
			r.PinnedServerFingerprint = l.TLSIdentity().Fingerprint()
		}},
	}
	type authMode struct {
		name    string
		tlsOnly bool
		setup   func(t *testing.T, a, b *peer, c *ListenerConfig)
		good    func(t *testing.T, a *peer, r *ReplicatorConfig)
		bad     map[string]func(t *testing.T, a *peer, r *ReplicatorConfig)
	}
	auths := []authMode{
		{name: "none"},
		{name: "password",
			setup: func(_ *testing.T, _, _ *peer, c *ListenerConfig) {
				c.Authenticator = PasswordAuthenticator(func(u, p string) bool { return u == "alice" && p == "s3cret" })
			},
			good: func(_ *testing.T, _ *peer, r *ReplicatorConfig) {
				r.Authenticator = BasicAuthenticator{Username: "alice", Password: "s3cret"}
			},
			bad: map[string]func(*testing.T, *peer, *ReplicatorConfig){
				"wrong password": func(_ *testing.T, _ *peer, r *ReplicatorConfig) {
					r.Authenticator = BasicAuthenticator{Username: "alice", Password: "guess"}
				},
				"no credentials": func(*testing.T, *peer, *ReplicatorConfig) {},
			}},
		{name: "client cert", tlsOnly: true,
			setup: func(_ *testing.T, _, _ *peer, c *ListenerConfig) {
				c.Authenticator = CertificateAuthenticator{Roots: ca.pool()}
			},
			good: func(t *testing.T, a *peer, r *ReplicatorConfig) {
				ids, _ := a.e.Identities()
				r.Authenticator = ClientCertAuthenticator{Identity: ca.issue(t, ids, "client", true, time.Now().Add(time.Hour))}
			},
			bad: map[string]func(*testing.T, *peer, *ReplicatorConfig){
				"no client cert": func(*testing.T, *peer, *ReplicatorConfig) {},
				"untrusted client cert": func(t *testing.T, a *peer, r *ReplicatorConfig) {
					ids, _ := a.e.Identities()
					id, _ := ids.CreateSelfSigned(tlsid.CreateOptions{Label: "stranger", Attributes: tlsid.Attributes{CommonName: "x"}, Usage: tlsid.UsageClient})
					r.Authenticator = ClientCertAuthenticator{Identity: id}
				},
				"expired client cert": func(t *testing.T, a *peer, r *ReplicatorConfig) {
					ids, _ := a.e.Identities()
					r.Authenticator = ClientCertAuthenticator{Identity: ca.issue(t, ids, "old", true, time.Now().Add(-time.Hour))}
				},
			}},
	}
	for _, m := range modes {
		for _, au := range auths {
			if au.tlsOnly && m.name == "off" {
				continue
			}
			run := func(name string, mod func(*testing.T, *peer, *ReplicatorConfig), wantOK bool) {
				t.Run(m.name+"/"+au.name+"/"+name, func(t *testing.T) {
					a, b := newPeer(t, "a"), newPeer(t, "b")
					l, url := b.listen(t, func(c *ListenerConfig) {
						c.DisableTLS = false
						if m.setup != nil {
							m.setup(t, b, c)
						}
						if au.setup != nil {
							au.setup(t, a, b, c)
						}
					})
					cfg := ReplicatorConfig{Target: url}
					if m.trust != nil {
						m.trust(t, b, l, &cfg)
					}
					if mod != nil {
						mod(t, a, &cfg)
					}
					a.put(t, "doc", `{"x":1}`)
					_, err := tryReplicate(t, a, cfg)
					n, _ := b.coll().Count()
					if wantOK {
						if err != nil || n != 1 {
							t.Fatalf("replication failed: %v (docs on b: %d)", err, n)
						}
						return
					}
					if err == nil || IsTransient(err) {
						t.Fatalf("want a permanent error, got %v", err)
					}
					if n != 0 {
						t.Fatalf("a refused replication wrote %d documents", n)
					}
				})
			}
			run("ok", au.good, true)
			for name, bad := range au.bad {
				run(name, bad, false)
			}
		}
	}
}

func TestServerTrustFailures(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, url := b.listen(t, func(c *ListenerConfig) { c.DisableTLS = false })
	a.put(t, "doc", `{}`)
	// System roots do not trust the anonymous self-signed certificate;
	// the refused certificate is kept, so the user can be offered to pin it.
	refused, err := tryReplicate(t, a, ReplicatorConfig{Target: url})
	var verify *tls.CertificateVerificationError
	if !errors.As(err, &verify) || IsTransient(err) {
		t.Errorf("untrusted server: %v", err)
	}
	if c := refused.ServerCertificate(); c == nil || tlsid.Fingerprint(c) != l.TLSIdentity().Fingerprint() {
		t.Error("the refused certificate is not kept")
	}
	// A pin of some other certificate fails and shows both fingerprints.
	_, err = tryReplicate(t, a, ReplicatorConfig{Target: url, PinnedServerFingerprint: strings.Repeat("ab", 32)})
	var pin *PinMismatchError
	if !errors.As(err, &pin) || IsTransient(err) || !strings.Contains(err.Error(), tlsid.FormatFingerprint(l.TLSIdentity().Fingerprint())) {
		t.Errorf("pin mismatch: %v", err)
	}
	// Plaintext client to a TLS listener.
	if _, err := tryReplicate(t, a, ReplicatorConfig{Target: strings.Replace(url, "wss://", "ws://", 1)}); err == nil || IsTransient(err) {
		t.Errorf("plaintext to TLS: %v", err)
	}
	if n, _ := b.coll().Count(); n != 0 {
		t.Errorf("failed attempts wrote %d documents", n)
	}
	// ServerCertificate exposes what was presented, for trust on first use.
	r, _ := tryReplicate(t, a, ReplicatorConfig{Target: url, AcceptOnlySelfSignedServerCertificate: true})
	if r.ServerCertificate() == nil || tlsid.Fingerprint(r.ServerCertificate()) != l.TLSIdentity().Fingerprint() {
		t.Error("ServerCertificate does not match the listener's identity")
	}
}

func TestTLS11ClientRefused(t *testing.T) {
	b := newPeer(t, "b")
	l, _ := b.listen(t, func(c *ListenerConfig) { c.DisableTLS = false })
	conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(l.Port())), &tls.Config{
		InsecureSkipVerify: true, MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1-only client completed the handshake")
	}
}

func TestAnonymousIdentitySurvivesRestart(t *testing.T) {
	b := newPeer(t, "b")
	l1, _ := b.listen(t, func(c *ListenerConfig) { c.DisableTLS = false })
	fp := l1.TLSIdentity().Fingerprint()
	l1.Stop()
	if l1.TLSIdentity() != nil {
		t.Error("TLSIdentity of a stopped listener is not nil")
	}
	l2, _ := b.listen(t, func(c *ListenerConfig) { c.DisableTLS = false })
	if l2.TLSIdentity().Fingerprint() != fp {
		t.Error("anonymous identity changed across restarts")
	}
}

func TestClientCertNeedsTLS(t *testing.T) {
	b := newPeer(t, "b")
	_, err := b.e.NewListener(ListenerConfig{Database: b.db, DisableTLS: true, Authenticator: CertificateAuthenticator{}})
	if !errors.Is(err, ErrTLSRequired) {
		t.Errorf("cert auth without TLS: %v", err)
	}
}

func TestFailedLoginsAreRateLimited(t *testing.T) {
	b := newPeer(t, "b")
	_, url := b.listen(t, func(c *ListenerConfig) {
		c.Authenticator = PasswordAuthenticator(func(u, p string) bool { return false })
	})
	httpURL := strings.Replace(strings.TrimSuffix(url, "_blipsync"), "ws://", "http://", 1)
	var last int
	for range maxLoginFailures + 1 {
		req, _ := http.NewRequest("GET", httpURL, nil)
		req.SetBasicAuth("x", "y")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("after %d failures the status is %d, want 429", maxLoginFailures, last)
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// TestExpiredServerCertificateRefused: pinning or accepting self-signed
// certificates must not accept one that has expired.
func TestExpiredServerCertificateRefused(t *testing.T) {
	ca := newTestCA(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	ids, _ := b.e.Identities()
	expired := ca.issue(t, ids, "old-server", false, time.Now().Add(-time.Minute))
	l, url := b.listen(t, func(c *ListenerConfig) { c.DisableTLS = false; c.TLSIdentity = expired })
	a.put(t, "doc", `{}`)
	for name, cfg := range map[string]ReplicatorConfig{
		"pinned":      {Target: url, PinnedServerFingerprint: l.TLSIdentity().Fingerprint()},
		"self-signed": {Target: url, AcceptOnlySelfSignedServerCertificate: true},
		"system":      {Target: url},
	} {
		_, err := tryReplicate(t, a, cfg)
		if err == nil || IsTransient(err) || !strings.Contains(err.Error(), "expired") && name != "self-signed" {
			t.Errorf("%s: %v (want a permanent certificate error)", name, err)
		}
	}
	if n, _ := b.coll().Count(); n != 0 {
		t.Errorf("wrote %d documents through an expired certificate", n)
	}
}
