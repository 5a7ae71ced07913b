package tlsid

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTLSHandshakeWithCreatedIdentities runs a real mutual-TLS handshake on
// 127.0.0.1: the server presents one created identity, the client another,
// and each side pins the other's fingerprint, as PeerSync peers do.
func TestTLSHandshakeWithCreatedIdentities(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir, NewFileKeyStore(filepath.Join(dir, "keys")))
	if _, err := s.GetOrCreateAnonymous("listener"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "replicator", UsageClient)

	// Load back from disk so the test uses what the store persisted.
	server, err := s.Get("listener")
	if err != nil {
		t.Fatal(err)
	}
	client, err := s.Get("replicator")
	if err != nil {
		t.Fatal(err)
	}

	clientPool := x509.NewCertPool()
	clientPool.AddCert(client.Certificate())
	serverConf := &tls.Config{
		Certificates: []tls.Certificate{server.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientPool,
		MinVersion:   tls.VersionTLS12,
	}
	clientConf := &tls.Config{
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c := client.TLSCertificate()
			return &c, nil
		},
		// Anonymous listener certificates carry no host names: peers trust
		// them by pinned fingerprint instead.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: pinFingerprint(server.Fingerprint()),
		MinVersion:            tls.VersionTLS12,
	}

	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverConf)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		peerFP string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		tc := conn.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		_, err = io.WriteString(tc, "hello")
		done <- result{peerFP: Fingerprint(tc.ConnectionState().PeerCertificates[0]), err: err}
	}()

	dialer := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", ln.Addr().String(), clientConf)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg, err := io.ReadAll(io.LimitReader(conn, 5))
	if err != nil || string(msg) != "hello" {
		t.Fatalf("read %q, %v", msg, err)
	}
	if got := Fingerprint(conn.ConnectionState().PeerCertificates[0]); got != server.Fingerprint() {
		t.Errorf("client saw server fingerprint %s, want %s", got, server.Fingerprint())
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.peerFP != client.Fingerprint() {
		t.Errorf("server saw client fingerprint %s, want %s", r.peerFP, client.Fingerprint())
	}
}

// TestTLSHandshakeRejectsUnknownClient shows the server side really checks
// the client certificate: an identity not in ClientCAs is refused.
func TestTLSHandshakeRejectsUnknownClient(t *testing.T) {
	s := NewStore(t.TempDir(), NewMemoryKeyStore())
	server := mustCreate(t, s, "srv", UsageServer)
	trusted := mustCreate(t, s, "trusted", UsageClient)
	stranger := mustCreate(t, s, "stranger", UsageClient)

	pool := x509.NewCertPool()
	pool.AddCert(trusted.Certificate())
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serverErr := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			serverErr <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		serverErr <- conn.(*tls.Conn).Handshake()
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
		// Always send the certificate, so the server's check is what fails.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c := stranger.TLSCertificate()
			return &c, nil
		},
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: pinFingerprint(server.Fingerprint()),
	})
	if err == nil {
		// With TLS 1.3 the client learns of the rejection on first read.
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Error("client with an untrusted certificate was not rejected")
	}
	if err := <-serverErr; err == nil || !strings.Contains(err.Error(), "verify") {
		t.Errorf("server handshake error = %v, want a certificate verification failure", err)
	}
}

func pinFingerprint(want string) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("no server certificate")
		}
		cert, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return err
		}
		if got := Fingerprint(cert); got != want {
			return fmt.Errorf("server fingerprint %s, pinned %s", got, want)
		}
		return nil
	}
}

func TestGetOrCreateAnonymous(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	first, err := NewStore(dir, NewFileKeyStore(keys)).GetOrCreateAnonymous("anon")
	if err != nil {
		t.Fatal(err)
	}
	leaf := first.Certificate()
	if leaf.Subject.CommonName != AnonymousCommonName || first.Usage() != UsageServer || !IsSelfSigned(leaf) {
		t.Errorf("anonymous identity: %s", first)
	}

	// A new Store over the same directory stands for a restart.
	reopened := NewStore(dir, NewFileKeyStore(keys))
	second, err := reopened.GetOrCreateAnonymous("anon")
	if err != nil {
		t.Fatal(err)
	}
	if second.Fingerprint() != first.Fingerprint() {
		t.Errorf("fingerprint changed across restart: %s then %s", first.Fingerprint(), second.Fingerprint())
	}
	if ids, _ := reopened.List(); len(ids) != 1 {
		t.Errorf("store holds %d identities, want 1", len(ids))
	}
}

func TestGetOrCreateAnonymousReplacesUnusable(t *testing.T) {
	keys := NewMemoryKeyStore()
	s := NewStore(t.TempDir(), keys)
	// An expired one is replaced.
	old, err := s.CreateSelfSigned(CreateOptions{Label: "anon", Attributes: Attributes{CommonName: AnonymousCommonName},
		Usage: UsageServer, Validity: time.Hour, notBefore: time.Now().Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := s.GetOrCreateAnonymous("anon")
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Fingerprint() == old.Fingerprint() || fresh.Expired(time.Now()) {
		t.Error("expired anonymous identity was not replaced")
	}
	// One whose key vanished (key store changed) is replaced too.
	if err := keys.Delete("anon"); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetOrCreateAnonymous("anon")
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint() == fresh.Fingerprint() {
		t.Error("anonymous identity without key was not replaced")
	}
	if same, _ := s.GetOrCreateAnonymous("anon"); same.Fingerprint() != again.Fingerprint() {
		t.Error("usable anonymous identity was replaced")
	}
}
