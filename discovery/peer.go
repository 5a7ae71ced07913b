package discovery

import (
	"bytes"
	"net"
	"slices"
	"strconv"
	"time"

	"peersync/syncengine/endpoint"
)

// Peer is a PeerSync listener found on the network or added by hand.
type Peer struct {
	PeerID      string // stable ID of the announcing peer; empty for manual peers
	Name        string // friendly name (manual peers: the host)
	Database    string
	Host        string   // mDNS host name, or the host given for a manual peer
	Addrs       []net.IP // IPv4 first, then IPv6
	Port        int
	TLS         bool
	Fingerprint string // SHA-256 of the listener certificate, lowercase hex (TLS only)
	LastSeen    time.Time
	Manual      bool
}

// Key identifies a peer's database: "peerID/database", or for a manual peer
// "host:port/database".
func (p Peer) Key() string {
	if p.Manual {
		return manualKey(p.Host, p.Port, p.Database)
	}
	return p.PeerID + "/" + p.Database
}

func manualKey(host string, port int, database string) string {
	return net.JoinHostPort(host, strconv.Itoa(port)) + "/" + database
}

// URL is the peer's replication URL in the form listeners show,
// ws[s]://addr:port/<db>, using the best address: IPv4 first, then a
// routable IPv6 address (in brackets), then the host name.
func (p Peer) URL() string {
	return endpoint.URL(p.TLS, p.bestHost(), p.Port, p.Database)
}

func (p Peer) bestHost() string {
	for _, ip := range p.Addrs {
		if ip.To4() != nil {
			return ip.To4().String()
		}
	}
	for _, ip := range p.Addrs {
		if len(ip) == net.IPv6len && !ip.IsLinkLocalUnicast() {
			return ip.String()
		}
	}
	return trimDot(p.Host)
}

// sortAddrs orders addresses IPv4 first, then IPv6, each in byte order, and
// drops duplicates and invalid entries.
func sortAddrs(addrs []net.IP) []net.IP {
	out := make([]net.IP, 0, len(addrs))
	for _, ip := range addrs {
		if ip4 := ip.To4(); ip4 != nil {
			out = append(out, ip4)
		} else if len(ip) == net.IPv6len {
			out = append(out, ip)
		}
	}
	slices.SortFunc(out, func(a, b net.IP) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return bytes.Compare(a, b)
	})
	return slices.CompactFunc(out, net.IP.Equal)
}

// samePeer reports whether two views of a peer differ in anything but when
// they were last seen.
func samePeer(a, b Peer) bool {
	return a.PeerID == b.PeerID && a.Name == b.Name && a.Database == b.Database &&
		a.Host == b.Host && a.Port == b.Port && a.TLS == b.TLS &&
		a.Fingerprint == b.Fingerprint && a.Manual == b.Manual &&
		slices.EqualFunc(a.Addrs, b.Addrs, net.IP.Equal)
}

// clonePeer copies the addresses so callers cannot change our state.
func clonePeer(p Peer) Peer {
	if p.Addrs != nil {
		addrs := make([]net.IP, len(p.Addrs))
		for i, ip := range p.Addrs {
			addrs[i] = slices.Clone(ip)
		}
		p.Addrs = addrs
	}
	return p
}

func trimDot(s string) string {
	for len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// EventKind says what happened to a peer.
type EventKind int

const (
	PeerSeen EventKind = iota
	PeerUpdated
	PeerLost
)

func (k EventKind) String() string {
	switch k {
	case PeerSeen:
		return "seen"
	case PeerUpdated:
		return "updated"
	case PeerLost:
		return "lost"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event reports a change to the peer list. For PeerLost, Peer is the last
// known state.
type Event struct {
	Kind EventKind
	Peer Peer
}
