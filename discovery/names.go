package discovery

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/miekg/dns"
)

const (
	// maxLabelBytes is the DNS limit on one label (RFC 1035 §2.3.4).
	maxLabelBytes = 63
	// nameSeparator joins the friendly name and the database in an
	// instance name.
	nameSeparator = " — "
	// fallbackName stands in for a name that sanitises to nothing.
	fallbackName = "PeerSync"
)

// instanceName builds the DNS-SD instance label for a friendly name and a
// database, e.g. "Alice's laptop — notes". The result is valid UTF-8 without
// control characters, dots or backslashes, and fits one DNS label; the name
// is shortened before the database so the database stays visible.
func instanceName(name, database string) string {
	name = cleanLabelText(name)
	database = cleanLabelText(database)
	if name == "" {
		name = fallbackName
	}
	if database == "" {
		return truncateUTF8(name, maxLabelBytes)
	}
	suffix := nameSeparator + database
	if room := maxLabelBytes - len(suffix); room >= 8 {
		return strings.TrimSpace(truncateUTF8(name, room)) + suffix
	}
	return truncateUTF8(name+suffix, maxLabelBytes)
}

// friendlyName recovers the friendly name from an instance label by removing
// the database suffix that instanceName added.
func friendlyName(label, database string) string {
	if database != "" {
		if name, ok := strings.CutSuffix(label, nameSeparator+cleanLabelText(database)); ok && name != "" {
			return name
		}
	}
	return label
}

// cleanLabelText replaces what a label must not carry: invalid UTF-8,
// control and format characters become spaces, dots and backslashes (which
// structure DNS names in text form) become hyphens; runs of space collapse.
func cleanLabelText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '.' || r == '\\':
			r = '-'
		case unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// labelPresentation writes a raw label the way miekg/dns prints names
// (escaping spaces, quotes and non-ASCII bytes), so that our zone matches the
// names in questions the library has decoded.
func labelPresentation(raw string) (string, error) {
	if raw == "" || len(raw) > maxLabelBytes {
		return "", errors.New("discovery: label must be 1 to 63 bytes")
	}
	wire := make([]byte, 0, len(raw)+2)
	wire = append(wire, byte(len(raw)))
	wire = append(wire, raw...)
	wire = append(wire, 0)
	name, _, err := dns.UnpackDomainName(wire, 0)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(name, "."), nil
}

// firstLabel returns the raw bytes of the first label of a name in
// presentation form, undoing its escapes.
func firstLabel(name string) (string, error) {
	name = dns.Fqdn(name)
	buf := make([]byte, len(name)+2)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return "", err
	}
	if n < 1 || buf[0] == 0 || int(buf[0])+1 > n {
		return "", errors.New("discovery: name has no labels")
	}
	return string(buf[1 : 1+int(buf[0])]), nil
}

// hostLabel turns a peer ID into a host name label: lowercase letters,
// digits and inner hyphens only.
func hostLabel(peerID string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(peerID) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('-')
		}
	}
	label := strings.Trim(truncateUTF8(b.String(), maxLabelBytes), "-")
	if label == "" {
		return "peersync"
	}
	return label
}
