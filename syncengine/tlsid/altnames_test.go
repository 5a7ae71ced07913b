package tlsid

import (
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"testing"
)

// verifyAsOnlyRoot runs Go's standard verifier with cert as the only root,
// as a client that was handed the certificate to trust does.
func verifyAsOnlyRoot(cert *x509.Certificate, host string, usage x509.ExtKeyUsage) error {
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	_, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

func TestAnonymousCertificateVerifiesByHostName(t *testing.T) {
	s := NewStore(t.TempDir(), NewMemoryKeyStore())
	id, err := s.GetOrCreateAnonymousFor("anon", ServedNames(net.ParseIP("127.0.0.1")))
	if err != nil {
		t.Fatal(err)
	}
	cert := id.Certificate()
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		if err := verifyAsOnlyRoot(cert, host, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("verify %s: %v", host, err)
		}
	}
	if err := verifyAsOnlyRoot(cert, "192.0.2.99", x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("an address the listener does not serve verified")
	}
	if cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 || !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("key usage %v, extended %v; want digital signature and serverAuth", cert.KeyUsage, cert.ExtKeyUsage)
	}
}

func TestCreatedIdentitiesCarryNamesAndUsages(t *testing.T) {
	s := NewStore(t.TempDir(), NewMemoryKeyStore())
	// A server identity created without names serves the local ones.
	server := mustCreate(t, s, "server", UsageServer)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if err := verifyAsOnlyRoot(server.Certificate(), host, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("server identity, %s: %v", host, err)
		}
	}
	// Names given are the names used; both usages are marked.
	names, err := ParseAltNames([]string{"office.example", "192.0.2.20", "[2001:db8::20]"})
	if err != nil {
		t.Fatal(err)
	}
	both, err := s.CreateSelfSigned(CreateOptions{Label: "both", Usage: UsageServer | UsageClient,
		Attributes: Attributes{CommonName: "office", DNSNames: names.DNSNames, IPAddresses: names.IPAddresses}})
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"office.example", "192.0.2.20", "2001:db8::20"} {
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if err := verifyAsOnlyRoot(both.Certificate(), host, usage); err != nil {
				t.Errorf("server+client identity, %s, usage %v: %v", host, usage, err)
			}
		}
	}
	if err := verifyAsOnlyRoot(both.Certificate(), "localhost", x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("explicit names were extended with localhost")
	}
	client := mustCreate(t, s, "client", UsageClient)
	if err := verifyAsOnlyRoot(client.Certificate(), "", x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("client identity: %v", err)
	}
	if err := verifyAsOnlyRoot(client.Certificate(), "", x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("a client-only identity verified for serverAuth")
	}
	if _, err := s.CreateSelfSigned(CreateOptions{Label: "bad", Usage: UsageServer,
		Attributes: Attributes{CommonName: "x", DNSNames: []string{"not a name"}}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad DNS name: %v", err)
	}
}

func TestAnonymousReissuedWhenServedNamesChange(t *testing.T) {
	s := NewStore(t.TempDir(), NewMemoryKeyStore())
	local := ServedNames(net.ParseIP("127.0.0.1"))
	first, err := s.GetOrCreateAnonymousFor("anon", local)
	if err != nil {
		t.Fatal(err)
	}
	if same, _ := s.GetOrCreateAnonymousFor("anon", local); same.Fingerprint() != first.Fingerprint() {
		t.Fatal("re-issued although the names did not change")
	}
	wider := local.Merge(AltNames{IPAddresses: []net.IP{net.ParseIP("192.0.2.7")}})
	second, err := s.GetOrCreateAnonymousFor("anon", wider)
	if err != nil {
		t.Fatal(err)
	}
	if second.Fingerprint() == first.Fingerprint() || !wider.CoveredBy(second.Certificate()) {
		t.Fatal("not re-issued for a new address")
	}
	// Going back to fewer names keeps the certificate that covers them.
	if again, _ := s.GetOrCreateAnonymousFor("anon", local); again.Fingerprint() != second.Fingerprint() {
		t.Error("re-issued for a subset of its names")
	}
	// One made before certificates carried names (none at all) is replaced.
	if err := s.Delete("anon"); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	bare, err := s.createLocked(CreateOptions{Label: "anon", Attributes: Attributes{CommonName: AnonymousCommonName}, Usage: UsageServer, Validity: DefaultValidity})
	s.mu.Unlock()
	if err != nil || len(bare.Certificate().IPAddresses) != 0 {
		t.Fatalf("bare certificate: %v", err)
	}
	fresh, err := s.GetOrCreateAnonymousFor("anon", local)
	if err != nil || fresh.Fingerprint() == bare.Fingerprint() || verifyAsOnlyRoot(fresh.Certificate(), "127.0.0.1", x509.ExtKeyUsageServerAuth) != nil {
		t.Errorf("certificate without names not replaced: %v", err)
	}
}

func TestParseAltNames(t *testing.T) {
	n, err := ParseAltNames([]string{"Box.Local.", "*.example.org", "10.0.0.5", "::1", "10.0.0.5"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(n.DNSNames, []string{"box.local", "*.example.org"}) || len(n.IPAddresses) != 2 {
		t.Errorf("got %+v", n)
	}
	for _, bad := range []string{"", "a b", "-x.org", "x..org", "ünï.org", "a/b", string(make([]byte, 300))} {
		if _, err := ParseAltNames([]string{bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", bad, err)
		}
	}
}

func FuzzParseAltNames(f *testing.F) {
	for _, s := range []string{"localhost", "10.0.0.1", "[::1]", "*.a.b", "a-.b", "x.", ".", "*", "1.2.3.4.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseAltNames([]string{s})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(n.DNSNames)+len(n.IPAddresses) != 1 {
			t.Fatalf("%q gave %+v", s, n)
		}
		// What was accepted parses back to itself.
		again := append([]string(nil), n.DNSNames...)
		for _, ip := range n.IPAddresses {
			again = append(again, ip.String())
		}
		back, err := ParseAltNames(again)
		if err != nil || !slices.Equal(back.DNSNames, n.DNSNames) || !slices.EqualFunc(back.IPAddresses, n.IPAddresses, net.IP.Equal) {
			t.Fatalf("%q: re-parse of %v gave %+v, %v", s, again, back, err)
		}
	})
}
