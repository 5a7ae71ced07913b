package discovery

import (
	"net"
	"testing"
)

func TestPeerKey(t *testing.T) {
	if got := (Peer{PeerID: "id", Database: "db"}).Key(); got != "id/db" {
		t.Errorf("discovered key = %q", got)
	}
	if got := (Peer{Manual: true, Host: "host", Port: 1, Database: "db"}).Key(); got != "host:1/db" {
		t.Errorf("manual key = %q", got)
	}
	if got := (Peer{Manual: true, Host: "fd00::1", Port: 1, Database: "db"}).Key(); got != "[fd00::1]:1/db" {
		t.Errorf("manual IPv6 key = %q", got)
	}
}

func TestPeerURL(t *testing.T) {
	tests := []struct {
		name string
		peer Peer
		want string
	}{
		{"IPv4 first", Peer{Addrs: ipsOf("fd00::1", "10.0.0.5"), Port: 4984, Database: "db"}, "ws://10.0.0.5:4984/db"},
		{"IPv6 in brackets", Peer{Addrs: ipsOf("fd00::1"), Port: 4984, Database: "db"}, "ws://[fd00::1]:4984/db"},
		{"link-local skipped", Peer{Addrs: ipsOf("fe80::1", "2001:db8::7"), Port: 1, Database: "db"}, "ws://[2001:db8::7]:1/db"},
		{"host fallback", Peer{Host: "box.local.", Port: 1, Database: "db"}, "ws://box.local:1/db"},
		{"TLS", Peer{Addrs: ipsOf("10.0.0.5"), Port: 443, Database: "db", TLS: true}, "wss://10.0.0.5:443/db"},
		{"database escaped", Peer{Addrs: ipsOf("10.0.0.5"), Port: 1, Database: "my notes?"}, "ws://10.0.0.5:1/my%20notes%3F"},
		{"4-in-6 address", Peer{Addrs: []net.IP{net.ParseIP("10.0.0.5").To16()}, Port: 1, Database: "db"}, "ws://10.0.0.5:1/db"},
	}
	for _, tc := range tests {
		if got := tc.peer.URL(); got != tc.want {
			t.Errorf("%s: URL = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSortAddrs(t *testing.T) {
	got := sortAddrs([]net.IP{net.ParseIP("fd00::2"), net.ParseIP("10.0.0.9"), nil, net.IP{1, 2}, net.ParseIP("10.0.0.1"), net.ParseIP("10.0.0.9").To16(), net.ParseIP("fd00::1")})
	want := ipsOf("10.0.0.1", "10.0.0.9", "fd00::1", "fd00::2")
	if len(got) != len(want) {
		t.Fatalf("sortAddrs = %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("sortAddrs = %v, want %v", got, want)
		}
	}
}

func TestEventKindString(t *testing.T) {
	for k, want := range map[EventKind]string{PeerSeen: "seen", PeerUpdated: "updated", PeerLost: "lost", 7: "EventKind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}
