package tlsid

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// storeKind builds a fresh Store of one backend for table-driven tests.
type storeKind struct {
	name string
	open func(t *testing.T) *Store
}

var storeKinds = []storeKind{
	{"memory", func(t *testing.T) *Store {
		return NewStore(t.TempDir(), NewMemoryKeyStore())
	}},
	{"file", func(t *testing.T) *Store {
		dir := t.TempDir()
		return NewStore(dir, NewFileKeyStore(filepath.Join(dir, "keys")))
	}},
}

func forEachStore(t *testing.T, f func(t *testing.T, s *Store)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) { f(t, k.open(t)) })
	}
}

func mustCreate(t testing.TB, s *Store, label string, usage KeyUsage) *Identity {
	t.Helper()
	id, err := s.CreateSelfSigned(CreateOptions{
		Label:      label,
		Attributes: Attributes{CommonName: "cn-" + label},
		Usage:      usage,
	})
	if err != nil {
		t.Fatalf("CreateSelfSigned(%q): %v", label, err)
	}
	return id
}

// testChain is a CA-issued leaf with its issuer, as a real import would bring.
type testChain struct {
	leaf, ca       *x509.Certificate
	leafKey, caKey crypto.Signer
}

// newTestChain issues a leaf for leafKey from a fresh ECDSA CA.
func newTestChain(t testing.TB, leafKey crypto.Signer) testChain {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "Test Leaf"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(12 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	return testChain{leaf: leaf, ca: ca, leafKey: leafKey, caKey: caKey}
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rsaKey is generated once, on first use: RSA key generation is slow under -race.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func pkcs8PEM(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
