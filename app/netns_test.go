package app

import (
	"testing"

	"peersync/discovery/netnstest"
)

// The end-to-end tests' private link: side A is 10.232.0.1 / fd00:232::1,
// side B 10.232.0.2 / fd00:232::2.
const (
	lanA4 = "10.232.0.1"
	lanB4 = "10.232.0.2"
)

// newTestLAN builds the namespaces or skips the test, saying why.
func newTestLAN(t *testing.T) *netnstest.LAN {
	t.Helper()
	return netnstest.New(t, "psapp", netnstest.Addrs{IPv4: lanA4, IPv6: "fd00:232::1"},
		netnstest.Addrs{IPv4: lanB4, IPv6: "fd00:232::2"})
}
