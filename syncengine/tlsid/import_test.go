package tlsid

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

func TestExportImportPEMRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		orig := mustCreate(t, s, "orig", UsageServer|UsageClient)
		keyPEM, err := orig.PrivateKeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		if block, _ := pem.Decode(keyPEM); block == nil || block.Type != "PRIVATE KEY" {
			t.Fatalf("PrivateKeyPEM is not a PKCS#8 PEM block: %q", keyPEM)
		}
		chainPEM := orig.ChainPEM()
		if bytes.Contains(chainPEM, []byte("PRIVATE KEY")) {
			t.Fatal("ChainPEM contains key material")
		}

		dest := storeKinds[0].open(t)
		imp, err := dest.ImportPEM("copy", concat(chainPEM, keyPEM))
		if err != nil {
			t.Fatal(err)
		}
		if imp.Fingerprint() != orig.Fingerprint() || imp.Label != "copy" {
			t.Errorf("imported %s, want fingerprint %s", imp, orig.Fingerprint())
		}
		again, _ := imp.PrivateKeyPEM()
		if !bytes.Equal(again, keyPEM) {
			t.Error("imported key differs from exported key")
		}
		if _, err := dest.ImportPEM("copy", concat(chainPEM, keyPEM)); !errors.Is(err, ErrExists) {
			t.Errorf("second import under same label: %v, want ErrExists", err)
		}
	})
}

func TestImportPEMChainAndKeyForms(t *testing.T) {
	ec := newECKey(t)
	ecChain := newTestChain(t, ec)
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	rsaChain := newTestChain(t, rsaKey())

	tests := []struct {
		name     string
		data     []byte
		wantLeaf *x509.Certificate
	}{
		{"pkcs8 EC, leaf first", concat(certPEM(ecChain.leaf), certPEM(ecChain.ca), pkcs8PEM(t, ec)), ecChain.leaf},
		{"key first, CA first", concat(pkcs8PEM(t, ec), certPEM(ecChain.ca), certPEM(ecChain.leaf)), ecChain.leaf},
		{"SEC1 EC key with EC PARAMETERS and text", concat([]byte("Bag Attributes\n"), certPEM(ecChain.leaf), certPEM(ecChain.ca),
			pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})), ecChain.leaf},
		{"pkcs8 RSA", concat(certPEM(rsaChain.leaf), certPEM(rsaChain.ca), pkcs8PEM(t, rsaKey())), rsaChain.leaf},
		{"pkcs1 RSA", concat(certPEM(rsaChain.leaf), certPEM(rsaChain.ca),
			pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey())})), rsaChain.leaf},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(t.TempDir(), NewMemoryKeyStore())
			id, err := s.ImportPEM("imp", tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(id.Chain) != 2 || !id.Chain[0].Equal(tt.wantLeaf) || id.Chain[1].Subject.CommonName != "Test CA" {
				t.Fatalf("test %d: chain not leaf-first: %v", i, id.Chain)
			}
			if IsSelfSigned(id.Certificate()) {
				t.Error("CA-issued leaf reported self-signed")
			}
			if !IsSelfSigned(id.Chain[1]) {
				t.Error("self-signed CA not reported self-signed")
			}
			if id.Usage() != UsageClient {
				t.Errorf("Usage = %v, want client", id.Usage())
			}
			got, err := s.Get("imp")
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Chain) != 2 || !got.Chain[0].Equal(tt.wantLeaf) || !got.Chain[1].Equal(id.Chain[1]) {
				t.Error("stored chain differs from the imported one")
			}
		})
	}
}

func TestImportPEMRejectsBadInput(t *testing.T) {
	ec := newECKey(t)
	chain := newTestChain(t, ec)
	other := newECKey(t)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224DER, err := x509.MarshalECPrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	leaf, key := certPEM(chain.leaf), pkcs8PEM(t, ec)
	tests := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "no PEM CERTIFICATE", nil},
		{"not PEM", "no PEM CERTIFICATE", []byte("hello")},
		{"no key", "no PEM private key", leaf},
		{"no certificate", "no PEM CERTIFICATE", key},
		{"two keys", "more than one private key", concat(leaf, key, key)},
		{"key of another certificate", "does not match", concat(leaf, pkcs8PEM(t, other))},
		{"garbage certificate", "bad certificate", concat(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}), key)},
		{"garbage key", "bad PRIVATE KEY", concat(leaf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}))},
		{"encrypted PKCS#8", "encrypted", concat(leaf, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}))},
		{"legacy encrypted", "encrypted", concat(leaf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}}))},
		{"unknown block", "unexpected type", concat(leaf, key, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}))},
		{"unusable curve", "P-224", concat(leaf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: p224DER}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(t.TempDir(), NewMemoryKeyStore())
			_, err := s.ImportPEM("bad", tt.data)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tt.want)
			}
			if _, err := s.Get("bad"); !errors.Is(err, ErrNotFound) {
				t.Errorf("rejected import left something behind: %v", err)
			}
			if n := len(s.keys.(*memoryKeyStore).labels()); n != 0 {
				t.Errorf("rejected import left %d keys in the key store", n)
			}
		})
	}
}

func TestImportPKCS12(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ec := newECKey(t)
		chain := newTestChain(t, ec)
		p12, err := pkcs12.Modern.Encode(ec, chain.leaf, []*x509.Certificate{chain.ca}, "s3cret")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ImportPKCS12("p12", p12, "wrong"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "PKCS#12") {
			t.Errorf("wrong password: %v, want ErrInvalid mentioning PKCS#12", err)
		}
		if _, err := s.ImportPKCS12("p12", []byte("not pkcs12"), ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("garbage: %v, want ErrInvalid", err)
		}
		id, err := s.ImportPKCS12("p12", p12, "s3cret")
		if err != nil {
			t.Fatal(err)
		}
		if len(id.Chain) != 2 || !id.Chain[0].Equal(chain.leaf) || !id.Chain[1].Equal(chain.ca) {
			t.Fatalf("chain = %v", id.Chain)
		}
		got, err := s.Get("p12")
		if err != nil {
			t.Fatal(err)
		}
		if got.Fingerprint() != Fingerprint(chain.leaf) {
			t.Error("stored identity has another fingerprint")
		}
		wantKey := pkcs8PEM(t, ec)
		if gotKey, _ := got.PrivateKeyPEM(); !bytes.Equal(gotKey, wantKey) {
			t.Error("stored key differs from the PKCS#12 key")
		}
	})
}

func TestExportPKCS12RoundTrip(t *testing.T) {
	s := NewStore(t.TempDir(), NewMemoryKeyStore())
	orig := mustCreate(t, s, "orig", UsageClient)
	p12, err := orig.PKCS12("pw")
	if err != nil {
		t.Fatal(err)
	}
	imp, err := s.ImportPKCS12("back", p12, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if imp.Fingerprint() != orig.Fingerprint() {
		t.Error("PKCS#12 round trip changed the certificate")
	}
	a, _ := orig.PrivateKeyPEM()
	b, _ := imp.PrivateKeyPEM()
	if !bytes.Equal(a, b) {
		t.Error("PKCS#12 round trip changed the key")
	}
}

func TestImportPKCS12RSA(t *testing.T) {
	s := NewStore(t.TempDir(), NewMemoryKeyStore())
	chain := newTestChain(t, rsaKey())
	p12, err := pkcs12.Modern.Encode(rsaKey(), chain.leaf, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.ImportPKCS12("rsa", p12, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Chain) != 1 || id.Fingerprint() != Fingerprint(chain.leaf) {
		t.Errorf("imported %s", id)
	}
}
