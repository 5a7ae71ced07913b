package discovery

import (
	"testing"

	"peersync/discovery/netnstest"
)

// The discovery tests' private link: side A is 10.231.0.1 / fd00:231::1,
// side B 10.231.0.2 / fd00:231::2.
const (
	lanA4 = "10.231.0.1"
	lanB4 = "10.231.0.2"
	lanA6 = "fd00:231::1"
	lanB6 = "fd00:231::2"
)

// newTestLAN builds the namespaces or skips the test with the reason.
// Without IPv4 the link carries IPv6 only, so mDNS must work over IPv6.
func newTestLAN(t *testing.T, withIPv4 bool) *netnstest.LAN {
	t.Helper()
	a, b := netnstest.Addrs{IPv4: lanA4, IPv6: lanA6}, netnstest.Addrs{IPv4: lanB4, IPv6: lanB6}
	if !withIPv4 {
		a.IPv4, b.IPv4 = "", ""
	}
	return netnstest.New(t, "psdisc", a, b)
}
