package doctor

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// judgeTLS turns the handshake's outcome into a step: the certificate
// seen, whether the trust settings accepted it, and if not, the exact
// setting that would.
func judgeTLS(t *target, rep *Report, seen *tls.ConnectionState, err error) Step {
	var leaf *x509.Certificate
	version := ""
	if seen != nil {
		version = tls.VersionName(seen.Version)
		if len(seen.PeerCertificates) > 0 {
			leaf = seen.PeerCertificates[0]
		}
	}
	var verr *tls.CertificateVerificationError
	if leaf == nil && errors.As(err, &verr) && len(verr.UnverifiedCertificates) > 0 {
		leaf = verr.UnverifiedCertificates[0]
	}
	if leaf == nil {
		return tlsWithoutCertificate(err)
	}
	fp := tlsid.FormatFingerprint(tlsid.Fingerprint(leaf))
	rep.Certificate = &Certificate{Subject: leaf.Subject.String(), SANs: sans(leaf), Fingerprint: fp,
		NotAfter: leaf.NotAfter, SelfSigned: tlsid.IsSelfSigned(leaf)}
	about := describe(version, leaf, fp)
	pinFlag := "--pin " + fp
	pinGUI := "in the app: Replications → Trust server certificate…, or Edit… → Pin"
	if err == nil {
		switch {
		case t.PinnedFingerprint != "" || t.PinnedCertificate != nil:
			return pass(about + "; it is the pinned certificate")
		case t.AcceptSelfSigned && rep.Certificate.SelfSigned:
			return pass(about + "; accepted because self-signed certificates are (consider pinning it: " + pinFlag + ")")
		}
		return pass(about + "; issued by an authority this system trusts")
	}
	if st := tlsAfterHandshake(err); st.Detail != "" {
		st.Detail = about + "; but " + st.Detail
		return st
	}
	var pin *syncengine.PinMismatchError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	now := time.Now()
	switch {
	case now.After(leaf.NotAfter):
		return fail(fmt.Sprintf("%s; it expired on %s, so it is refused whatever the trust settings", about, leaf.NotAfter.Format(time.DateOnly)),
			"renew the certificate on the peer (a new identity, or delete the expired one so the listener makes a new anonymous one), then pin the new fingerprint")
	case now.Before(leaf.NotBefore):
		return fail(fmt.Sprintf("%s; it is valid only from %s", about, leaf.NotBefore.Format(time.RFC3339)),
			"check the clocks of both machines")
	case errors.As(err, &pin):
		return fail(fmt.Sprintf("%s; it is not the pinned certificate %s", about, tlsid.FormatFingerprint(pin.Want)),
			fmt.Sprintf("if the peer's certificate changed on purpose (compare the fingerprint the peer shows: `peersync listen` prints it, "+
				"the app's Listeners screen shows it), pin the new one: %s (%s); otherwise something else answers at this address", pinFlag, pinGUI))
	case rep.Certificate.SelfSigned:
		return fail(about+"; it is self-signed, and the trust settings accept only certificates from a trusted authority",
			fmt.Sprintf("after checking the fingerprint with the peer, pin it: %s (%s); or accept any self-signed certificate: --accept-self-signed (Edit… → Accept any self-signed certificate)", pinFlag, pinGUI))
	case errors.As(err, &hostErr):
		names := "none"
		if s := sans(leaf); len(s) > 0 {
			names = strings.Join(s, ", ")
		}
		return fail(fmt.Sprintf("%s; it is not valid for %q", about, t.host),
			fmt.Sprintf("connect by a name the certificate lists (%s), or pin it: %s (%s)", names, pinFlag, pinGUI))
	case errors.As(err, &unknownCA), errors.Is(err, syncengine.ErrNotSelfSigned):
		return fail(about+"; it was issued by an authority this system does not trust",
			fmt.Sprintf("install the issuing CA in the system's trust store, or pin the certificate: %s (%s)", pinFlag, pinGUI))
	}
	return fail(about+"; the handshake failed: "+err.Error(), "look at the peer's log for the reason it gives")
}

// tlsWithoutCertificate explains a handshake that failed before any
// certificate was seen.
func tlsWithoutCertificate(err error) Step {
	msg := err.Error()
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &rh) || strings.Contains(msg, "first record does not look like a TLS handshake"):
		return fail("the peer does not speak TLS on this port (it answered in plain text)",
			"use ws:// instead of wss://, or the port of the peer's TLS listener")
	case strings.Contains(msg, "protocol version"):
		return fail("the peer and this side share no TLS version (PeerSync needs TLS 1.2 or newer): "+msg,
			"upgrade the peer's TLS settings to TLS 1.2 or 1.3")
	case strings.Contains(msg, "handshake failure"):
		return fail("the peer broke off the TLS handshake: "+msg,
			"the peer may require a client certificate (--client-cert LABEL) or ciphers this side lacks; look at its log")
	}
	if st := tlsAfterHandshake(err); st.Detail != "" {
		return st
	}
	return fail("the TLS handshake failed: "+msg, "look at the peer's log; it may have dropped the connection")
}

func describe(version string, c *x509.Certificate, fp string) string {
	var b strings.Builder
	if version != "" {
		b.WriteString(version + "; ")
	}
	fmt.Fprintf(&b, "certificate %q", c.Subject.String())
	if s := sans(c); len(s) > 0 {
		fmt.Fprintf(&b, " for %s", strings.Join(s, ", "))
	}
	days := int(time.Until(c.NotAfter).Hours() / 24)
	fmt.Fprintf(&b, ", SHA-256 %s, valid until %s", fp, c.NotAfter.Format(time.DateOnly))
	if days >= 0 {
		fmt.Fprintf(&b, " (%d days left)", days)
	}
	return b.String()
}

func sans(c *x509.Certificate) []string {
	out := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}
