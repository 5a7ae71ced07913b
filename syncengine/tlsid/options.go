package tlsid

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"strings"
	"time"
)

// KeyUsage is a bit set saying what a certificate may be used for.
type KeyUsage int

const (
	// UsageServer marks a certificate for a TLS server (the listener).
	UsageServer KeyUsage = 1 << iota
	// UsageClient marks a certificate for TLS client authentication (the replicator).
	UsageClient
)

// allUsages is every bit this package knows.
const allUsages = UsageServer | UsageClient

// DefaultValidity is used when CreateOptions.Validity is zero.
const DefaultValidity = 365 * 24 * time.Hour

// String lists the set bits, e.g. "server|client".
func (u KeyUsage) String() string {
	var parts []string
	if u&UsageServer != 0 {
		parts = append(parts, "server")
	}
	if u&UsageClient != 0 {
		parts = append(parts, "client")
	}
	if rest := u &^ allUsages; rest != 0 {
		parts = append(parts, fmt.Sprintf("unknown(%#x)", int(rest)))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// extKeyUsages maps the bit set to X.509 extended key usages.
func (u KeyUsage) extKeyUsages() []x509.ExtKeyUsage {
	var out []x509.ExtKeyUsage
	if u&UsageServer != 0 {
		out = append(out, x509.ExtKeyUsageServerAuth)
	}
	if u&UsageClient != 0 {
		out = append(out, x509.ExtKeyUsageClientAuth)
	}
	return out
}

// usageOf reads the bit set back from a certificate. A certificate without
// extended key usages may be used for anything, so it gets both bits.
func usageOf(cert *x509.Certificate) KeyUsage {
	if len(cert.ExtKeyUsage) == 0 {
		return allUsages
	}
	var u KeyUsage
	for _, e := range cert.ExtKeyUsage {
		switch e {
		case x509.ExtKeyUsageServerAuth:
			u |= UsageServer
		case x509.ExtKeyUsageClientAuth:
			u |= UsageClient
		case x509.ExtKeyUsageAny:
			u |= allUsages
		}
	}
	return u
}

// Attributes are the subject fields and alternative names of a new certificate.
type Attributes struct {
	CommonName         string // required
	Organization       string
	OrganizationalUnit string
	Locality           string
	Province           string
	Country            string
	DNSNames           []string
	IPAddresses        []net.IP
	EmailAddresses     []string
}

// subject builds the certificate's distinguished name.
func (a Attributes) subject() pkix.Name {
	name := pkix.Name{CommonName: a.CommonName}
	add := func(dst *[]string, v string) {
		if v != "" {
			*dst = []string{v}
		}
	}
	add(&name.Organization, a.Organization)
	add(&name.OrganizationalUnit, a.OrganizationalUnit)
	add(&name.Locality, a.Locality)
	add(&name.Province, a.Province)
	add(&name.Country, a.Country)
	return name
}

// CreateOptions describe a new self-signed identity.
type CreateOptions struct {
	Label      string
	Attributes Attributes
	Usage      KeyUsage
	Validity   time.Duration // zero means DefaultValidity

	// notBefore, when set, replaces "now" as the start of validity. Only
	// tests set it, to make identities that are already expired.
	notBefore time.Time
}

// validate checks the options and returns them with defaults applied.
func (o CreateOptions) validate() (CreateOptions, error) {
	if err := validateLabel(o.Label); err != nil {
		return o, err
	}
	if strings.TrimSpace(o.Attributes.CommonName) == "" {
		return o, fmt.Errorf("%w: identity %q: Attributes.CommonName is required", ErrInvalid, o.Label)
	}
	if o.Usage == 0 {
		return o, fmt.Errorf("%w: identity %q: Usage is empty; set UsageServer, UsageClient or both", ErrInvalid, o.Label)
	}
	if o.Usage&^allUsages != 0 {
		return o, fmt.Errorf("%w: identity %q: unknown usage bits %s", ErrInvalid, o.Label, o.Usage)
	}
	if o.Validity < 0 {
		return o, fmt.Errorf("%w: identity %q: Validity %v must be positive", ErrInvalid, o.Label, o.Validity)
	}
	if o.Validity == 0 {
		o.Validity = DefaultValidity
	}
	if c := o.Attributes.Country; c != "" && len(c) != 2 {
		return o, fmt.Errorf("%w: identity %q: Country %q must be a two-letter code", ErrInvalid, o.Label, c)
	}
	if o.Usage&UsageServer != 0 && len(o.Attributes.DNSNames)+len(o.Attributes.IPAddresses) == 0 {
		served := ServedNames(nil)
		o.Attributes.DNSNames, o.Attributes.IPAddresses = served.DNSNames, served.IPAddresses
	}
	for _, d := range o.Attributes.DNSNames {
		if _, err := checkDNSName(d); err != nil {
			return o, fmt.Errorf("identity %q: %w", o.Label, err)
		}
	}
	for _, ip := range o.Attributes.IPAddresses {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return o, fmt.Errorf("%w: identity %q: malformed IP address %v", ErrInvalid, o.Label, []byte(ip))
		}
	}
	return o, nil
}
