package discovery

import (
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestAnnounceValidates(t *testing.T) {
	good := Service{PeerID: "p1", Database: "db", Port: 4984, IPs: ipsOf("10.0.0.1")}
	bad := map[string]func(s *Service){
		"no peer ID":        func(s *Service) { s.PeerID = "" },
		"no database":       func(s *Service) { s.Database = "" },
		"port 0":            func(s *Service) { s.Port = 0 },
		"port too big":      func(s *Service) { s.Port = 65536 },
		"TLS without fp":    func(s *Service) { s.TLS = true },
		"TLS with bad fp":   func(s *Service) { s.TLS, s.Fingerprint = true, "abc" },
		"bad IP":            func(s *Service) { s.IPs = []net.IP{{1, 2, 3}} },
		"database too long": func(s *Service) { s.Database = strings.Repeat("d", 300) },
	}
	for name, spoil := range bad {
		s := good
		spoil(&s)
		// Announce fails before opening any socket, so this stays off the network.
		if a, err := Announce(s, AnnounceOptions{}); err == nil {
			a.Stop()
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestZoneAnswersAsBrowsersExpect packs the zone's answer to a service query
// and reads it back, checking what a browser would decode.
func TestZoneAnswersAsBrowsersExpect(t *testing.T) {
	z, err := newServiceZone(Service{
		PeerID: "p1", Name: "Zoë's \"box\"", Database: "notes", Port: 4984,
		IPs: ipsOf("fd00::1", "10.0.0.1"), TLS: true, Fingerprint: colonise(testFingerprint),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := new(dns.Msg)
	msg.Response = true
	msg.Answer = z.Records(dns.Question{Name: ServiceType + ".local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET})
	wire, err := msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var back dns.Msg
	if err := back.Unpack(wire); err != nil {
		t.Fatal(err)
	}
	var ptr, instance string
	var txt []string
	var addrs []net.IP
	for _, rr := range back.Answer {
		switch rr := rr.(type) {
		case *dns.PTR:
			ptr = rr.Ptr
		case *dns.SRV:
			instance = rr.Hdr.Name
			if rr.Port != 4984 || rr.Target != "p1.local." {
				t.Errorf("SRV = %v", rr)
			}
		case *dns.TXT:
			for _, s := range rr.Txt {
				txt = append(txt, unescapeTXT(s))
			}
		case *dns.A:
			addrs = append(addrs, rr.A)
		case *dns.AAAA:
			addrs = append(addrs, rr.AAAA)
		}
	}
	if ptr == "" || ptr != instance {
		t.Errorf("PTR %q and SRV name %q should name the same instance", ptr, instance)
	}
	if label, err := firstLabel(instance); err != nil || label != `Zoë's "box" — notes` {
		t.Errorf("instance label = %q, %v", label, err)
	}
	want := []string{"id=p1", "db=notes", "proto=CBMobile_3", "tls=1", "fp=" + testFingerprint, "path=/notes", "v=1"}
	if !slices.Equal(txt, want) {
		t.Errorf("TXT = %q, want %q", txt, want)
	}
	if !sameAddrs(addrs, "10.0.0.1", "fd00::1") {
		t.Errorf("addresses = %v", addrs)
	}

	// The zone must also answer a question for the instance name as the
	// library decodes it from the wire (with escapes).
	if recs := z.Records(dns.Question{Name: instance, Qtype: dns.TypeTXT, Qclass: dns.ClassINET}); len(recs) != 1 {
		t.Errorf("instance TXT question got %d records, want 1", len(recs))
	}
}

func TestZoneWithoutAddressesStaysQuiet(t *testing.T) {
	z, err := newServiceZone(Service{PeerID: "p1", Database: "db", Port: 1}, &net.Interface{Index: 1 << 30, Name: "nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	if recs := z.Records(dns.Question{Name: ServiceType + ".local.", Qtype: dns.TypePTR}); len(recs) != 0 {
		t.Errorf("zone with no addresses answered %v", recs)
	}
}
