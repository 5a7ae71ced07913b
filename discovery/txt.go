package discovery

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"peersync/syncengine/endpoint"
)

// TXT record keys and values announced with every service.
const (
	ServiceType = "_peersync._tcp"
	Protocol    = "CBMobile_3"
	txtVersion  = 1

	keyPeerID      = "id"
	keyDatabase    = "db"
	keyProtocol    = "proto"
	keyTLS         = "tls"
	keyFingerprint = "fp"
	keyVersion     = "v"
	keyPath        = "path" // DNS-SD's key for the URL path: ws[s]://host:port<path>

	// maxTXTString is the DNS limit on one TXT character-string.
	maxTXTString = 255
)

// ErrBadTXT reports a TXT record that does not describe a PeerSync listener.
var ErrBadTXT = errors.New("discovery: not a valid PeerSync TXT record")

// txtInfo is what a PeerSync TXT record says about a listener.
type txtInfo struct {
	PeerID      string
	Database    string
	TLS         bool
	Fingerprint string // lowercase hex; empty without TLS
}

// encodeTXT returns the TXT strings for a service, in raw (unescaped) form.
func encodeTXT(info txtInfo) ([]string, error) {
	tls := "0"
	if info.TLS {
		tls = "1"
	}
	fields := []string{
		keyPeerID + "=" + info.PeerID,
		keyDatabase + "=" + info.Database,
		keyProtocol + "=" + Protocol,
		keyTLS + "=" + tls,
	}
	if info.TLS {
		fields = append(fields, keyFingerprint+"="+info.Fingerprint)
	}
	// The shown URL's path, for browsers other than ours (we build the URL
	// from db); left out when a long name would not fit.
	if path := keyPath + "=" + endpoint.Path(info.Database); len(path) <= maxTXTString {
		fields = append(fields, path)
	}
	fields = append(fields, keyVersion+"="+strconv.Itoa(txtVersion))
	for _, f := range fields {
		if len(f) > maxTXTString {
			return nil, fmt.Errorf("discovery: TXT entry %.20q… is %d bytes, over the limit of %d", f, len(f), maxTXTString)
		}
	}
	return fields, nil
}

// parseTXT reads raw TXT strings. Keys are case-insensitive and only the
// first occurrence of a key counts (RFC 6763 §6.4); unknown keys are ignored
// so later versions can add some.
func parseTXT(fields []string) (txtInfo, error) {
	values := make(map[string]string, len(fields))
	for _, f := range fields {
		key, value, _ := strings.Cut(f, "=")
		key = strings.ToLower(key)
		if key == "" {
			continue
		}
		if _, seen := values[key]; !seen {
			values[key] = value
		}
	}
	var info txtInfo
	if v, ok := values[keyVersion]; !ok {
		return info, fmt.Errorf("%w: no %q key", ErrBadTXT, keyVersion)
	} else if n, err := strconv.Atoi(v); err != nil || n < 1 {
		return info, fmt.Errorf("%w: version %q is not a positive number", ErrBadTXT, v)
	}
	if p := values[keyProtocol]; p != Protocol {
		return info, fmt.Errorf("%w: protocol %q, want %q", ErrBadTXT, p, Protocol)
	}
	info.PeerID = values[keyPeerID]
	if info.PeerID == "" {
		return info, fmt.Errorf("%w: no peer ID", ErrBadTXT)
	}
	info.Database = values[keyDatabase]
	if info.Database == "" {
		return info, fmt.Errorf("%w: no database", ErrBadTXT)
	}
	switch t := values[keyTLS]; t {
	case "1":
		info.TLS = true
	case "0", "":
	default:
		return info, fmt.Errorf("%w: tls=%q, want 1 or 0", ErrBadTXT, t)
	}
	if info.TLS {
		fp, err := normaliseFingerprint(values[keyFingerprint])
		if err != nil {
			return info, fmt.Errorf("%w: %v", ErrBadTXT, err)
		}
		info.Fingerprint = fp
	}
	return info, nil
}

// normaliseFingerprint accepts a SHA-256 fingerprint as 64 hex digits,
// optionally colon-separated, and returns it as lowercase hex.
func normaliseFingerprint(fp string) (string, error) {
	digits := strings.ToLower(strings.ReplaceAll(fp, ":", ""))
	if len(digits) != 64 {
		return "", fmt.Errorf("fingerprint %.80q: want 64 hex digits (SHA-256), got %d", fp, len(digits))
	}
	if _, err := hex.DecodeString(digits); err != nil {
		return "", fmt.Errorf("fingerprint %.80q is not hexadecimal", fp)
	}
	return digits, nil
}

// escapeTXT writes a raw TXT string in the text form miekg/dns packs:
// backslash and quote are escaped, bytes outside printable ASCII become \DDD.
func escapeTXT(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeTXT undoes the escaping miekg/dns applies when it decodes a TXT
// string: \DDD is a byte in decimal, \X is X.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		if n, ok := decimalByte(s[i:]); ok {
			b.WriteByte(n)
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// decimalByte reads three decimal digits worth at most 255.
func decimalByte(s string) (byte, bool) {
	if len(s) < 3 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s[:3]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > 255 {
		return 0, false
	}
	return byte(n), true
}
