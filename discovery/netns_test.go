package discovery

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// testLAN is two network namespaces joined by a veth pair: a private link
// for mDNS tests, so no test ever multicasts on the machine's own
// interfaces. Side A is 10.231.0.1 / fd00:231::1, side B 10.231.0.2 /
// fd00:231::2. Nothing is created in the root namespace: the veth ends are
// born inside their namespaces.
type testLAN struct {
	nsA, nsB       string
	ifaceA, ifaceB string
}

const (
	lanA4 = "10.231.0.1"
	lanB4 = "10.231.0.2"
	lanA6 = "fd00:231::1"
	lanB6 = "fd00:231::2"
)

// newTestLAN builds the namespaces or skips the test with the reason.
// Without IPv4 the link carries IPv6 only, so mDNS must work over IPv6.
func newTestLAN(t *testing.T, withIPv4 bool) *testLAN {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mDNS tests need root to create network namespaces; skipping")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("mDNS tests need iproute2's ip command to create network namespaces; skipping")
	}
	suffix := randomSuffix(t)
	lan := &testLAN{
		nsA:    "psdisc-a-" + suffix,
		nsB:    "psdisc-b-" + suffix,
		ifaceA: "psa" + suffix, // interface names are limited to 15 bytes
		ifaceB: "psb" + suffix,
	}
	if out, err := exec.Command("ip", "netns", "add", lan.nsA).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace (%v: %s); skipping mDNS tests", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { runIP(t, "netns", "del", lan.nsA) })
	mustIP(t, "netns", "add", lan.nsB)
	t.Cleanup(func() { runIP(t, "netns", "del", lan.nsB) })

	mustIP(t, "link", "add", lan.ifaceA, "netns", lan.nsA, "type", "veth", "peer", "name", lan.ifaceB, "netns", lan.nsB)
	a4, b4 := lanA4, lanB4
	if !withIPv4 {
		a4, b4 = "", ""
	}
	lan.setUp(t, lan.nsA, lan.ifaceA, a4, lanA6)
	lan.setUp(t, lan.nsB, lan.ifaceB, b4, lanB6)
	return lan
}

// setUp gives one end its addresses and, with IPv4, a multicast route
// (IPv6 link-local multicast needs none). Duplicate
// address detection is off so IPv6 works at once instead of after a second.
func (l *testLAN) setUp(t *testing.T, ns, iface, ip4, ip6 string) {
	t.Helper()
	mustIP(t, "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf."+iface+".accept_dad=0")
	mustIP(t, "-n", ns, "link", "set", "lo", "up")
	if ip4 != "" {
		mustIP(t, "-n", ns, "addr", "add", ip4+"/24", "dev", iface)
	}
	mustIP(t, "-n", ns, "-6", "addr", "add", ip6+"/64", "dev", iface, "nodad")
	mustIP(t, "-n", ns, "link", "set", iface, "up")
	if ip4 != "" {
		mustIP(t, "-n", ns, "route", "add", "224.0.0.0/4", "dev", iface)
	}
}

// changeAddrA moves side A's IPv4 address from oldIP to newIP. The old one
// goes first: deleting a primary address also deletes secondaries in its
// subnet.
func (l *testLAN) changeAddrA(t *testing.T, oldIP, newIP string) {
	t.Helper()
	mustIP(t, "-n", l.nsA, "addr", "del", oldIP+"/24", "dev", l.ifaceA)
	mustIP(t, "-n", l.nsA, "addr", "add", newIP+"/24", "dev", l.ifaceA)
}

func mustIP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func runIP(t *testing.T, args ...string) {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Logf("cleanup: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func randomSuffix(t *testing.T) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
