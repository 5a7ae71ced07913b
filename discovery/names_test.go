package discovery

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miekg/dns"
)

func TestInstanceName(t *testing.T) {
	tests := []struct{ name, db, want string }{
		{"Alice's laptop", "notes", "Alice's laptop — notes"},
		{"alice.example.com", "notes", "alice-example-com — notes"},
		{"back\\slash", "db", "back-slash — db"},
		{"  tabs\tand\nnew  lines ", "db", "tabs and new lines — db"},
		{"bell\x07zero\x00width\u200b", "db", "bell zero width — db"},
		{"bad \xff utf8", "db", "bad \uFFFD utf8 — db"},
		{"", "notes", "PeerSync — notes"},
		{"\x01\x02", "notes", "PeerSync — notes"},
		{"Ünïcödé 📓", "notizen", "Ünïcödé 📓 — notizen"},
	}
	for _, tc := range tests {
		if got := instanceName(tc.name, tc.db); got != tc.want {
			t.Errorf("instanceName(%q, %q) = %q, want %q", tc.name, tc.db, got, tc.want)
		}
	}
}

func TestInstanceNameFitsOneLabel(t *testing.T) {
	long := strings.Repeat("é", 60) // 120 bytes, two-byte runes
	got := instanceName(long, "notes")
	if len(got) > maxLabelBytes || !utf8.ValidString(got) {
		t.Fatalf("instanceName = %q (%d bytes, valid UTF-8 %v)", got, len(got), utf8.ValidString(got))
	}
	if !strings.HasSuffix(got, " — notes") {
		t.Errorf("database suffix cut off: %q", got)
	}
	if friendlyName(got, "notes") != strings.TrimSuffix(got, " — notes") {
		t.Errorf("friendlyName did not strip the suffix of %q", got)
	}

	// A database too long to keep whole still gives a valid label.
	got = instanceName("x", strings.Repeat("d", 100))
	if len(got) > maxLabelBytes || !strings.HasPrefix(got, "x — ddd") {
		t.Errorf("long database: %q (%d bytes)", got, len(got))
	}
}

func TestFriendlyName(t *testing.T) {
	tests := []struct{ label, db, want string }{
		{"Alice's laptop — notes", "notes", "Alice's laptop"},
		{"Alice's laptop — notes", "other", "Alice's laptop — notes"},
		{"host-a — my-db", "my.db", "host-a"}, // the suffix was sanitised too
		{" — notes", "notes", " — notes"},     // never return an empty name
	}
	for _, tc := range tests {
		if got := friendlyName(tc.label, tc.db); got != tc.want {
			t.Errorf("friendlyName(%q, %q) = %q, want %q", tc.label, tc.db, got, tc.want)
		}
	}
}

// TestLabelPresentationRoundTrip checks that a label we announce comes back
// unchanged after a trip through DNS wire format, as a browser would see it.
func TestLabelPresentationRoundTrip(t *testing.T) {
	for _, raw := range []string{"Alice's laptop — notes", `q"u(o)t;e@s $x`, "plain", "a\x00b"} {
		pres, err := labelPresentation(raw)
		if err != nil {
			t.Fatalf("labelPresentation(%q): %v", raw, err)
		}
		msg := new(dns.Msg)
		msg.SetQuestion(pres+"."+ServiceType+".local.", dns.TypeSRV)
		wire, err := msg.Pack()
		if err != nil {
			t.Fatalf("pack %q: %v", pres, err)
		}
		var back dns.Msg
		if err := back.Unpack(wire); err != nil {
			t.Fatal(err)
		}
		name := back.Question[0].Name
		if !strings.HasPrefix(name, pres+".") {
			t.Errorf("decoded name %q does not start with our presentation %q (zone lookups would miss)", name, pres)
		}
		if got, err := firstLabel(name); err != nil || got != raw {
			t.Errorf("firstLabel(%q) = %q, %v; want %q", name, got, err, raw)
		}
	}
	if _, err := labelPresentation(""); err == nil {
		t.Error("empty label accepted")
	}
	if _, err := labelPresentation(strings.Repeat("a", 64)); err == nil {
		t.Error("64-byte label accepted")
	}
}

func TestHostLabel(t *testing.T) {
	tests := map[string]string{
		"5D0B3F7E-2F43-4C1E-9D1A-7F1E3C2B9A10": "5d0b3f7e-2f43-4c1e-9d1a-7f1e3c2b9a10",
		"weird id!!":                           "weird-id",
		"---":                                  "peersync",
		"":                                     "peersync",
	}
	for in, want := range tests {
		if got := hostLabel(in); got != want {
			t.Errorf("hostLabel(%q) = %q, want %q", in, got, want)
		}
	}
	if got := hostLabel(strings.Repeat("a", 100)); len(got) != maxLabelBytes {
		t.Errorf("long host label has %d bytes", len(got))
	}
}
