package discovery

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestEncodeTXT(t *testing.T) {
	got, err := encodeTXT(txtInfo{PeerID: "p1", Database: "notes", TLS: true, Fingerprint: testFingerprint})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"id=p1", "db=notes", "proto=CBMobile_3", "tls=1", "fp=" + testFingerprint, "path=/notes", "v=1"}
	if !slices.Equal(got, want) {
		t.Errorf("with TLS: got %q, want %q", got, want)
	}

	got, err = encodeTXT(txtInfo{PeerID: "p1", Database: "notes", Fingerprint: testFingerprint})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"id=p1", "db=notes", "proto=CBMobile_3", "tls=0", "path=/notes", "v=1"}
	if !slices.Equal(got, want) {
		t.Errorf("without TLS: got %q, want %q (no fingerprint)", got, want)
	}

	if _, err := encodeTXT(txtInfo{PeerID: "p1", Database: strings.Repeat("d", 253)}); err == nil {
		t.Error("a 256-byte TXT entry was accepted")
	}
	// The path is the shown URL's ("/" and the escaped name), and only
	// what fits is announced.
	got, err = encodeTXT(txtInfo{PeerID: "p1", Database: "my notes"})
	if err != nil || !slices.Contains(got, "path=/my%20notes") {
		t.Errorf("path of a name with a space: %q, %v", got, err)
	}
	got, err = encodeTXT(txtInfo{PeerID: "p1", Database: strings.Repeat("d", 250)})
	if err != nil || slices.ContainsFunc(got, func(f string) bool { return strings.HasPrefix(f, "path=") }) {
		t.Errorf("a path over the limit: %q, %v", got, err)
	}
}

func TestParseTXTRoundTrip(t *testing.T) {
	for _, in := range []txtInfo{
		{PeerID: "p1", Database: "notes"},
		{PeerID: "p1", Database: "ünïcode db", TLS: true, Fingerprint: testFingerprint},
		{PeerID: "p=1", Database: "a=b"},
	} {
		fields, err := encodeTXT(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseTXT(fields)
		if err != nil {
			t.Fatalf("parse %q: %v", fields, err)
		}
		if got != in {
			t.Errorf("round trip: got %+v, want %+v", got, in)
		}
	}
}

func TestParseTXTRules(t *testing.T) {
	base := []string{"id=p1", "db=notes", "proto=CBMobile_3", "v=1"}
	with := func(extra ...string) []string { return append(slices.Clone(extra), base...) }

	ok := map[string]struct {
		fields []string
		want   txtInfo
	}{
		"keys are case-insensitive":   {[]string{"ID=p1", "DB=notes", "Proto=CBMobile_3", "V=1"}, txtInfo{PeerID: "p1", Database: "notes"}},
		"first key wins":              {with("db=first"), txtInfo{PeerID: "p1", Database: "first"}},
		"unknown keys ignored":        {with("colour=blue", "flag", "=x"), txtInfo{PeerID: "p1", Database: "notes"}},
		"later version accepted":      {[]string{"v=2", "id=p1", "db=notes", "proto=CBMobile_3"}, txtInfo{PeerID: "p1", Database: "notes"}},
		"colon fingerprint":           {with("tls=1", "fp="+strings.ToUpper(colonise(testFingerprint))), txtInfo{PeerID: "p1", Database: "notes", TLS: true, Fingerprint: testFingerprint}},
		"fingerprint ignored w/o tls": {with("tls=0", "fp=junk"), txtInfo{PeerID: "p1", Database: "notes"}},
	}
	for name, tc := range ok {
		got, err := parseTXT(tc.fields)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", name, got, err, tc.want)
		}
	}

	bad := map[string][]string{
		"empty":               nil,
		"no version":          {"id=p1", "db=notes", "proto=CBMobile_3"},
		"bad version":         with("v=one"),
		"zero version":        {"v=0", "id=p1", "db=notes", "proto=CBMobile_3"},
		"other protocol":      {"proto=CBMobile_2", "id=p1", "db=notes", "v=1"},
		"no protocol":         {"id=p1", "db=notes", "v=1"},
		"no peer ID":          {"id=", "db=notes", "proto=CBMobile_3", "v=1"},
		"no database":         {"id=p1", "proto=CBMobile_3", "v=1"},
		"bad tls":             with("tls=yes"),
		"tls without fp":      with("tls=1"),
		"short fingerprint":   with("tls=1", "fp=abcd"),
		"non-hex fingerprint": with("tls=1", "fp="+strings.Repeat("g", 64)),
	}
	for name, fields := range bad {
		if _, err := parseTXT(fields); !errors.Is(err, ErrBadTXT) {
			t.Errorf("%s: %q gave %v, want ErrBadTXT", name, fields, err)
		}
	}
}

func colonise(hexDigits string) string {
	var pairs []string
	for i := 0; i < len(hexDigits); i += 2 {
		pairs = append(pairs, hexDigits[i:i+2])
	}
	return strings.Join(pairs, ":")
}

// TestTXTEscapingMatchesMiekg checks our escaping against the DNS library
// itself: what we hand it must reach the wire as the raw bytes, and what it
// decodes must unescape back to them.
func TestTXTEscapingMatchesMiekg(t *testing.T) {
	raw := []string{"plain", `quote " and \ backslash`, "ünïcode — dash", "ctrl\x00\x01\x7f\xff", `\065 literal`, ""}
	escaped := make([]string, len(raw))
	for i, r := range raw {
		escaped[i] = escapeTXT(r)
	}
	msg := new(dns.Msg)
	msg.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: "x.local.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: escaped}}
	wire, err := msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	// The raw bytes must be on the wire as length-prefixed strings.
	var want []byte
	for _, r := range raw {
		want = append(want, byte(len(r)))
		want = append(want, r...)
	}
	if !strings.HasSuffix(string(wire), string(want)) {
		t.Errorf("wire does not end with the raw strings:\n got %q\nwant suffix %q", wire, want)
	}

	var back dns.Msg
	if err := back.Unpack(wire); err != nil {
		t.Fatal(err)
	}
	decoded := back.Answer[0].(*dns.TXT).Txt
	for i := range raw {
		if got := unescapeTXT(decoded[i]); got != raw[i] {
			t.Errorf("string %d: unescape(%q) = %q, want %q", i, decoded[i], got, raw[i])
		}
	}
}
