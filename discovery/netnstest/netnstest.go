// Package netnstest builds private networks for tests: two network
// namespaces joined by a veth pair, so mDNS tests multicast only on a link
// the test owns and never on the machine's own interfaces. Nothing is
// created in the root namespace: the veth ends are born inside their
// namespaces, and everything is deleted when the test ends.
package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Addrs are one side's addresses; IPv4 "" leaves the side IPv6-only.
type Addrs struct{ IPv4, IPv6 string }

// LAN is two namespaces, A and B, joined by a veth pair.
type LAN struct {
	NsA, NsB       string
	IfaceA, IfaceB string
}

// New builds a LAN named after prefix (a few letters) with the given
// addresses (/24 and /64), or skips the test saying why it cannot.
func New(t testing.TB, prefix string, a, b Addrs) *LAN {
	t.Helper()
	suffix := skipUnlessNetns(t)
	lan := &LAN{
		NsA:    prefix + "-a-" + suffix,
		NsB:    prefix + "-b-" + suffix,
		IfaceA: "nta" + suffix, // interface names are limited to 15 bytes
		IfaceB: "ntb" + suffix,
	}
	add(t, lan.NsA)
	add(t, lan.NsB)
	MustIP(t, "link", "add", lan.IfaceA, "netns", lan.NsA, "type", "veth", "peer", "name", lan.IfaceB, "netns", lan.NsB)
	setUp(t, lan.NsA, lan.IfaceA, a)
	setUp(t, lan.NsB, lan.IfaceB, b)
	return lan
}

// Empty makes a namespace with nothing but a loopback that is down (no
// network at all), or skips the test saying why it cannot.
func Empty(t testing.TB, prefix string) string {
	t.Helper()
	ns := prefix + "-n-" + skipUnlessNetns(t)
	add(t, ns)
	return ns
}

// skipUnlessNetns skips the test unless namespaces can be made here, and
// returns a random suffix for their names.
func skipUnlessNetns(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("these tests need root to create network namespaces; skipping")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("these tests need iproute2's ip command to create network namespaces; skipping")
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	suffix := hex.EncodeToString(r[:])
	probe := "ntprobe-" + suffix
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace (%v: %s); skipping", err, strings.TrimSpace(string(out)))
	}
	RunIP(t, "netns", "del", probe)
	return suffix
}

// add creates a namespace and deletes it when the test ends.
func add(t testing.TB, name string) {
	t.Helper()
	MustIP(t, "netns", "add", name)
	t.Cleanup(func() { RunIP(t, "netns", "del", name) })
}

// setUp gives one end its addresses and, with IPv4, a multicast route
// (IPv6 link-local multicast needs none). Duplicate address detection is off
// so IPv6 works at once instead of after a second.
func setUp(t testing.TB, ns, iface string, a Addrs) {
	t.Helper()
	MustIP(t, "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf."+iface+".accept_dad=0")
	MustIP(t, "-n", ns, "link", "set", "lo", "up")
	if a.IPv4 != "" {
		MustIP(t, "-n", ns, "addr", "add", a.IPv4+"/24", "dev", iface)
	}
	MustIP(t, "-n", ns, "-6", "addr", "add", a.IPv6+"/64", "dev", iface, "nodad")
	MustIP(t, "-n", ns, "link", "set", iface, "up")
	if a.IPv4 != "" {
		MustIP(t, "-n", ns, "route", "add", "224.0.0.0/4", "dev", iface)
	}
}

// MoveAddrA moves side A's IPv4 address. The old one goes first: deleting
// a primary address also deletes the secondaries in its subnet.
func (l *LAN) MoveAddrA(t testing.TB, oldIP, newIP string) {
	t.Helper()
	MustIP(t, "-n", l.NsA, "addr", "del", oldIP+"/24", "dev", l.IfaceA)
	MustIP(t, "-n", l.NsA, "addr", "add", newIP+"/24", "dev", l.IfaceA)
}

// MustIP runs `ip args...` and fails the test if it fails.
func MustIP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// RunIP runs `ip args...` for cleanup, logging a failure.
func RunIP(t testing.TB, args ...string) {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Logf("cleanup: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}
