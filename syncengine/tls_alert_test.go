package syncengine

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"peersync/syncengine/tlsid"
)

// TestRefusedClientCertificateGetsTLSAlert: a client whose certificate the
// listener refuses must learn it from a TLS alert, not from a reset or EOF
// that looks like a network drop (which Couchbase Lite retries forever).
func TestRefusedClientCertificateGetsTLSAlert(t *testing.T) {
	ca := newTestCA(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	ids, _ := a.e.Identities()
	stranger, err := ids.CreateSelfSigned(tlsid.CreateOptions{Label: "stranger", Attributes: tlsid.Attributes{CommonName: "x"}, Usage: tlsid.UsageClient})
	if err != nil {
		t.Fatal(err)
	}
	expired := ca.issue(t, ids, "old", true, time.Now().Add(-time.Hour))
	good := ca.issue(t, ids, "good", true, time.Now().Add(time.Hour))
	for _, auth := range []struct {
		name string
		ca   CertificateAuthenticator
		want map[string]string // client certificate → alert, per TLS 1.3
	}{
		{"roots", CertificateAuthenticator{Roots: ca.pool()}, map[string]string{
			"none": "certificate required", "stranger": "unknown certificate authority", "expired": "expired certificate"}},
		{"verify func", CertificateAuthenticator{Verify: func([]*x509.Certificate) bool { return false }}, map[string]string{
			"none": "certificate required", "stranger": "bad certificate", "expired": "bad certificate"}},
	} {
		l, url := b.listen(t, func(c *ListenerConfig) { c.DisableTLS = false; c.Authenticator = auth.ca })
		addr := localAddr(l.Port())
		for name, id := range map[string]*tlsid.Identity{"none": nil, "stranger": stranger, "expired": expired} {
			for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				err := requestOverTLS(addr, id, version, false)
				if !isTLSAlert(err) {
					t.Errorf("%s/%s/%s: got %v, want a TLS alert", auth.name, name, tls.VersionName(version), err)
				}
				if want := "remote error: tls: " + auth.want[name]; version == tls.VersionTLS13 && (err == nil || !strings.Contains(err.Error(), want)) {
					t.Errorf("%s/%s/%s: got %v, want %q", auth.name, name, tls.VersionName(version), err, want)
				}
			}
			// The request already waits at the listener when it refuses the
			// certificate: the client must still get the alert, then a
			// clean end of stream (FIN), never a reset.
			if err := requestOverTLS(addr, id, tls.VersionTLS13, true); !isTLSAlert(err) {
				t.Errorf("%s/%s: request sent with the handshake: got %v, want the TLS alert and a clean close", auth.name, name, err)
			}
			// The replicator reports it as a permanent certificate error.
			cfg := ReplicatorConfig{Target: url, AcceptOnlySelfSignedServerCertificate: true}
			wantMsg := "the server requires a client certificate"
			if id != nil {
				cfg.Authenticator = ClientCertAuthenticator{Identity: id}
				wantMsg = "the server refused our client certificate"
			}
			_, err := tryReplicate(t, a, cfg)
			var alert *TLSAlertError
			if !errors.As(err, &alert) || IsTransient(err) || !strings.Contains(err.Error(), wantMsg) {
				t.Errorf("%s/%s: replicator error %v, want a permanent TLSAlertError saying %q", auth.name, name, err, wantMsg)
			}
		}
		if auth.ca.Verify == nil {
			if err := requestOverTLS(addr, good, tls.VersionTLS13, true); err != nil {
				t.Errorf("%s: a trusted client certificate: %v", auth.name, err)
			}
		}
		l.Stop()
	}
}

func isTLSAlert(err error) bool {
	var errno syscall.Errno
	return err != nil && !errors.As(err, &errno) && !errors.Is(err, io.EOF) && strings.Contains(err.Error(), "remote error: tls: ")
}

// requestOverTLS does a TLS handshake (with id's certificate unless nil)
// and a GET of the database, as a replicator's first request does. With
// early, the client's last handshake flight and a 32 KiB request go out in
// one write, so they are at the server before it judges the certificate;
// then the rest of the stream must end with FIN, not RST.
func requestOverTLS(addr string, id *tlsid.Identity, version uint16, early bool) error {
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: version, MaxVersion: version}
	if id != nil { // present it whatever issuers the server names, as Couchbase Lite does
		cert := id.TLSCertificate()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	held := &heldConn{Conn: raw, hold: early}
	conn := tls.Client(held, cfg)
	if err := conn.Handshake(); err != nil {
		return err
	}
	req := "GET /b/ HTTP/1.1\r\nHost: peer\r\n"
	if early {
		req += "X-Padding: " + strings.Repeat("p", 32<<10) + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return err
	}
	if err := held.flush(); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
		return nil
	}
	if early && isTLSAlert(err) {
		if _, rest := io.Copy(io.Discard, raw); rest != nil {
			return rest // a reset after the alert
		}
	}
	return err
}

// heldConn passes the first write (the ClientHello) and, while hold is
// set, keeps every later one until flush.
type heldConn struct {
	net.Conn
	hold   bool
	writes int
	buf    bytes.Buffer
}

func (c *heldConn) Write(p []byte) (int, error) {
	c.writes++
	if c.hold && c.writes > 1 {
		return c.buf.Write(p)
	}
	return c.Conn.Write(p)
}

func (c *heldConn) flush() error {
	c.hold = false
	if c.buf.Len() == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf.Bytes())
	return err
}

// TestAnonymousCertificateVerifiesHostNames: a client that trusts the
// anonymous certificate as its only root (Couchbase Lite's rootCerts, a
// Sync Gateway whose system roots hold it) must verify 127.0.0.1 and
// localhost with Go's standard verifier and in a real handshake.
func TestAnonymousCertificateVerifiesHostNames(t *testing.T) {
	b := newPeer(t, "b")
	l, _ := b.listen(t, func(c *ListenerConfig) { c.DisableTLS = false })
	cert := l.TLSIdentity().Certificate()
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("verify %s: %v", host, err)
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", localAddr(l.Port()),
			&tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Errorf("handshake as %s: %v", host, err)
			continue
		}
		conn.Close()
	}
}
