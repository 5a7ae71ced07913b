package tlsid

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateSelfSignedCertificateContents(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		before := time.Now()
		id, err := s.CreateSelfSigned(CreateOptions{
			Label: "laptop",
			Attributes: Attributes{
				CommonName: "Jane's laptop", Organization: "Example", OrganizationalUnit: "Sync",
				Locality: "Lyon", Province: "Rhone", Country: "FR",
				DNSNames:       []string{"laptop.local"},
				IPAddresses:    []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
				EmailAddresses: []string{"jane@example.com"},
			},
			Usage:    UsageServer | UsageClient,
			Validity: 48 * time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		leaf := id.Certificate()
		if id.Label != "laptop" || len(id.Chain) != 1 || leaf != id.Chain[0] {
			t.Fatalf("label %q, chain length %d", id.Label, len(id.Chain))
		}
		sub := leaf.Subject
		if sub.CommonName != "Jane's laptop" || !slices.Equal(sub.Organization, []string{"Example"}) ||
			!slices.Equal(sub.OrganizationalUnit, []string{"Sync"}) || !slices.Equal(sub.Locality, []string{"Lyon"}) ||
			!slices.Equal(sub.Province, []string{"Rhone"}) || !slices.Equal(sub.Country, []string{"FR"}) {
			t.Errorf("subject = %v", sub)
		}
		if !slices.Equal(leaf.DNSNames, []string{"laptop.local"}) || len(leaf.IPAddresses) != 2 ||
			!leaf.IPAddresses[1].Equal(net.IPv6loopback) || !slices.Equal(leaf.EmailAddresses, []string{"jane@example.com"}) {
			t.Errorf("SANs = %v %v %v", leaf.DNSNames, leaf.IPAddresses, leaf.EmailAddresses)
		}
		pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			t.Errorf("public key %T, want ECDSA P-256", leaf.PublicKey)
		}
		if !IsSelfSigned(leaf) {
			t.Error("IsSelfSigned = false for a self-signed certificate")
		}
		if leaf.IsCA || leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			t.Errorf("IsCA=%v KeyUsage=%v", leaf.IsCA, leaf.KeyUsage)
		}
		if id.Usage() != UsageServer|UsageClient {
			t.Errorf("Usage = %v", id.Usage())
		}
		wantExp := before.Add(48 * time.Hour)
		if d := id.Expires().Sub(wantExp); d < -time.Second || d > 5*time.Second {
			t.Errorf("Expires = %v, want about %v", id.Expires(), wantExp)
		}
		if id.Expired(time.Now()) {
			t.Error("fresh identity reported expired")
		}
	})
}

func TestDefaultValidityAndSingleUsage(t *testing.T) {
	s := NewStore(t.TempDir(), NewMemoryKeyStore())
	id := mustCreate(t, s, "client-only", UsageClient)
	if got := time.Until(id.Expires()); got < DefaultValidity-time.Minute || got > DefaultValidity {
		t.Errorf("default validity gives %v to expiry, want about %v", got, DefaultValidity)
	}
	if id.Usage() != UsageClient || !slices.Equal(id.Certificate().ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("Usage = %v, ExtKeyUsage = %v", id.Usage(), id.Certificate().ExtKeyUsage)
	}
}

func TestGetListDelete(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		if ids, err := s.List(); err != nil || len(ids) != 0 {
			t.Fatalf("empty store List = %v, %v", ids, err)
		}
		b := mustCreate(t, s, "b", UsageClient)
		a := mustCreate(t, s, "a-b", UsageServer)
		c := mustCreate(t, s, "a", UsageServer)

		got, err := s.Get("b")
		if err != nil {
			t.Fatal(err)
		}
		if got.Fingerprint() != b.Fingerprint() || got.Label != "b" {
			t.Errorf("Get gave %s, want %s", got, b)
		}
		wantKey, _ := b.PrivateKeyPEM()
		gotKey, _ := got.PrivateKeyPEM()
		if !bytes.Equal(wantKey, gotKey) {
			t.Error("Get returned a different private key")
		}

		ids, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		var labels, fps []string
		for _, id := range ids {
			labels = append(labels, id.Label)
			fps = append(fps, id.Fingerprint())
		}
		if !slices.Equal(labels, []string{"a", "a-b", "b"}) {
			t.Errorf("List labels = %v, want sorted [a a-b b]", labels)
		}
		if !slices.Equal(fps, []string{c.Fingerprint(), a.Fingerprint(), b.Fingerprint()}) {
			t.Error("List fingerprints do not match the created identities")
		}

		if err := s.Delete("a-b"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get("a-b"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Delete: %v, want ErrNotFound", err)
		}
		if err := s.Delete("a-b"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Delete: %v, want ErrNotFound", err)
		}
		if _, err := s.keys.Get("a-b"); !errors.Is(err, ErrNotFound) {
			t.Errorf("key still in key store after Delete: %v", err)
		}
		if ids, _ := s.List(); len(ids) != 2 {
			t.Errorf("List after Delete has %d identities, want 2", len(ids))
		}
		// The label is free again.
		if again := mustCreate(t, s, "a-b", UsageServer); again.Fingerprint() == a.Fingerprint() {
			t.Error("re-created identity reuses the old certificate")
		}
	})
}

func TestCreateRejectsExistingLabel(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		first := mustCreate(t, s, "dup", UsageServer)
		_, err := s.CreateSelfSigned(CreateOptions{Label: "dup", Attributes: Attributes{CommonName: "x"}, Usage: UsageServer})
		if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), `"dup"`) {
			t.Fatalf("err = %v, want ErrExists naming the label", err)
		}
		got, err := s.Get("dup")
		if err != nil || got.Fingerprint() != first.Fingerprint() {
			t.Errorf("existing identity changed: %v", err)
		}
	})
}

func TestCreateValidation(t *testing.T) {
	s := NewStore(t.TempDir(), NewMemoryKeyStore())
	ok := CreateOptions{Label: "ok", Attributes: Attributes{CommonName: "cn"}, Usage: UsageServer}
	tests := []struct {
		name   string
		change func(o *CreateOptions)
		want   string
	}{
		{"no common name", func(o *CreateOptions) { o.Attributes.CommonName = "" }, "CommonName is required"},
		{"blank common name", func(o *CreateOptions) { o.Attributes.CommonName = "  " }, "CommonName is required"},
		{"negative validity", func(o *CreateOptions) { o.Validity = -time.Hour }, "must be positive"},
		{"no usage", func(o *CreateOptions) { o.Usage = 0 }, "Usage is empty"},
		{"unknown usage", func(o *CreateOptions) { o.Usage = 8 }, "unknown usage"},
		{"empty label", func(o *CreateOptions) { o.Label = "" }, "label is empty"},
		{"path label", func(o *CreateOptions) { o.Label = "../evil" }, "must not start"},
		{"slash label", func(o *CreateOptions) { o.Label = "a/b" }, "not allowed"},
		{"backslash label", func(o *CreateOptions) { o.Label = `a\b` }, "not allowed"},
		{"space label", func(o *CreateOptions) { o.Label = "a b" }, "not allowed"},
		{"long label", func(o *CreateOptions) { o.Label = strings.Repeat("x", maxLabelLen+1) }, "longer than"},
		{"bad country", func(o *CreateOptions) { o.Attributes.Country = "France" }, "two-letter"},
		{"bad ip", func(o *CreateOptions) { o.Attributes.IPAddresses = []net.IP{{1, 2, 3}} }, "malformed IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.change(&o)
			_, err := s.CreateSelfSigned(o)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
	if ids, _ := s.List(); len(ids) != 0 {
		t.Errorf("rejected options still stored %d identities", len(ids))
	}
	if _, err := s.CreateSelfSigned(ok); err != nil {
		t.Errorf("valid options rejected: %v", err)
	}
}

func TestLabelValidationOnEveryEntryPoint(t *testing.T) {
	s := NewStore(t.TempDir(), NewMemoryKeyStore())
	bad := "../x"
	checks := map[string]error{}
	_, checks["Get"] = s.Get(bad)
	checks["Delete"] = s.Delete(bad)
	_, checks["ImportPEM"] = s.ImportPEM(bad, nil)
	_, checks["ImportPKCS12"] = s.ImportPKCS12(bad, nil, "")
	_, checks["GetOrCreateAnonymous"] = s.GetOrCreateAnonymous(bad)
	_, checks["fileKeyStore.Get"] = NewFileKeyStore(t.TempDir()).Get(bad)
	for name, err := range checks {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s(%q) = %v, want ErrInvalid", name, bad, err)
		}
	}
}

func TestExpiredIdentity(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		start := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
		id, err := s.CreateSelfSigned(CreateOptions{
			Label: "old", Attributes: Attributes{CommonName: "old"}, Usage: UsageClient,
			Validity: 24 * time.Hour, notBefore: start,
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get("old")
		if err != nil {
			t.Fatal(err)
		}
		wantExp := start.Add(24 * time.Hour)
		if !got.Expires().Equal(wantExp) {
			t.Errorf("Expires = %v, want %v", got.Expires(), wantExp)
		}
		if !got.Expired(time.Now()) || !id.Expired(time.Now()) {
			t.Error("identity past NotAfter not reported expired")
		}
		if got.Expired(start.Add(time.Hour)) {
			t.Error("identity reported expired inside its validity")
		}
	})
}

func TestUsageString(t *testing.T) {
	for u, want := range map[KeyUsage]string{0: "none", UsageServer: "server", UsageClient | UsageServer: "server|client", 5: "server|unknown(0x4)"} {
		if got := u.String(); got != want {
			t.Errorf("KeyUsage(%d).String() = %q, want %q", int(u), got, want)
		}
	}
}

func TestHandMadeIdentityDoesNotPanic(t *testing.T) {
	var id Identity
	if id.Certificate() != nil || id.Fingerprint() != "" || !id.Expires().IsZero() || id.Usage() != 0 ||
		!id.Expired(time.Now()) || len(id.ChainPEM()) != 0 || id.String() != " (no certificate)" {
		t.Error("empty identity gave non-empty answers")
	}
	if _, err := id.PrivateKeyPEM(); !errors.Is(err, ErrInvalid) {
		t.Errorf("PrivateKeyPEM: %v, want ErrInvalid", err)
	}
	if _, err := id.PKCS12("x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("PKCS12: %v, want ErrInvalid", err)
	}
	if c := id.TLSCertificate(); len(c.Certificate) != 0 || c.PrivateKey != nil {
		t.Error("TLSCertificate of an empty identity is not empty")
	}
}
