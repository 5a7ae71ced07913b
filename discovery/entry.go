package discovery

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/mdns"
)

// serviceSuffix ends every instance name of our service type.
const serviceSuffix = "." + ServiceType + ".local."

// sightingFromEntry checks an answer from the mDNS library and turns it into
// a sighting. Answers for other services arrive too (the library hears every
// multicast response on the link), so a mismatch is normal, not an error to
// shout about.
func sightingFromEntry(e *mdns.ServiceEntry, now time.Time) (sighting, error) {
	if !strings.HasSuffix(strings.ToLower(e.Name), serviceSuffix) {
		return sighting{}, fmt.Errorf("discovery: %q is not a %s instance", e.Name, ServiceType)
	}
	fields := make([]string, len(e.InfoFields))
	for i, f := range e.InfoFields {
		fields[i] = unescapeTXT(f)
	}
	info, err := parseTXT(fields)
	if err != nil {
		return sighting{}, fmt.Errorf("instance %q: %w", e.Name, err)
	}
	label, err := firstLabel(e.Name)
	if err != nil {
		return sighting{}, fmt.Errorf("discovery: instance %q: %w", e.Name, err)
	}
	if e.Port < 1 || e.Port > 65535 {
		return sighting{}, fmt.Errorf("discovery: instance %q: bad port %d", e.Name, e.Port)
	}
	var addrs []net.IP
	if e.AddrV4 != nil {
		addrs = append(addrs, e.AddrV4)
	}
	if e.AddrV6IPAddr != nil {
		addrs = append(addrs, e.AddrV6IPAddr.IP)
	} else if e.AddrV6 != nil {
		addrs = append(addrs, e.AddrV6)
	}
	return sighting{
		instance: strings.ToLower(e.Name),
		peer: Peer{
			PeerID:      info.PeerID,
			Name:        friendlyName(label, info.Database),
			Database:    info.Database,
			Host:        trimDot(e.Host),
			Addrs:       sortAddrs(addrs),
			Port:        e.Port,
			TLS:         info.TLS,
			Fingerprint: info.Fingerprint,
			LastSeen:    now,
		},
	}, nil
}
