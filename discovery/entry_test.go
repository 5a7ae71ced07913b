package discovery

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/mdns"
)

func TestSightingFromEntry(t *testing.T) {
	now := time.Now()
	e := &mdns.ServiceEntry{
		Name:         `Alice's\ laptop\ \226\128\148\ notes._peersync._tcp.local.`,
		Host:         "host-id.local.",
		AddrV4:       net.ParseIP("10.0.0.1"),
		AddrV6IPAddr: &net.IPAddr{IP: net.ParseIP("fd00::1")},
		Port:         4984,
		InfoFields:   []string{"id=p1", `db=notes`, "proto=CBMobile_3", "tls=0", "v=1"},
	}
	s, err := sightingFromEntry(e, now)
	if err != nil {
		t.Fatal(err)
	}
	p := s.peer
	if p.Name != "Alice's laptop" || p.PeerID != "p1" || p.Database != "notes" || p.Host != "host-id.local" ||
		p.Port != 4984 || p.TLS || !p.LastSeen.Equal(now) || !sameAddrs(p.Addrs, "10.0.0.1", "fd00::1") {
		t.Errorf("peer = %+v", p)
	}

	escaped := *e
	escaped.Name = `caf\195\169._peersync._tcp.local.`
	escaped.InfoFields = []string{"id=p1", `db=caf\195\169`, "proto=CBMobile_3", "v=1"}
	if s, err := sightingFromEntry(&escaped, now); err != nil || s.peer.Database != "café" || s.peer.Name != "café" {
		t.Errorf("escaped entry: %+v, %v", s.peer, err)
	}

	bad := map[string]func(e *mdns.ServiceEntry){
		"other service": func(e *mdns.ServiceEntry) { e.Name = "printer._ipp._tcp.local." },
		"bad TXT":       func(e *mdns.ServiceEntry) { e.InfoFields = []string{"hello"} },
		"bad port":      func(e *mdns.ServiceEntry) { e.Port = 70000 },
	}
	for name, spoil := range bad {
		c := *e
		spoil(&c)
		if _, err := sightingFromEntry(&c, now); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "bad TXT" && !errors.Is(err, ErrBadTXT) {
			t.Errorf("bad TXT: error %v does not wrap ErrBadTXT", err)
		}
	}
}
