package syncengine

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/repl"
	"peersync/syncengine/tlsid"
)

// PinMismatchError reports a server certificate that is not the pinned one.
type PinMismatchError struct{ Want, Got string }

func (e *PinMismatchError) Error() string {
	return fmt.Sprintf("server certificate %s does not match the pinned certificate %s",
		tlsid.FormatFingerprint(e.Got), tlsid.FormatFingerprint(e.Want))
}

// ErrNotSelfSigned reports a CA-less certificate that is not self-signed
// when only self-signed ones are accepted.
var ErrNotSelfSigned = errors.New("server certificate is neither self-signed nor issued by a trusted authority")

// tlsConfig builds the client TLS settings: server trust per the config
// and a client certificate when one is configured.
func (r *Replicator) tlsConfig() (*tls.Config, error) {
	return clientTLSConfig(r.target, &r.cfg, r.noteServerCert)
}

// ClientTLSConfig returns the TLS settings a replicator with cfg uses for
// target (a ws:// or wss:// URL; nil for ws://), so tools that check a
// connection apply exactly the replicator's trust rules. onCert, when not
// nil, sees the handshake's state before the server certificate is judged,
// so a refused certificate can be shown and trusted.
func ClientTLSConfig(cfg ReplicatorConfig, target string, onCert func(*tls.ConnectionState)) (*tls.Config, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("target %q is not a ws:// or wss:// URL", target)
	}
	if cfg.PinnedServerFingerprint != "" {
		if cfg.PinnedServerFingerprint, err = tlsid.ParseFingerprint(cfg.PinnedServerFingerprint); err != nil {
			return nil, fmt.Errorf("pinned fingerprint: %w", err)
		}
	}
	if onCert == nil {
		onCert = func(*tls.ConnectionState) {}
	}
	return clientTLSConfig(u, &cfg, onCert)
}

func clientTLSConfig(target *url.URL, cfg *ReplicatorConfig, noteServerCert func(*tls.ConnectionState)) (*tls.Config, error) {
	if target.Scheme != "wss" {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(target.Host)
	if err != nil {
		host = target.Host
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if cc, ok := cfg.Authenticator.(ClientCertAuthenticator); ok {
		if cc.Identity == nil {
			return nil, errors.New("replicator: client certificate authentication without an identity")
		}
		cert := cc.Identity.TLSCertificate()
		tc.Certificates = []tls.Certificate{cert}
	}
	pin := cfg.PinnedServerFingerprint
	if cfg.PinnedServerCertificate != nil {
		pin = tlsid.Fingerprint(cfg.PinnedServerCertificate)
	}
	if pin == "" && !cfg.AcceptOnlySelfSignedServerCertificate {
		// System roots, checked here as crypto/tls would, but after noting
		// the certificate: a refused one is the one the user may then
		// choose to trust (pin).
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			noteServerCert(&cs)
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server presented no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: host, Intermediates: inter}); err != nil {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
			return nil
		}
		return tc, nil
	}
	// We verify ourselves: pinned, or self-signed, or a normal CA chain.
	tc.InsecureSkipVerify = true
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		noteServerCert(&cs)
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server presented no certificate")
		}
		leaf := cs.PeerCertificates[0]
		// Pinning and self-signed trust replace the chain check, not the
		// validity dates: an expired certificate is refused either way.
		if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
			return x509.CertificateInvalidError{Cert: leaf, Reason: x509.Expired,
				Detail: fmt.Sprintf("valid from %s to %s", leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))}
		}
		if pin != "" {
			if got := tlsid.Fingerprint(leaf); got != pin {
				return &PinMismatchError{Want: pin, Got: got}
			}
			return nil
		}
		if tlsid.IsSelfSigned(leaf) {
			return nil // the signature was checked by IsSelfSigned; the handshake proved the key
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Intermediates: inter}); err != nil {
			return fmt.Errorf("%w: %v", ErrNotSelfSigned, err)
		}
		return nil
	}
	return tc, nil
}

// IsUntrustedCertificate reports whether err is the server's certificate
// being refused by the trust settings (not trusted, pinned to another, or
// named for another host): the case where the user may choose to trust it.
// An expired certificate is not: trusting it would not help.
func IsUntrustedCertificate(err error) bool {
	var pin *PinMismatchError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var verify *tls.CertificateVerificationError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
		return false
	}
	return errors.As(err, &pin) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) ||
		errors.As(err, &verify) || errors.Is(err, ErrNotSelfSigned)
}

// IsTransient classifies a replication error as Couchbase Lite does:
// network trouble, overloaded servers and connections closed with 1006 or
// 4001 (a stopping listener) are retried;
// authentication, permission, missing databases, certificates and protocol
// errors are not.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var httpErr *blip.HTTPError
	var closeErr *blip.CloseError
	var blipErr *blip.Error
	var pin *PinMismatchError
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostErr x509.HostnameError
	var verifyErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var alertErr *TLSAlertError
	switch {
	case errors.As(err, &alertErr):
		return false // LiteCore retries no TLS error either
	case errors.As(err, &httpErr):
		return transientHandshakeStatus(httpErr.StatusCode)
	case errors.As(err, &closeErr):
		return transientCloseCode(closeErr.Code)
	case errors.As(err, &blipErr):
		if blipErr.Domain == "HTTP" {
			return transientStatus(blipErr.Code)
		}
		return blipErr.Code >= 500 && blipErr.Code != 501
	case errors.As(err, &pin), errors.As(err, &unknownCA), errors.As(err, &invalid), errors.As(err, &hostErr),
		errors.As(err, &verifyErr), errors.As(err, &recordErr),
		errors.Is(err, ErrNotSelfSigned), errors.Is(err, ErrTLSRequired), errors.Is(err, errPermanent),
		errors.Is(err, repl.ErrReadOnly), errors.Is(err, repl.ErrNotShared), errors.Is(err, repl.ErrProtocol),
		errors.Is(err, repl.ErrNoProgress):
		return false
	}
	msg := err.Error()
	for _, s := range []string{"tls: ", "x509: ", "bad certificate", "certificate required", "protocol version"} {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

// transientHandshakeStatus and transientCloseCode are LiteCore 3.2's list
// of transient WebSocket-domain errors (c4error_mayBeTransient): these
// HTTP statuses refusing the upgrade, and close codes 1006 (the connection
// dropped without a close frame) and 4001 (application transient). Every
// other close code ends the replication, 1000 and 1001 included: LiteCore
// reads a close it did not start as 1001 "going away" and stops for good.
func transientHandshakeStatus(code int) bool {
	switch code {
	case 408, 429, 502, 503, 504:
		return true
	}
	return false
}

func transientCloseCode(code int) bool {
	return code == blip.CloseAbnormal || code == blip.CloseAppTransient
}

// transientStatus classifies an HTTP-domain BLIP error reply: a peer's
// failing handler (500, such as a full disk) may recover, so it is retried.
func transientStatus(code int) bool {
	switch code {
	case 408, 429, 500, 502, 503, 504:
		return true
	}
	return false
}

// errPermanent marks errors from our own checks that retrying cannot fix.
var errPermanent = errors.New("permanent")
