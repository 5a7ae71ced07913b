package tlsid

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// AnonymousCommonName is the subject of the listener's anonymous identity.
const AnonymousCommonName = "PeerSync Anonymous"

// clockSkew backdates new certificates so a peer whose clock runs a little
// behind does not see them as not yet valid.
const clockSkew = time.Minute

// CreateSelfSigned makes a new ECDSA P-256 key and a self-signed certificate
// for it, and stores both under opts.Label, which must be new. The
// certificate carries key usage (digital signature) and extended key
// usages for opts.Usage; a server identity given no DNS names or IP
// addresses gets ServedNames(nil), so clients can verify its host.
func (s *Store) CreateSelfSigned(opts CreateOptions) (*Identity, error) {
	opts, err := opts.validate()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createLocked(opts)
}

func (s *Store) createLocked(opts CreateOptions) (*Identity, error) {
	if hasFile(s.chainPath(opts.Label)) {
		return nil, fmt.Errorf("%w: identity %q already exists", ErrExists, opts.Label)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlsid: generate key: %w", err)
	}
	cert, err := selfSign(opts, key)
	if err != nil {
		return nil, err
	}
	return s.addLocked(opts.Label, []*x509.Certificate{cert}, key)
}

// selfSign issues the certificate described by opts for key, signed by key.
func selfSign(opts CreateOptions, key *ecdsa.PrivateKey) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("tlsid: make serial number: %w", err)
	}
	now := time.Now()
	notBefore, notAfter := now.Add(-clockSkew), now.Add(opts.Validity)
	if !opts.notBefore.IsZero() {
		notBefore, notAfter = opts.notBefore, opts.notBefore.Add(opts.Validity)
	}
	a := opts.Attributes
	template := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)), // serials must be positive
		Subject:               a.subject(),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           opts.Usage.extKeyUsages(),
		BasicConstraintsValid: true,
		DNSNames:              a.DNSNames,
		IPAddresses:           a.IPAddresses,
		EmailAddresses:        a.EmailAddresses,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("%w: identity %q: create certificate: %v", ErrInvalid, opts.Label, err)
	}
	return x509.ParseCertificate(der)
}

// GetOrCreateAnonymous is GetOrCreateAnonymousFor with the names a server
// bound to every interface serves.
func (s *Store) GetOrCreateAnonymous(label string) (*Identity, error) {
	return s.GetOrCreateAnonymousFor(label, ServedNames(nil))
}

// GetOrCreateAnonymousFor returns the listener's anonymous self-signed
// server identity stored under label, creating it (CN "PeerSync
// Anonymous", server usage, DefaultValidity, names as subject alternative
// names) the first time. Later calls, also after a restart, return the
// same identity and fingerprint while it carries every one of names. It is
// replaced when it does not (the listener serves an address or host name
// it lacks, so clients that trust it as a root would fail to verify the
// host), when it is not marked for server use, when it has expired, or
// when its private key is gone (for example after the key store moved from
// keyring to files). A replacement covers names and the old names too.
func (s *Store) GetOrCreateAnonymousFor(label string, names AltNames) (*Identity, error) {
	if err := validateLabel(label); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.Get(label)
	switch {
	case err == nil && !id.Expired(time.Now()) && id.Usage()&UsageServer != 0 && len(id.Certificate().ExtKeyUsage) > 0 &&
		names.CoveredBy(id.Certificate()):
		return id, nil
	case err == nil || errors.Is(err, ErrNotFound):
		// Expired, never made, half there, or short of names: start afresh.
		if err == nil {
			names = names.Merge(AltNames{DNSNames: id.Certificate().DNSNames, IPAddresses: id.Certificate().IPAddresses})
		}
		if err := s.deleteLocked(label); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	default:
		return nil, err
	}
	if len(names.DNSNames)+len(names.IPAddresses) == 0 {
		names = ServedNames(nil)
	}
	return s.createLocked(CreateOptions{
		Label:      label,
		Attributes: Attributes{CommonName: AnonymousCommonName, DNSNames: names.DNSNames, IPAddresses: names.IPAddresses},
		Usage:      UsageServer,
		Validity:   DefaultValidity,
	})
}
