package tlsid

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
)

// AltNames are a certificate's subject alternative names: what a client
// may call the server and still verify it. Clients check only these, not
// the common name.
type AltNames struct {
	DNSNames    []string
	IPAddresses []net.IP
}

// ServedNames are the names a server bound to bound can be reached by:
// "localhost", the machine's host name, the loopback addresses, and bound
// itself, or every interface address when bound is nil or unspecified
// (IPv6 link-local addresses are left out, as listeners do not show them).
func ServedNames(bound net.IP) AltNames {
	var n AltNames
	n.addDNS("localhost")
	if host, err := os.Hostname(); err == nil {
		if name, err := checkDNSName(host); err == nil {
			n.addDNS(name)
		}
	}
	n.addIP(net.IPv4(127, 0, 0, 1))
	n.addIP(net.IPv6loopback)
	if bound != nil && !bound.IsUnspecified() {
		n.addIP(bound)
		return n
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() && !ipn.IP.IsMulticast() {
				n.addIP(ipn.IP)
			}
		}
	}
	return n
}

// ParseAltNames reads names as given on a command line: each is an IP
// address or a DNS name (a leading "*." makes a wildcard).
func ParseAltNames(values []string) (AltNames, error) {
	var n AltNames
	for _, v := range values {
		v = strings.TrimSpace(v)
		if ip := net.ParseIP(strings.Trim(v, "[]")); ip != nil {
			n.addIP(ip)
			continue
		}
		name, err := checkDNSName(v)
		if err != nil {
			return AltNames{}, err
		}
		n.addDNS(name)
	}
	return n, nil
}

// Merge returns n with other's names added (no duplicates).
func (n AltNames) Merge(other AltNames) AltNames {
	out := AltNames{DNSNames: slices.Clone(n.DNSNames), IPAddresses: slices.Clone(n.IPAddresses)}
	for _, d := range other.DNSNames {
		out.addDNS(d)
	}
	for _, ip := range other.IPAddresses {
		out.addIP(ip)
	}
	return out
}

// CoveredBy reports whether cert carries every one of n's names.
func (n AltNames) CoveredBy(cert *x509.Certificate) bool {
	for _, d := range n.DNSNames {
		if !slices.ContainsFunc(cert.DNSNames, func(c string) bool { return strings.EqualFold(c, d) }) {
			return false
		}
	}
	for _, ip := range n.IPAddresses {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

func (n *AltNames) addDNS(name string) {
	name = strings.ToLower(name)
	if !slices.Contains(n.DNSNames, name) {
		n.DNSNames = append(n.DNSNames, name)
	}
}

func (n *AltNames) addIP(ip net.IP) {
	if ip4 := ip.To4(); ip4 != nil {
		ip = ip4
	}
	if !slices.ContainsFunc(n.IPAddresses, ip.Equal) {
		n.IPAddresses = append(n.IPAddresses, slices.Clone(ip))
	}
}

// checkDNSName accepts a host name of letters, digits, hyphens and dots
// (labels of 1 to 63 bytes, not starting or ending with a hyphen, 253
// bytes in all), optionally "*." first; it returns it lower-cased without
// a trailing dot.
func checkDNSName(s string) (string, error) {
	name := strings.ToLower(strings.TrimSuffix(s, "."))
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: subject alternative name %q is neither an IP address nor a DNS name (%s)", ErrInvalid, s, why)
	}
	if name == "" || len(name) > 253 {
		return bad("length must be 1 to 253")
	}
	labels := strings.Split(strings.TrimPrefix(name, "*."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return bad("each label is 1 to 63 characters")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return bad("a label may not start or end with a hyphen")
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return bad("only letters, digits, hyphens and dots")
			}
		}
	}
	return name, nil
}
