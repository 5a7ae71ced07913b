package tlsid

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestFingerprintIsSHA256OfLeafDER(t *testing.T) {
	id := mustCreate(t, NewStore(t.TempDir(), NewMemoryKeyStore()), "fp", UsageServer)
	sum := sha256.Sum256(id.Certificate().Raw)
	want := hex.EncodeToString(sum[:])
	if id.Fingerprint() != want || Fingerprint(id.Certificate()) != want {
		t.Errorf("Fingerprint = %s, want %s", id.Fingerprint(), want)
	}
	if Fingerprint(nil) != "" {
		t.Error("Fingerprint(nil) is not empty")
	}
}

func TestFormatAndParseFingerprint(t *testing.T) {
	const fp = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	formatted := FormatFingerprint(fp)
	if !strings.HasPrefix(formatted, "00:11:22:33:44:55:66:77:88:99:AA:BB") || len(formatted) != 95 {
		t.Fatalf("FormatFingerprint = %q", formatted)
	}
	if FormatFingerprint(formatted) != formatted {
		t.Error("formatting a formatted fingerprint changed it")
	}
	for _, in := range []string{fp, strings.ToUpper(fp), formatted, strings.ToLower(formatted), "  " + formatted + "\n"} {
		got, err := ParseFingerprint(in)
		if err != nil || got != fp {
			t.Errorf("ParseFingerprint(%q) = %q, %v; want %q", in, got, err, fp)
		}
	}
	for _, bad := range []string{"", "abc", fp[:62], fp + "00", strings.Replace(fp, "a", "g", 1),
		"0:0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", formatted + ":", ":" + formatted} {
		if _, err := ParseFingerprint(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseFingerprint(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestShortCode(t *testing.T) {
	fp := "0123456789abcdef" + strings.Repeat("00", 24)
	for _, in := range []string{fp, FormatFingerprint(fp)} {
		if got := ShortCode(in); got != "0123-4567-89AB-CDEF" {
			t.Errorf("ShortCode(%q) = %q", in, got)
		}
	}
}
