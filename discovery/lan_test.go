package discovery

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests run announcers and browsers in helper processes inside two
// network namespaces joined by a veth pair (see netns_test.go).

const testFingerprint = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func ipsOf(addrs ...string) []net.IP {
	var out []net.IP
	for _, a := range addrs {
		out = append(out, net.ParseIP(a))
	}
	return out
}

func sameAddrs(got []net.IP, want ...string) bool {
	return slices.EqualFunc(sortAddrs(got), sortAddrs(ipsOf(want...)), net.IP.Equal)
}

func TestLANPeerSeenWithinTwoSecondsThenLost(t *testing.T) {
	t.Parallel()
	lan := newTestLAN(t, true)
	browser := startHelper(t, lan.NsB, roleBrowse, browseConfig{})
	announcer := startHelper(t, lan.NsA, roleAnnounce, nil)

	svc := Service{
		PeerID: "5d0b3f7e-2f43-4c1e-9d1a-7f1e3c2b9a10", Name: "Alice's laptop", Database: "notes",
		Port: 4984, IPs: ipsOf(lanA4, lanA6), TLS: true, Fingerprint: strings.ToUpper(testFingerprint),
	}
	started := time.Now()
	announcer.request(helperCommand{Op: "announce", Service: svc})
	ev := browser.waitEvent(2*time.Second, "PeerSeen within 2s of announcing", func(ev Event) bool {
		return ev.Kind == PeerSeen && ev.Peer.PeerID == svc.PeerID
	}, nil)
	t.Logf("seen after %v", time.Since(started).Round(time.Millisecond))

	p := ev.Peer
	if p.Name != "Alice's laptop" || p.Database != "notes" || p.Port != 4984 || !p.TLS ||
		p.Fingerprint != testFingerprint || p.Manual || p.Host != hostLabel(svc.PeerID)+".local" {
		t.Errorf("peer fields wrong: %+v", p)
	}
	if !sameAddrs(p.Addrs, lanA4, lanA6) {
		t.Errorf("addrs = %v, want %s and %s", p.Addrs, lanA4, lanA6)
	}
	if got, want := p.URL(), "wss://10.231.0.1:4984/notes"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if got := p.Key(); got != svc.PeerID+"/notes" {
		t.Errorf("Key = %q", got)
	}

	stopped := time.Now()
	announcer.request(helperCommand{Op: "stop", Index: 0})
	// Default LostAfter is 3s; allow a round and a half on top.
	lost := browser.waitEvent(5*time.Second, "PeerLost after the announcer stopped", func(ev Event) bool {
		return ev.Kind == PeerLost && ev.Peer.Key() == p.Key()
	}, nil)
	t.Logf("lost after %v", time.Since(stopped).Round(time.Millisecond))
	if lost.Peer.Port != 4984 {
		t.Errorf("lost event should carry the last known peer, got %+v", lost.Peer)
	}
	if peers := browser.request(helperCommand{Op: "peers"}).Peers; len(peers) != 0 {
		t.Errorf("peers after loss = %+v, want none", peers)
	}
}

func TestLANIPv6Only(t *testing.T) {
	t.Parallel()
	lan := newTestLAN(t, false)
	browser := startHelper(t, lan.NsB, roleBrowse, browseConfig{Iface: lan.IfaceB, QueryInterval: 500 * time.Millisecond})
	announcer := startHelper(t, lan.NsA, roleAnnounce, nil)

	svc := Service{PeerID: "0f9f3f64-58a4-4d8e-a2a4-1b1d2a0c3e55", Name: "bob", Database: "recipes", Port: 59840}
	announcer.request(helperCommand{Op: "announce", Service: svc, Iface: lan.IfaceA})
	ev := browser.waitEvent(2*time.Second, "PeerSeen over IPv6", func(ev Event) bool {
		return ev.Kind == PeerSeen && ev.Peer.PeerID == svc.PeerID
	}, nil)
	// The announcer found its own address on the interface; the link-local
	// one is left out because the browser could not use it without a zone.
	if !sameAddrs(ev.Peer.Addrs, lanA6) {
		t.Errorf("addrs = %v, want only %s", ev.Peer.Addrs, lanA6)
	}
	if got, want := ev.Peer.URL(), "ws://[fd00:231::1]:59840/recipes"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}

func TestLANFollowsAddressChanges(t *testing.T) {
	t.Parallel()
	lan := newTestLAN(t, true)
	browser := startHelper(t, lan.NsB, roleBrowse, browseConfig{QueryInterval: 500 * time.Millisecond})
	announcer := startHelper(t, lan.NsA, roleAnnounce, nil)
	failOnLost := func(ev Event) {
		if ev.Kind == PeerLost {
			t.Errorf("peer lost during an address change: %+v", ev.Peer)
		}
	}

	// No fixed IPs: the announcer follows the interface's addresses.
	svc := Service{PeerID: "9a3e2c1b-7d6f-4e5a-8b9c-0d1e2f3a4b5c", Name: "desk", Database: "db", Port: 4984}
	announcer.request(helperCommand{Op: "announce", Service: svc, Iface: lan.IfaceA})
	browser.waitEvent(2*time.Second, "PeerSeen", func(ev Event) bool {
		return ev.Kind == PeerSeen && sameAddrs(ev.Peer.Addrs, lanA4, lanA6)
	}, nil)

	lan.MoveAddrA(t, lanA4, "10.231.0.3")
	// The browser may first see the moment without IPv4; it must end on the
	// new address.
	ev := browser.waitEvent(3*time.Second, "PeerUpdated with the interface's new address", func(ev Event) bool {
		return ev.Kind == PeerUpdated && sameAddrs(ev.Peer.Addrs, "10.231.0.3", lanA6)
	}, failOnLost)
	if got, want := ev.Peer.URL(), "ws://10.231.0.3:4984/db"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}

	// Re-announcing with a new fixed address is an update too, not a loss.
	announcer.request(helperCommand{Op: "stop", Index: 0})
	svc.IPs = ipsOf("10.231.0.9")
	announcer.request(helperCommand{Op: "announce", Service: svc})
	browser.waitEvent(3*time.Second, "PeerUpdated after re-announcing", func(ev Event) bool {
		return ev.Kind == PeerUpdated && sameAddrs(ev.Peer.Addrs, "10.231.0.9")
	}, failOnLost)
}

func TestLANDeduplicatesAndListsManualPeers(t *testing.T) {
	t.Parallel()
	lan := newTestLAN(t, true)
	const (
		peerID = "3c2b1a09-8f7e-4d6c-9b5a-493827160504"
		selfID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	)
	browser := startHelper(t, lan.NsB, roleBrowse, browseConfig{QueryInterval: 500 * time.Millisecond, IgnorePeerID: selfID})
	announcer := startHelper(t, lan.NsA, roleAnnounce, nil)

	ip := ipsOf(lanA4)
	for _, svc := range []Service{
		{PeerID: peerID, Name: "Laptop", Database: "notes", Port: 4984, IPs: ip},
		{PeerID: peerID, Name: "Laptop (renamed)", Database: "notes", Port: 4985, IPs: ip},
		{PeerID: peerID, Name: "Laptop", Database: "photos", Port: 4984, IPs: ip},
		{PeerID: selfID, Name: "Me", Database: "notes", Port: 4984, IPs: ip},
	} {
		announcer.request(helperCommand{Op: "announce", Service: svc})
	}
	manual := browser.request(helperCommand{Op: "manual", Host: "192.0.2.10", Port: 4984, Database: "notes"}).Peer

	// Let several rounds pass: the duplicate must neither appear nor make
	// the entry flap between its two announcements.
	events := browser.collectEvents(3 * time.Second)
	var keys []string
	for _, ev := range events {
		if ev.Kind != PeerSeen {
			t.Errorf("unexpected %v event: %+v", ev.Kind, ev.Peer)
		}
		keys = append(keys, ev.Peer.Key())
	}
	slices.Sort(keys)
	want := []string{"192.0.2.10:4984/notes", peerID + "/notes", peerID + "/photos"}
	if !slices.Equal(keys, want) {
		t.Errorf("PeerSeen keys = %v, want %v", keys, want)
	}

	peers := browser.request(helperCommand{Op: "peers"}).Peers
	var listed []string
	for _, p := range peers {
		listed = append(listed, p.Key())
	}
	if !slices.Equal(listed, want) {
		t.Fatalf("Peers() keys = %v, want %v (sorted)", listed, want)
	}
	if !peers[0].Manual || peers[0].URL() != "ws://192.0.2.10:4984/notes" || manual == nil || manual.Key() != peers[0].Key() {
		t.Errorf("manual peer = %+v", peers[0])
	}
	if peers[1].Manual || peers[1].Port != 4984 && peers[1].Port != 4985 {
		t.Errorf("discovered peer = %+v", peers[1])
	}

	browser.request(helperCommand{Op: "remove", Key: manual.Key()})
	browser.waitEvent(time.Second, "PeerLost for the removed manual peer", func(ev Event) bool {
		return ev.Kind == PeerLost && ev.Peer.Manual
	}, nil)
}
