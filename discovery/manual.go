package discovery

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"peersync/syncengine/endpoint"
)

// AddManual adds a peer the user typed in: a host name or IP address, a
// port and a database. Manual peers are listed beside discovered ones and
// never expire. Adding the same host, port and database again updates the
// TLS setting.
func (b *Browser) AddManual(host string, port int, database string, tls bool) (Peer, error) {
	host, err := cleanManualHost(host)
	if err != nil {
		return Peer{}, err
	}
	if port < 1 || port > 65535 {
		return Peer{}, fmt.Errorf("discovery: manual peer: port %d is out of range 1-65535", port)
	}
	if database == "" || strings.ContainsAny(database, "/?#") {
		return Peer{}, fmt.Errorf("discovery: manual peer: database %q must be non-empty without '/', '?' or '#'", database)
	}
	p := Peer{
		Name:     host,
		Database: database,
		Host:     host,
		Port:     port,
		TLS:      tls,
		LastSeen: time.Now(),
		Manual:   true,
	}
	if ip := net.ParseIP(host); ip != nil {
		p.Addrs = sortAddrs([]net.IP{ip})
	}
	if e, err := endpoint.Parse(p.URL()); err != nil || e.Database != database {
		return Peer{}, fmt.Errorf("discovery: manual peer: database %q cannot be named in a replication URL", database)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	key := p.Key()
	old, existed := b.manual[key]
	b.manual[key] = p
	switch {
	case !existed:
		b.publishLocked(Event{Kind: PeerSeen, Peer: p})
	case !samePeer(old, p):
		b.publishLocked(Event{Kind: PeerUpdated, Peer: p})
	}
	return clonePeer(p), nil
}

// RemoveManual forgets the manual peer with the given Key. Unknown keys are
// ignored.
func (b *Browser) RemoveManual(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.manual[key]
	if !ok {
		return
	}
	delete(b.manual, key)
	b.publishLocked(Event{Kind: PeerLost, Peer: p})
}

// cleanManualHost accepts a host name, an IPv4 address or an IPv6 address
// (with or without brackets) and rejects anything that would break a URL.
func cleanManualHost(host string) (string, error) {
	host = strings.TrimSpace(host)
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if host == "" {
		return "", errors.New("discovery: manual peer: host is empty")
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	host = strings.TrimSuffix(host, ".") // a fully qualified name is fine
	if len(host) > 253 {
		return "", errors.New("discovery: manual peer: host name is longer than 253 characters")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("discovery: manual peer: host %q is not an IP address or host name (empty or over-long part)", host)
		}
		for _, r := range label {
			ok := r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			if !ok {
				return "", fmt.Errorf("discovery: manual peer: host %q is not an IP address or host name (bad character %q)", host, r)
			}
		}
	}
	return host, nil
}
