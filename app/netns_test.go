package app

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// testLAN is two network namespaces joined by a veth pair, so the discovery
// tests multicast only on a private link and never on the machine's own
// interfaces. Side A is 10.232.0.1 / fd00:232::1, side B 10.232.0.2 /
// fd00:232::2. The veth ends are born inside their namespaces; nothing is
// added to the root namespace.
type testLAN struct {
	nsA, nsB       string
	ifaceA, ifaceB string
}

const (
	lanA4 = "10.232.0.1"
	lanB4 = "10.232.0.2"
)

// newTestLAN builds the namespaces or skips the test, saying why.
func newTestLAN(t *testing.T) *testLAN {
	t.Helper()
	suffix := skipWithoutNetns(t)
	lan := &testLAN{
		nsA:    "psapp-a-" + suffix,
		nsB:    "psapp-b-" + suffix,
		ifaceA: "pxa" + suffix, // interface names are limited to 15 bytes
		ifaceB: "pxb" + suffix,
	}
	addNetns(t, lan.nsA)
	addNetns(t, lan.nsB)
	mustIP(t, "link", "add", lan.ifaceA, "netns", lan.nsA, "type", "veth", "peer", "name", lan.ifaceB, "netns", lan.nsB)
	lan.setUp(t, lan.nsA, lan.ifaceA, lanA4, "fd00:232::1")
	lan.setUp(t, lan.nsB, lan.ifaceB, lanB4, "fd00:232::2")
	return lan
}

// skipWithoutNetns skips the test unless namespaces can be made, and
// returns a random suffix for their names.
func skipWithoutNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("discovery end-to-end tests need root to create network namespaces; skipping")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("discovery end-to-end tests need iproute2's ip command; skipping")
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	suffix := hex.EncodeToString(b[:])
	probe := "psapp-p-" + suffix
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace (%v: %s); skipping", err, strings.TrimSpace(string(out)))
	}
	runIP(t, "netns", "del", probe)
	return suffix
}

// addNetns creates an empty namespace (only a loopback, down) and deletes
// it at cleanup.
func addNetns(t *testing.T, name string) {
	t.Helper()
	mustIP(t, "netns", "add", name)
	t.Cleanup(func() { runIP(t, "netns", "del", name) })
}

// setUp gives one end its addresses and a multicast route. Duplicate
// address detection is off so IPv6 works at once.
func (l *testLAN) setUp(t *testing.T, ns, iface, ip4, ip6 string) {
	t.Helper()
	mustIP(t, "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf."+iface+".accept_dad=0")
	mustIP(t, "-n", ns, "link", "set", "lo", "up")
	mustIP(t, "-n", ns, "addr", "add", ip4+"/24", "dev", iface)
	mustIP(t, "-n", ns, "-6", "addr", "add", ip6+"/64", "dev", iface, "nodad")
	mustIP(t, "-n", ns, "link", "set", iface, "up")
	mustIP(t, "-n", ns, "route", "add", "224.0.0.0/4", "dev", iface)
}

// moveAddrA changes side A's IPv4 address. The old one goes first:
// deleting a primary address also deletes the secondaries of its subnet.
func (l *testLAN) moveAddrA(t *testing.T, oldIP, newIP string) {
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
