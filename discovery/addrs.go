package discovery

import (
	"net"
)

// interfaceAddrs lists the addresses to announce: those of iface, or of every
// interface that is up and can multicast. Loopback and IPv6 link-local
// addresses are left out; the first is useless to other hosts and the second
// needs a zone the other host cannot know from our announcement.
func interfaceAddrs(iface *net.Interface) []net.IP {
	var ifaces []net.Interface
	if iface != nil {
		// Look the interface up again: its flags and addresses may have changed.
		if fresh, err := net.InterfaceByIndex(iface.Index); err == nil {
			ifaces = []net.Interface{*fresh}
		}
	} else {
		all, err := net.Interfaces()
		if err != nil {
			return nil
		}
		for _, ifc := range all {
			if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagMulticast != 0 && ifc.Flags&net.FlagLoopback == 0 {
				ifaces = append(ifaces, ifc)
			}
		}
	}
	var ips []net.IP
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || (ipn.IP.To4() == nil && ipn.IP.IsLinkLocalUnicast()) {
				continue
			}
			ips = append(ips, ipn.IP)
		}
	}
	return sortAddrs(ips)
}
