package tlsid

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// ImportPEM stores a PEM bundle holding a certificate chain and its private
// key (PKCS#8, or the older SEC 1 "EC PRIVATE KEY" / PKCS#1 "RSA PRIVATE KEY"
// forms; ECDSA or RSA) under a new label. The key must belong to the leaf; a
// bundle listing the leaf after its issuers is reordered leaf first.
func (s *Store) ImportPEM(label string, pemData []byte) (*Identity, error) {
	if err := validateLabel(label); err != nil {
		return nil, err
	}
	chain, key, err := parseBundle(pemData)
	if err != nil {
		return nil, fmt.Errorf("import %q: %w", label, err)
	}
	return s.importChain(label, chain, key)
}

// ImportPKCS12 stores the key and chain of a PKCS#12 (.p12/.pfx) file under
// a new label. password may be empty for unprotected files.
func (s *Store) ImportPKCS12(label string, data []byte, password string) (*Identity, error) {
	if err := validateLabel(label); err != nil {
		return nil, err
	}
	rawKey, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, fmt.Errorf("%w: import %q: PKCS#12: %v", ErrInvalid, label, err)
	}
	key, err := checkKeyType(rawKey)
	if err != nil {
		return nil, fmt.Errorf("import %q: %w", label, err)
	}
	return s.importChain(label, append([]*x509.Certificate{leaf}, cas...), key)
}

func (s *Store) importChain(label string, chain []*x509.Certificate, key crypto.Signer) (*Identity, error) {
	chain, err := orderChain(chain, key)
	if err != nil {
		return nil, fmt.Errorf("import %q: %w", label, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(label, chain, key)
}
