package ui

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine/doctor"
	"peersync/syncengine/endpoint"
	"peersync/syncengine/tlsid"
)

// peersScreen lists peers found on the LAN and added by hand, live, and
// starts a replication with one.
type peersScreen struct {
	u       *mainUI
	browser PeerBrowser // nil: discovery is off

	list                 *widget.List
	host, port, database *widget.Entry
	tls                  *widget.Check
	addBtn               *widget.Button
	replicateBtn, remove *widget.Button
	diagnoseBtn          *widget.Button
	checkBtn, trustBtn   *widget.Button
	diagnosis            diagnoseAction
	message              *widget.Label
	content              fyne.CanvasObject
	peers                []discovery.Peer
	selected             int
	now                  func() time.Time
	cancel               func() // ends the browser subscription

	// Reachability, touched on the UI goroutine only.
	checks  map[string]*peerCheck // the last check of each peer, by Key
	trusted map[string]string     // fingerprints the user trusted here, by Key
	pins    []ReplicationState    // the replications, for the pins they hold
	slots   chan struct{}         // bounds the checks running at once
}

// peerCheck is the last reachability check of a peer: TCP and, for a TLS
// peer, the handshake (doctor.Reach), which also fetches its certificate.
type peerCheck struct {
	running bool
	then    []func(*peerCheck) // to run when the running check ends
	at      time.Time          // when the last one ended; zero: none yet
	rep     doctor.Report
	fp      string // the certificate seen, lowercase hex; "" without one
}

const (
	maxChecks        = 4                // checks running at once
	checkStepTimeout = 5 * time.Second  // per step of a check
	checkTimeout     = 20 * time.Second // a whole check
)

func newPeersScreen(u *mainUI, b PeerBrowser) *peersScreen {
	s := &peersScreen{u: u, browser: b, selected: -1, now: time.Now,
		checks: map[string]*peerCheck{}, trusted: map[string]string{}, slots: make(chan struct{}, maxChecks)}
	s.list = widget.NewList(
		func() int { return len(s.peers) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("peer\naddress\nreachability")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			p := s.peers[i]
			o.(*widget.Label).SetText(peerLine(p, s.now()) + "\n" + s.reachability(p))
		},
	)
	s.list.OnSelected = func(i widget.ListItemID) { s.selected = i; s.updateButtons() }
	s.list.OnUnselected = func(widget.ListItemID) { s.selected = -1; s.updateButtons() }
	s.host = widget.NewEntry()
	s.host.SetPlaceHolder("host or IP address")
	s.port = widget.NewEntry()
	s.port.SetPlaceHolder("port")
	s.database = widget.NewEntry()
	s.database.SetPlaceHolder("database")
	s.tls = widget.NewCheck("TLS", nil)
	s.tls.SetChecked(true)
	s.addBtn = widget.NewButtonWithIcon("Add peer", theme.ContentAddIcon(), s.addManual)
	s.replicateBtn = widget.NewButtonWithIcon("Replicate with…", theme.ViewRefreshIcon(), s.replicateWith)
	s.remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), s.removeManual)
	s.diagnosis.u = u
	s.diagnoseBtn = widget.NewButtonWithIcon("Diagnose", theme.SearchIcon(), s.diagnose)
	s.checkBtn = widget.NewButtonWithIcon("Check", theme.MediaReplayIcon(), s.checkOnDemand)
	s.trustBtn = widget.NewButtonWithIcon("Trust certificate…", theme.ConfirmIcon(), s.trustSelected)
	actions := container.NewHBox(s.replicateBtn, s.remove)
	if s.diagnosis.available() {
		actions.Add(s.diagnoseBtn)
	}
	actions.Add(s.checkBtn)
	actions.Add(s.trustBtn)
	actions.Add(layout.NewSpacer())
	s.message = widget.NewLabel("")
	s.message.Wrapping = fyne.TextWrapWord

	add := container.NewBorder(nil, nil, nil, container.NewHBox(s.tls, s.addBtn),
		container.NewGridWithColumns(3, s.host, s.port, s.database))
	head := container.NewVBox(
		widget.NewLabelWithStyle("Peers", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		add,
		actions)
	s.content = container.NewBorder(head, s.message, nil, nil, s.list)
	if b == nil {
		s.message.SetText("Discovery is off: no peers are looked for on the local network, and peers cannot be added here. Turn on browsing in the configuration ([discovery] browse = true).")
		for _, w := range []fyne.Disableable{s.host, s.port, s.database, s.tls, s.addBtn} {
			w.Disable()
		}
	} else {
		s.subscribe()
	}
	s.updateButtons()
	return s
}

func (s *peersScreen) view() fyne.CanvasObject { return s.content }

// shown lists the peers and checks every one of them again.
func (s *peersScreen) shown() {
	s.refresh()
	s.loadPins()
	for _, p := range s.peers {
		s.check(p, nil)
	}
}

// subscribe follows the browser: each change reloads the list on the UI
// goroutine, a burst costing one reload per batch.
func (s *peersScreen) subscribe() {
	ch, cancel := s.browser.Subscribe()
	s.cancel = cancel
	go func() {
		for range ch {
			for len(ch) > 0 {
				<-ch
			}
			s.u.run.onUI(s.refresh)
		}
	}()
}

// stop ends the subscription (when the window closes).
func (s *peersScreen) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

func (s *peersScreen) refresh() {
	if s.browser == nil {
		return
	}
	var key string
	if s.selected >= 0 && s.selected < len(s.peers) {
		key = s.peers[s.selected].Key()
	}
	s.peers = s.browser.Peers()
	s.list.UnselectAll()
	s.list.Refresh()
	for i, p := range s.peers {
		if key != "" && p.Key() == key {
			s.list.Select(i)
		}
	}
	manual := 0
	for _, p := range s.peers {
		if p.Manual {
			manual++
		}
	}
	s.message.SetText(fmt.Sprintf("%d peers (%d found on the network, %d added by hand)", len(s.peers), len(s.peers)-manual, manual) +
		discoveryState(s.browser))
	if s.u.current == navPeers {
		for _, p := range s.peers {
			if s.checks[p.Key()] == nil { // a peer that just appeared
				s.check(p, nil)
			}
		}
	}
	s.updateButtons()
}

// discoveryState says, after the counts, whether looking for peers works.
func discoveryState(b PeerBrowser) string {
	hb, ok := b.(interface {
		Health() discovery.BrowserHealth
	})
	if !ok {
		return ""
	}
	switch h := hb.Health(); {
	case h.QueryError != "":
		return ". Looking for peers fails: " + h.QueryError
	case !h.Running:
		return ". Not looking for peers on the network: only peers added by hand are listed"
	case h.Interface != "":
		return ". Looking for peers on " + h.Interface
	}
	return ". Looking for peers on the local network"
}

func peerLine(p discovery.Peer, now time.Time) string {
	addr := net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	if len(p.Addrs) > 0 {
		addr = net.JoinHostPort(p.Addrs[0].String(), strconv.Itoa(p.Port))
	}
	security := "no TLS"
	if p.TLS {
		security = "TLS"
		if p.Fingerprint != "" {
			security += ", code " + tlsid.ShortCode(p.Fingerprint)
		}
	}
	seen := "added by hand"
	if !p.Manual {
		seen = "seen " + now.Sub(p.LastSeen).Round(time.Second).String() + " ago"
	}
	return fmt.Sprintf("%s · database %s\n%s · %s · %s", p.Name, p.Database, addr, security, seen)
}

func (s *peersScreen) updateButtons() {
	ok := s.selected >= 0 && s.selected < len(s.peers)
	enable(s.replicateBtn, ok)
	enable(s.remove, ok && s.peers[s.selected].Manual)
	enable(s.diagnoseBtn, ok)
	enable(s.checkBtn, s.browser != nil)
	enable(s.trustBtn, ok && s.untrustedCertificate(s.peers[s.selected]) != "")
}

func (s *peersScreen) addManual() {
	port, err := strconv.Atoi(strings.TrimSpace(s.port.Text))
	if err != nil {
		s.message.SetText("The port must be a number.")
		return
	}
	p, err := s.browser.AddManual(strings.TrimSpace(s.host.Text), port, strings.TrimSpace(s.database.Text), s.tls.Checked)
	if err != nil {
		s.message.SetText("Could not add the peer: " + err.Error())
		return
	}
	s.host.SetText("")
	s.port.SetText("")
	s.database.SetText("")
	s.refresh()
	// A peer added by hand announced no certificate: fetch it at once and
	// ask whether to trust it, so its first replication is not refused.
	delete(s.checks, p.Key())
	s.check(p, func(c *peerCheck) {
		if p.TLS && c.fp != "" && s.trustedFingerprint(p) != c.fp {
			s.askTrustPeer(p, c.fp, nil)
		}
	})
}

func (s *peersScreen) removeManual() {
	if s.selected < 0 || s.selected >= len(s.peers) || !s.peers[s.selected].Manual {
		return
	}
	key := s.peers[s.selected].Key()
	s.browser.RemoveManual(key)
	delete(s.checks, key)
	delete(s.trusted, key)
	s.refresh()
}

// replicateWith opens the replication form for the selected peer, or the
// replication that already has it as its target (one peer, however spelt,
// is one replication). A TLS peer's announced fingerprint becomes the pin
// only once the user trusts it; a fingerprint some replication already
// pins is trusted already.
func (s *peersScreen) replicateWith() {
	if s.selected < 0 || s.selected >= len(s.peers) {
		return
	}
	p := s.peers[s.selected]
	set := ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: p.Name + "-" + p.Database, Target: p.URL(),
		Type: service.TypePushAndPull, Conflicts: service.ConflictsDefault, Continuous: true}}
	open := func(old string, set ReplicationSettings) {
		s.u.show(navReplications)
		s.u.replications.showForm(old, set)
	}
	call(s.u.run, s.u.ws.Replications, func(rows []ReplicationState, err error) {
		for _, r := range rows {
			if err == nil && endpoint.Same(r.Settings.Target, p.URL()) {
				open(r.Settings.Name, r.Settings)
				return
			}
		}
		if !p.TLS {
			open("", set)
			return
		}
		if fp := s.trusted[p.Key()]; fp != "" {
			set.Pin = fp
			open("", set)
			return
		}
		ask := func(fp string) {
			for _, r := range rows {
				if err == nil && r.Settings.Pin == fp {
					set.Pin = fp
					open("", set)
					return
				}
			}
			s.askTrustPeer(p, fp, func() {
				set.Pin = fp
				open("", set)
			})
		}
		switch c := s.checks[p.Key()]; {
		case p.Fingerprint != "":
			ask(p.Fingerprint) // announced
		case c != nil && c.fp != "":
			ask(c.fp) // fetched by a check
		default:
			// Added by hand and not fetched yet: fetch it first.
			s.check(p, func(c *peerCheck) {
				if c.fp == "" {
					s.message.SetText("Could not fetch the certificate of " + p.URL() + " (" + s.reachability(p) +
						"). The replication asks to trust it when it first connects.")
					open("", set)
					return
				}
				ask(c.fp)
			})
		}
	})
}

// diagnose runs the connection doctor on the selected peer.
func (s *peersScreen) diagnose() {
	if s.selected < 0 || s.selected >= len(s.peers) {
		return
	}
	p := s.peers[s.selected]
	s.diagnosis.run(p.Name+" · "+p.Database, func(d Diagnoser) (doctor.Report, error) { return d.DiagnosePeer(p) })
}

// check runs a reachability check of p in the background, at most
// maxChecks at once, and then on the UI goroutine shows it and calls then
// (if not nil). A check of p already running is not started twice; then
// waits for it. It sends no credentials: doctor.Reach stops after the TLS
// handshake, with no client certificate.
func (s *peersScreen) check(p discovery.Peer, then func(*peerCheck)) {
	key := p.Key()
	c := s.checks[key]
	if c == nil {
		c = &peerCheck{}
		s.checks[key] = c
	}
	if then != nil {
		c.then = append(c.then, then)
	}
	if c.running {
		return
	}
	c.running = true
	s.list.Refresh()
	url := p.URL()
	s.u.run.background(func() {
		s.slots <- struct{}{}
		ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
		rep := doctor.Reach(ctx, doctor.Target{URL: url}, doctor.Options{StepTimeout: checkStepTimeout})
		cancel()
		<-s.slots
		fp := ""
		if rep.Certificate != nil {
			fp, _ = tlsid.ParseFingerprint(rep.Certificate.Fingerprint)
		}
		s.u.run.onUI(func() {
			c.running, c.at, c.rep, c.fp = false, s.now(), rep, fp
			then := c.then
			c.then = nil
			s.list.Refresh()
			s.updateButtons()
			for _, fn := range then {
				fn(c)
			}
		})
	})
}

// checkOnDemand checks the selected peer again, or every peer when none is
// selected.
func (s *peersScreen) checkOnDemand() {
	if s.selected >= 0 && s.selected < len(s.peers) {
		s.check(s.peers[s.selected], nil)
		return
	}
	s.loadPins()
	for _, p := range s.peers {
		s.check(p, nil)
	}
}

// loadPins reads the replications in the background for the certificates
// they pin: a peer whose replication pins a certificate trusts it.
func (s *peersScreen) loadPins() {
	call(s.u.run, s.u.ws.Replications, func(rows []ReplicationState, err error) {
		if err == nil {
			s.pins = rows
			s.list.Refresh()
			s.updateButtons()
		}
	})
}

// trustedFingerprint is the certificate p is trusted with: the one the
// user trusted here, or the pin of a replication with p.
func (s *peersScreen) trustedFingerprint(p discovery.Peer) string {
	if fp := s.trusted[p.Key()]; fp != "" {
		return fp
	}
	for _, r := range s.pins {
		if r.Settings.Pin != "" && endpoint.Same(r.Settings.Target, p.URL()) {
			if fp, err := tlsid.ParseFingerprint(r.Settings.Pin); err == nil {
				return fp
			}
		}
	}
	return ""
}

// untrustedCertificate is the certificate p's last check saw when it is
// not the trusted one (the one to offer for trust), or "".
func (s *peersScreen) untrustedCertificate(p discovery.Peer) string {
	c := s.checks[p.Key()]
	if !p.TLS || c == nil || c.fp == "" || c.fp == s.trustedFingerprint(p) {
		return ""
	}
	return c.fp
}

// trustSelected offers the certificate the selected peer's check saw.
func (s *peersScreen) trustSelected() {
	if s.selected < 0 || s.selected >= len(s.peers) {
		return
	}
	p := s.peers[s.selected]
	if fp := s.untrustedCertificate(p); fp != "" {
		s.askTrustPeer(p, fp, nil)
	}
}

// askTrustPeer asks whether to trust fp for p; only the user's Trust pins
// it. Trusted, it is what Replicate with… pins, and a replication already
// made with p gets it as its pin, as when a refused certificate is trusted
// on the Replications screen. Then then runs, if not nil.
func (s *peersScreen) askTrustPeer(p discovery.Peer, fp string, then func()) {
	note := "Replicate with… then pins it, and a replication with this peer is saved with it as its pin."
	if old := s.trustedFingerprint(p); old != "" && old != fp {
		note = "WARNING: this is not the certificate trusted so far (code " + tlsid.ShortCode(old) +
			"): trust it only if the peer's owner says it changed it. " + note
	}
	s.u.askTrustAs(p.URL(), fp, note, func() {
		s.trusted[p.Key()] = fp
		s.message.SetText("Trusted the certificate of " + p.URL() + " (code " + tlsid.ShortCode(fp) + ").")
		s.list.Refresh()
		s.updateButtons()
		call(s.u.run, s.u.ws.Replications, func(rows []ReplicationState, err error) {
			for _, r := range rows {
				if err == nil && endpoint.Same(r.Settings.Target, p.URL()) && r.Settings.Pin != fp {
					set := r.Settings
					set.Pin, set.AcceptSelfSigned = fp, false
					s.u.replications.save(set.Name, set)
				}
			}
			s.loadPins()
		})
		if then != nil {
			then()
		}
	})
}

// reachability says what the last check of p found, in one line:
// "reachable · TLS · 12 ms · …", "unreachable: connection refused", "not
// checked yet".
func (s *peersScreen) reachability(p discovery.Peer) string {
	c := s.checks[p.Key()]
	switch {
	case c == nil || c.at.IsZero() && !c.running:
		return "not checked yet"
	case c.at.IsZero():
		return "checking…"
	}
	line := reachLine(c.rep, p, c.fp, s.trustedFingerprint(p))
	line += " · checked " + c.at.Format(time.TimeOnly)
	if c.running {
		line += ", checking again…"
	}
	return line
}

// reachLine words a check's report for p, whose certificate seen is fp
// and trusted one trusted ("" for none).
func reachLine(rep doctor.Report, p discovery.Peer, fp, trusted string) string {
	tcp := rep.Step(doctor.StepTCP)
	if f := rep.Failed(); f != nil && (f.Name == doctor.StepResolve || f.Name == doctor.StepTCP) {
		return "unreachable: " + unreachableReason(f)
	}
	if tcp == nil || !tcp.Ran {
		return "not checked yet"
	}
	took := fmt.Sprintf("%d ms", max(1, tcp.Took.Round(time.Millisecond).Milliseconds()))
	if !p.TLS {
		return "reachable · no TLS · " + took
	}
	tlsStep := rep.Step(doctor.StepTLS)
	if fp == "" {
		detail := "no certificate"
		if tlsStep != nil && tlsStep.Detail != "" {
			detail = tlsStep.Detail
		}
		return "reachable, but TLS fails: " + detail
	}
	line := "reachable · TLS · " + took + " · "
	code := tlsid.ShortCode(fp)
	switch {
	case trusted == fp:
		return line + "trusted certificate, code " + code
	case trusted != "":
		return line + "CERTIFICATE CHANGED: code " + code + " is not the trusted " + tlsid.ShortCode(trusted) + ", so replications are refused"
	case p.Fingerprint != "" && p.Fingerprint != fp:
		return line + "certificate code " + code + " is not the one announced (" + tlsid.ShortCode(p.Fingerprint) + ")"
	case tlsStep != nil && tlsStep.OK:
		return line + "certificate from a trusted authority, code " + code
	}
	return line + "certificate code " + code + ", not trusted yet"
}

// unreachableReason is a failed resolve or TCP step in a few words.
func unreachableReason(f *doctor.Step) string {
	switch d := f.Detail; {
	case f.Name == doctor.StepTCP && strings.Contains(d, "refused the connection"):
		return "connection refused"
	case f.Name == doctor.StepTCP && strings.Contains(d, "timed out"):
		return "no answer (timed out)"
	case d != "":
		return d
	}
	return f.Name + " failed"
}
