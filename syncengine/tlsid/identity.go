package tlsid

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Identity is a certificate chain, leaf first, and the leaf's private key.
type Identity struct {
	Label string
	Chain []*x509.Certificate

	key crypto.Signer
}

// Certificate returns the leaf certificate, or nil for an empty chain.
func (id *Identity) Certificate() *x509.Certificate {
	if id == nil || len(id.Chain) == 0 {
		return nil
	}
	return id.Chain[0]
}

// TLSCertificate returns the chain and key ready for tls.Config.Certificates
// (server) or tls.Config.GetClientCertificate (client).
func (id *Identity) TLSCertificate() tls.Certificate {
	raw := make([][]byte, len(id.Chain))
	for i, c := range id.Chain {
		raw[i] = c.Raw
	}
	return tls.Certificate{Certificate: raw, PrivateKey: id.key, Leaf: id.Certificate()}
}

// Fingerprint returns the SHA-256 of the leaf's DER encoding, lowercase hex.
func (id *Identity) Fingerprint() string {
	return Fingerprint(id.Certificate())
}

// Expires returns the leaf's NotAfter time (zero for an empty chain).
func (id *Identity) Expires() time.Time {
	if leaf := id.Certificate(); leaf != nil {
		return leaf.NotAfter
	}
	return time.Time{}
}

// Expired reports whether the leaf is outside its validity period at now.
// An identity without a certificate counts as expired.
func (id *Identity) Expired(now time.Time) bool {
	leaf := id.Certificate()
	return leaf == nil || now.After(leaf.NotAfter) || now.Before(leaf.NotBefore)
}

// Usage returns what the leaf may be used for, read from its extended key usages.
func (id *Identity) Usage() KeyUsage {
	if leaf := id.Certificate(); leaf != nil {
		return usageOf(leaf)
	}
	return 0
}

// ChainPEM returns the chain as concatenated PEM CERTIFICATE blocks, leaf first.
// It holds no key material.
func (id *Identity) ChainPEM() []byte {
	return encodeChainPEM(id.Chain)
}

// PrivateKeyPEM returns the private key as a PEM "PRIVATE KEY" (PKCS#8)
// block. Call it only when the user explicitly exports the key.
func (id *Identity) PrivateKeyPEM() ([]byte, error) {
	if id == nil || id.key == nil {
		return nil, fmt.Errorf("%w: identity has no private key (only Store methods make complete identities)", ErrInvalid)
	}
	return encodeKeyPEM(id.key)
}

// PKCS12 exports chain and key as a PKCS#12 file protected by password,
// using modern algorithms (AES-256, PBKDF2).
func (id *Identity) PKCS12(password string) ([]byte, error) {
	if id.Certificate() == nil || id.key == nil {
		return nil, fmt.Errorf("%w: identity needs a certificate and a private key to export", ErrInvalid)
	}
	data, err := pkcs12.Modern.Encode(id.key, id.Chain[0], id.Chain[1:], password)
	if err != nil {
		return nil, fmt.Errorf("tlsid: export %q as PKCS#12: %w", id.Label, err)
	}
	return data, nil
}

// String names the identity without any key material.
func (id *Identity) String() string {
	leaf := id.Certificate()
	if leaf == nil {
		return id.Label + " (no certificate)"
	}
	return fmt.Sprintf("%s (CN=%q, %s, expires %s, SHA-256 %s)", id.Label,
		leaf.Subject.CommonName, id.Usage(), id.Expires().UTC().Format(time.RFC3339), id.Fingerprint())
}

// IsSelfSigned reports whether the certificate's issuer is its own subject
// and its signature verifies with its own public key.
func IsSelfSigned(cert *x509.Certificate) bool {
	if cert == nil || !bytes.Equal(cert.RawIssuer, cert.RawSubject) {
		return false
	}
	return cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
}

// encodeChainPEM writes certificates as PEM CERTIFICATE blocks.
func encodeChainPEM(chain []*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range chain {
		// Writing to a bytes.Buffer cannot fail.
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// encodeKeyPEM writes a private key as a PKCS#8 PEM block.
func encodeKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tlsid: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
