package ui

import (
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
	diagnosis            diagnoseAction
	message              *widget.Label
	content              fyne.CanvasObject
	peers                []discovery.Peer
	selected             int
	now                  func() time.Time
	cancel               func() // ends the browser subscription
}

func newPeersScreen(u *mainUI, b PeerBrowser) *peersScreen {
	s := &peersScreen{u: u, browser: b, selected: -1, now: time.Now}
	s.list = widget.NewList(
		func() int { return len(s.peers) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("peer\naddress")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(peerLine(s.peers[i], s.now()))
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
	actions := container.NewHBox(s.replicateBtn, s.remove)
	if s.diagnosis.available() {
		actions.Add(s.diagnoseBtn)
	}
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
func (s *peersScreen) shown()                  { s.refresh() }

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
}

func (s *peersScreen) addManual() {
	port, err := strconv.Atoi(strings.TrimSpace(s.port.Text))
	if err != nil {
		s.message.SetText("The port must be a number.")
		return
	}
	if _, err := s.browser.AddManual(strings.TrimSpace(s.host.Text), port, strings.TrimSpace(s.database.Text), s.tls.Checked); err != nil {
		s.message.SetText("Could not add the peer: " + err.Error())
		return
	}
	s.host.SetText("")
	s.port.SetText("")
	s.database.SetText("")
	s.refresh()
}

func (s *peersScreen) removeManual() {
	if s.selected < 0 || s.selected >= len(s.peers) || !s.peers[s.selected].Manual {
		return
	}
	s.browser.RemoveManual(s.peers[s.selected].Key())
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
		if !p.TLS || p.Fingerprint == "" {
			open("", set)
			return
		}
		for _, r := range rows {
			if err == nil && r.Settings.Pin == p.Fingerprint {
				set.Pin = p.Fingerprint
				open("", set)
				return
			}
		}
		s.u.askTrust(p.URL(), p.Fingerprint, func() {
			set.Pin = p.Fingerprint
			open("", set)
		})
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
