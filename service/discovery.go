package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"

	"peersync/discovery"
	"peersync/syncengine/tlsid"
)

// announcer is what the Runner needs of a *discovery.Announcer; unit tests
// put a fake in its place so they send nothing on the network.
type announcer interface{ Stop() error }

type announceFunc func(discovery.Service, discovery.AnnounceOptions) (announcer, error)

func announceOnLAN(s discovery.Service, o discovery.AnnounceOptions) (announcer, error) {
	return discovery.Announce(s, o)
}

// lanDiscovery keeps the Runner's mDNS announcements (one per announced
// listener) and its browser in line with the configuration. The Runner's
// mutex guards it.
type lanDiscovery struct {
	dataDir  string
	log      *slog.Logger
	announce announceFunc

	peerID    string                   // loaded on first use
	announced map[string]*announcement // by listener name
	outcome   map[string]string        // by listener name: what the last apply did, in words

	browser    *discovery.Browser
	browserLog chan struct{} // closed when the event logger has finished
}

type announcement struct {
	svc   discovery.Service
	iface string
	a     announcer
}

func newLANDiscovery(dataDir string, log *slog.Logger) *lanDiscovery {
	return &lanDiscovery{dataDir: dataDir, log: log, announce: announceOnLAN, announced: map[string]*announcement{}, outcome: map[string]string{}}
}

// loadPeerID reads (or creates) the peer ID in the data directory once.
func (d *lanDiscovery) loadPeerID() (string, error) {
	if d.peerID == "" {
		id, err := discovery.LoadOrCreatePeerID(d.dataDir)
		if err != nil {
			return "", err
		}
		d.peerID = id
	}
	return d.peerID, nil
}

// apply announces exactly the running listeners that should be announced
// and starts or stops the browser. An announcement whose service is
// unchanged keeps running.
func (d *lanDiscovery) apply(cfg DiscoveryConfig, listeners map[string]*runningListener) error {
	clear(d.outcome)
	notAnnounced := func(why string) {
		for lname, rl := range listeners {
			if rl.cfg.Announce {
				d.outcome[lname] = "not announced: " + why
			}
		}
	}
	if !cfg.Announce {
		notAnnounced("announcing is off in Settings")
	}
	if !cfg.Announce && !cfg.Browse {
		d.stop()
		return nil
	}
	peerID, err := d.loadPeerID()
	if err != nil {
		d.stop()
		err = fmt.Errorf("discovery: %w", err)
		if cfg.Announce {
			notAnnounced(err.Error())
		}
		return err
	}
	name := cfg.Name
	if name == "" {
		name = discovery.DefaultName()
	}
	var errs []error
	want := map[string]*announcement{}
	if cfg.Announce {
		for lname, rl := range listeners {
			if !rl.cfg.Announce {
				continue
			}
			a, err := wantedAnnouncement(peerID, name, rl)
			if err != nil {
				errs = append(errs, fmt.Errorf("announce listener %q: %w", lname, err))
				d.outcome[lname] = "not announced: " + err.Error()
				continue
			}
			if a == nil {
				d.log.Info("listener bound to loopback is not announced", "listener", lname)
				d.outcome[lname] = "not announced: bound to loopback"
				continue
			}
			want[lname] = a
		}
	}
	for lname, cur := range d.announced {
		if w := want[lname]; w == nil || !reflect.DeepEqual(w.svc, cur.svc) || w.iface != cur.iface {
			d.withdraw(lname)
		}
	}
	for lname, w := range want {
		if d.announced[lname] == nil {
			if err := d.start(lname, w); err != nil {
				errs = append(errs, fmt.Errorf("announce listener %q: %w", lname, err))
				d.outcome[lname] = "not announced: " + err.Error()
				continue
			}
		}
		d.outcome[lname] = "announced on the LAN"
		if w.iface != "" {
			d.outcome[lname] += " (" + w.iface + ")"
		}
	}
	if cfg.Browse {
		errs = append(errs, d.startBrowser(peerID))
	} else {
		d.stopBrowser()
	}
	if d.browser != nil {
		errs = append(errs, syncManualPeers(d.browser, cfg.Peers))
	}
	return errors.Join(errs...)
}

// syncManualPeers makes the browser's hand-added peers those of the
// configuration, so they come back after a restart.
func syncManualPeers(b *discovery.Browser, peers []ManualPeer) error {
	keep := map[string]bool{}
	var errs []error
	for _, mp := range peers {
		p, err := b.AddManual(mp.Host, mp.Port, mp.Database, mp.TLS)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		keep[p.Key()] = true
	}
	for _, p := range b.Peers() {
		if p.Manual && !keep[p.Key()] {
			b.RemoveManual(p.Key())
		}
	}
	return errors.Join(errs...)
}

// wantedAnnouncement describes a running listener for mDNS, or returns nil
// for a listener only reachable on loopback.
func wantedAnnouncement(peerID, name string, rl *runningListener) (*announcement, error) {
	l := rl.l
	lc := l.Config()
	svc := discovery.Service{PeerID: peerID, Name: name, Database: lc.Database.Name(), Port: l.Port(), TLS: !lc.DisableTLS}
	if id := l.TLSIdentity(); id != nil {
		svc.Fingerprint = id.Fingerprint()
	}
	a := &announcement{svc: svc}
	switch ip := net.ParseIP(rl.cfg.Interface); {
	case rl.cfg.Interface == "":
		// Bound to every interface: announce whatever addresses they have now.
	case ip == nil:
		a.iface = rl.cfg.Interface // an interface name: follow its addresses
	case ip.IsLoopback():
		return nil, nil
	default:
		a.svc.IPs = []net.IP{ip}
		a.iface = interfaceWithIP(ip)
	}
	return a, nil
}

// interfaceWithIP names the interface that holds ip, or "" if none does.
func interfaceWithIP(ip net.IP) string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifc := range ifaces {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(ip) {
				return ifc.Name
			}
		}
	}
	return ""
}

func (d *lanDiscovery) start(lname string, a *announcement) error {
	var opts discovery.AnnounceOptions
	opts.Logger = d.log
	if a.iface != "" {
		ifc, err := net.InterfaceByName(a.iface)
		if err != nil {
			return err
		}
		opts.Interface = ifc
	}
	ann, err := d.announce(a.svc, opts)
	if err != nil {
		return err
	}
	a.a = ann
	d.announced[lname] = a
	d.log.Info("announcing on the local network", "listener", lname, "name", a.svc.Name, "database", a.svc.Database, "port", a.svc.Port, "tls", a.svc.TLS)
	return nil
}

// withdraw stops announcing a listener, if it was announced.
func (d *lanDiscovery) withdraw(lname string) {
	a := d.announced[lname]
	if a == nil {
		return
	}
	delete(d.announced, lname)
	if err := a.a.Stop(); err != nil {
		d.log.Warn("stopping an mDNS announcement failed", "listener", lname, "error", err.Error())
	}
	d.log.Info("no longer announcing", "listener", lname)
}

// startBrowser starts browsing (skipping our own announcements) and logs
// what it finds. It does nothing when a browser already runs.
func (d *lanDiscovery) startBrowser(peerID string) error {
	if d.browser != nil {
		return nil
	}
	b := discovery.NewBrowser(discovery.BrowserOptions{IgnorePeerID: peerID, Logger: d.log})
	events, _ := b.Subscribe() // Stop closes it
	if err := b.Start(context.Background()); err != nil {
		b.Stop()
		return fmt.Errorf("discovery: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			logPeerEvent(d.log, ev)
		}
	}()
	d.browser, d.browserLog = b, done
	d.log.Info("browsing the local network for peers")
	return nil
}

func (d *lanDiscovery) stopBrowser() {
	if d.browser == nil {
		return
	}
	d.browser.Stop()
	<-d.browserLog
	d.browser, d.browserLog = nil, nil
}

// stop withdraws every announcement and stops the browser.
func (d *lanDiscovery) stop() {
	for lname := range d.announced {
		d.withdraw(lname)
	}
	d.stopBrowser()
}

func logPeerEvent(log *slog.Logger, ev discovery.Event) {
	p := ev.Peer
	log.Info("peer "+ev.Kind.String(), "name", p.Name, "database", p.Database, "url", p.URL(), "tls", p.TLS,
		"fingerprint", ShortFingerprint(p.Fingerprint), "peer_id", p.PeerID)
}

// ShortFingerprint is the first eight bytes of a fingerprint, as status
// prints them; enough to compare by eye.
func ShortFingerprint(fp string) string {
	if len(fp) != 64 {
		return fp
	}
	return tlsid.FormatFingerprint(fp)[:23] + "…"
}

// Browser returns the running LAN browser, or nil when browsing is off.
// The GUI lists its peers; it must not Stop it (Apply and Stop do).
func (rn *Runner) Browser() *discovery.Browser {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.disc.browser
}

// Announcement says whether the running listener name is announced on the
// LAN, or why not; "" when it is not running or not marked for announcing.
func (rn *Runner) Announcement(name string) string {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.disc.outcome[name]
}

// PeerID returns this installation's peer ID, as announced.
func (rn *Runner) PeerID() (string, error) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.disc.loadPeerID()
}

// UseBrowser makes b the runner's browser in place of one it would start,
// for a browser made elsewhere (such as one holding only peers added by
// hand). It does nothing when a browser already runs.
func (rn *Runner) UseBrowser(b *discovery.Browser) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.disc.browser != nil {
		return
	}
	done := make(chan struct{})
	close(done) // no event logger runs for this browser
	rn.disc.browser, rn.disc.browserLog = b, done
}
