package tlsid

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParseFingerprint(f *testing.F) {
	const fp = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	for _, s := range []string{fp, FormatFingerprint(fp), "", ":", "AB:CD", " " + fp + " ", "é" + fp[2:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFingerprint(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(got) != fingerprintHexLen || strings.ToLower(got) != got {
			t.Fatalf("ParseFingerprint(%q) = %q, not canonical", s, got)
		}
		// Canonical and display forms must both parse back to the same value.
		for _, again := range []string{got, FormatFingerprint(got)} {
			if back, err := ParseFingerprint(again); err != nil || back != got {
				t.Fatalf("re-parse of %q gave %q, %v", again, back, err)
			}
		}
	})
}

func FuzzImportPEM(f *testing.F) {
	s := NewStore(f.TempDir(), NewMemoryKeyStore())
	id := mustCreate(f, s, "seed", UsageServer)
	key, err := id.PrivateKeyPEM()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(concat(id.ChainPEM(), key))
	f.Add(id.ChainPEM())
	f.Add(key)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		store := NewStore(t.TempDir(), NewMemoryKeyStore())
		imp, err := store.ImportPEM("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		// Whatever was accepted must be stored whole and usable for TLS.
		got, err := store.Get("fuzz")
		if err != nil {
			t.Fatalf("accepted import cannot be read back: %v", err)
		}
		if got.Fingerprint() != imp.Fingerprint() || !keyMatches(got.Certificate(), got.key) {
			t.Fatal("stored identity differs from the accepted import")
		}
		_ = got.TLSCertificate()
	})
}

func FuzzParseChainPEM(f *testing.F) {
	id := mustCreate(f, NewStore(f.TempDir(), NewMemoryKeyStore()), "seed", UsageClient)
	f.Add(id.ChainPEM())
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		chain, err := parseChainPEM(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(chain) == 0 {
			t.Fatal("no error but no certificates")
		}
	})
}
