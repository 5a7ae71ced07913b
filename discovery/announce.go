package discovery

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
)

// Service describes a listener to announce.
type Service struct {
	PeerID      string
	Name        string // friendly name; DefaultName() when empty
	Database    string
	Port        int
	IPs         []net.IP // addresses to announce; empty means the interface's current ones
	TLS         bool
	Fingerprint string // SHA-256 of the listener certificate, hex; required with TLS
}

// AnnounceOptions tunes an Announcer.
type AnnounceOptions struct {
	// Interface limits answering to one network interface; nil uses the
	// system's default multicast interface.
	Interface *net.Interface
	// Logger receives the mDNS library's diagnostics; nil discards them.
	Logger *slog.Logger
}

// Announcer answers mDNS queries for one service until stopped.
type Announcer struct {
	server   *mdns.Server
	stopOnce sync.Once
	stopErr  error
}

// Announce starts answering queries for s on the network.
func Announce(s Service, opts AnnounceOptions) (*Announcer, error) {
	zone, err := newServiceZone(s, opts.Interface)
	if err != nil {
		return nil, err
	}
	server, err := mdns.NewServer(&mdns.Config{
		Zone:   zone,
		Iface:  opts.Interface,
		Logger: libraryLogger(opts.Logger),
	})
	if err != nil {
		return nil, fmt.Errorf("discovery: announce %q: %w", s.Database, err)
	}
	return &Announcer{server: server}, nil
}

// Stop stops answering. Nothing more is sent; browsers notice the service is
// gone when their queries go unanswered. Stop may be called more than once.
func (a *Announcer) Stop() error {
	a.stopOnce.Do(func() { a.stopErr = a.server.Shutdown() })
	return a.stopErr
}

// serviceZone answers questions about one service. When the service has no
// fixed addresses it uses the interface's current ones, so a changed address
// is announced without restarting.
type serviceZone struct {
	instance, host string
	port           int
	txt            []string
	fixedIPs       []net.IP
	iface          *net.Interface

	mu     sync.Mutex // guards the cache below; the library asks from two goroutines
	cached *mdns.MDNSService
	ips    []net.IP
}

func newServiceZone(s Service, iface *net.Interface) (*serviceZone, error) {
	if err := validateService(&s); err != nil {
		return nil, err
	}
	raw, err := encodeTXT(txtInfo{PeerID: s.PeerID, Database: s.Database, TLS: s.TLS, Fingerprint: s.Fingerprint})
	if err != nil {
		return nil, err
	}
	txt := make([]string, len(raw))
	for i, f := range raw {
		txt[i] = escapeTXT(f)
	}
	instance, err := labelPresentation(instanceName(s.Name, s.Database))
	if err != nil {
		return nil, fmt.Errorf("discovery: instance name: %w", err)
	}
	return &serviceZone{
		instance: instance,
		host:     hostLabel(s.PeerID) + ".local.",
		port:     s.Port,
		txt:      txt,
		fixedIPs: sortAddrs(s.IPs),
		iface:    iface,
	}, nil
}

func validateService(s *Service) error {
	switch {
	case s.PeerID == "":
		return errors.New("discovery: announce: peer ID is empty")
	case s.Database == "":
		return errors.New("discovery: announce: database is empty")
	case s.Port < 1 || s.Port > 65535:
		return fmt.Errorf("discovery: announce: port %d is out of range 1-65535", s.Port)
	}
	if s.Name == "" {
		s.Name = DefaultName()
	}
	if s.TLS {
		fp, err := normaliseFingerprint(s.Fingerprint)
		if err != nil {
			return fmt.Errorf("discovery: announce with TLS: %w", err)
		}
		s.Fingerprint = fp
	}
	for _, ip := range s.IPs {
		if ip.To16() == nil {
			return fmt.Errorf("discovery: announce: invalid IP address %v", ip)
		}
	}
	return nil
}

// Records implements mdns.Zone.
func (z *serviceZone) Records(q dns.Question) []dns.RR {
	svc := z.current()
	if svc == nil {
		return nil
	}
	return svc.Records(q)
}

// current returns the service records for the addresses we have now, or nil
// when there are none to give.
func (z *serviceZone) current() *mdns.MDNSService {
	ips := z.fixedIPs
	if len(ips) == 0 {
		ips = interfaceAddrs(z.iface)
	}
	if len(ips) == 0 {
		return nil
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.cached != nil && slices.EqualFunc(ips, z.ips, net.IP.Equal) {
		return z.cached
	}
	svc, err := mdns.NewMDNSService(z.instance, ServiceType, "local.", z.host, z.port, ips, z.txt)
	if err != nil {
		return nil
	}
	z.cached, z.ips = svc, ips
	return svc
}
