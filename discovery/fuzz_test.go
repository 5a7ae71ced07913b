package discovery

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/mdns"

	"peersync/syncengine/endpoint"
)

// FuzzParseTXT feeds arbitrary TXT strings (as the library hands them over,
// escaped) through the browser's decoding. It must never panic, and what it
// accepts must survive being announced again.
func FuzzParseTXT(f *testing.F) {
	f.Add("id=p1\x00db=notes\x00proto=CBMobile_3\x00tls=1\x00fp="+testFingerprint+"\x00v=1", "a._peersync._tcp.local.")
	f.Add("v=1\x00proto=CBMobile_3\x00id=\\226\x00db=\\\\", `x\.y._peersync._tcp.local.`)
	f.Add("=\x00v\x00tls=2", "._peersync._tcp.local.")
	f.Fuzz(func(t *testing.T, joined, name string) {
		fields := strings.Split(joined, "\x00")
		e := &mdns.ServiceEntry{Name: name, Port: 1, InfoFields: fields, AddrV4: net.IPv4(10, 0, 0, 1)}
		s, err := sightingFromEntry(e, time.Time{})
		if err != nil {
			return
		}
		p := s.peer
		if p.PeerID == "" || p.Database == "" || (p.TLS && len(p.Fingerprint) != 64) {
			t.Fatalf("accepted an incomplete peer: %+v", p)
		}
		raw, err := encodeTXT(txtInfo{PeerID: p.PeerID, Database: p.Database, TLS: p.TLS, Fingerprint: p.Fingerprint})
		if err != nil {
			return // too long to announce; browsing it is still fine
		}
		again, err := parseTXT(raw)
		if err != nil || again.PeerID != p.PeerID || again.Database != p.Database || again.TLS != p.TLS || again.Fingerprint != p.Fingerprint {
			t.Fatalf("re-announced TXT %q parsed as %+v, %v; want %+v", raw, again, err, p)
		}
		_ = p.URL()
	})
}

// FuzzInstanceName checks that any friendly name and database give a label
// that is valid UTF-8, fits DNS, has no dots, backslashes or control
// characters, and reads back unchanged through the escaped form.
func FuzzInstanceName(f *testing.F) {
	f.Add("Alice's laptop", "notes")
	f.Add("a.b\\c\x00\xff", "d.b")
	f.Add(strings.Repeat("日本", 40), strings.Repeat("x", 70))
	f.Fuzz(func(t *testing.T, name, db string) {
		label := instanceName(name, db)
		if label == "" || len(label) > maxLabelBytes || !utf8.ValidString(label) {
			t.Fatalf("instanceName(%q, %q) = %q", name, db, label)
		}
		for _, r := range label {
			if r == '.' || r == '\\' || r < ' ' || r == 0x7f {
				t.Fatalf("instanceName(%q, %q) = %q contains %q", name, db, label, r)
			}
		}
		pres, err := labelPresentation(label)
		if err != nil {
			t.Fatalf("labelPresentation(%q): %v", label, err)
		}
		back, err := firstLabel(pres + "." + ServiceType + ".local.")
		if err != nil || back != label {
			t.Fatalf("round trip of %q via %q gave %q, %v", label, pres, back, err)
		}
	})
}

// FuzzTXTEscaping checks that unescaping undoes escaping for any bytes.
func FuzzTXTEscaping(f *testing.F) {
	f.Add("plain")
	f.Add("\\\"\x00\xff\\065")
	f.Fuzz(func(t *testing.T, raw string) {
		if got := unescapeTXT(escapeTXT(raw)); got != raw {
			t.Fatalf("unescape(escape(%q)) = %q", raw, got)
		}
		_ = unescapeTXT(raw) // arbitrary input must not panic
	})
}

// FuzzAddManual checks that any user input gives a peer or an error, and an
// accepted peer gives a parseable URL.
func FuzzAddManual(f *testing.F) {
	f.Add("10.0.0.1", 4984, "db")
	f.Add("[fd00::1]", 1, "a b")
	f.Add("host%name", -1, "")
	f.Fuzz(func(t *testing.T, host string, port int, db string) {
		b := NewBrowser(BrowserOptions{})
		defer b.Stop()
		p, err := b.AddManual(host, port, db, false)
		if err != nil {
			return
		}
		u, err := url.Parse(p.URL())
		if err != nil || u.Hostname() != p.Host || u.Port() != strconv.Itoa(port) || u.Path != "/"+db {
			t.Fatalf("manual peer %+v gives URL %q (%v)", p, p.URL(), err)
		}
		// A replicator reads it back as this peer's database.
		if e, err := endpoint.Parse(p.URL()); err != nil || e.Database != db {
			t.Fatalf("manual peer %+v: URL %q reads back as %+v, %v", p, p.URL(), e, err)
		}
	})
}
