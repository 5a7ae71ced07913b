package tlsid

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

// fingerprintHexLen is the length of a SHA-256 digest written as hex.
const fingerprintHexLen = 2 * sha256.Size

// Fingerprint returns the SHA-256 of the certificate's DER encoding as
// lowercase hex without separators. It returns "" for a nil certificate.
func Fingerprint(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// FormatFingerprint renders a hex fingerprint for people: uppercase byte
// pairs separated by colons, "AB:CD:...". Colons already present are
// dropped first, so formatting twice gives the same result.
func FormatFingerprint(fp string) string {
	fp = strings.ToUpper(strings.ReplaceAll(fp, ":", ""))
	var b strings.Builder
	b.Grow(len(fp) + len(fp)/2)
	for i := 0; i < len(fp); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(fp[i:min(i+2, len(fp))])
	}
	return b.String()
}

// ShortCode is the first 64 bits of a fingerprint as four groups of hex
// digits, "ABCD-EF01-2345-6789": short enough for two people to read to
// each other, long enough that no one can make a certificate to match it.
func ShortCode(fp string) string {
	fp = strings.ToUpper(strings.ReplaceAll(fp, ":", ""))
	if len(fp) < 16 {
		return fp
	}
	return fp[0:4] + "-" + fp[4:8] + "-" + fp[8:12] + "-" + fp[12:16]
}

// ParseFingerprint accepts a SHA-256 fingerprint as 64 hex digits, either
// plain or as colon-separated byte pairs, in any case, with surrounding
// space ignored. It returns the canonical lowercase form used by Fingerprint.
func ParseFingerprint(s string) (string, error) {
	s = strings.TrimSpace(s)
	digits := s
	if strings.Contains(s, ":") {
		pairs := strings.Split(s, ":")
		for _, p := range pairs {
			if len(p) != 2 {
				return "", fmt.Errorf("%w: fingerprint %q: colons must separate pairs of hex digits", ErrInvalid, s)
			}
		}
		digits = strings.Join(pairs, "")
	}
	if len(digits) != fingerprintHexLen {
		return "", fmt.Errorf("%w: fingerprint %q: want %d hex digits (SHA-256), got %d", ErrInvalid, s, fingerprintHexLen, len(digits))
	}
	if _, err := hex.DecodeString(digits); err != nil {
		return "", fmt.Errorf("%w: fingerprint %q: not hexadecimal", ErrInvalid, s)
	}
	return strings.ToLower(digits), nil
}
