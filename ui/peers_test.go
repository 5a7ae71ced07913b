package ui

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// The browser is never started, so nothing is sent to the network: manual
// peers and subscriptions work without it.
func TestPeersAddAndRemoveManually(t *testing.T) {
	b := discovery.NewBrowser(discovery.BrowserOptions{})
	h := newHarness(t, withBrowser(b))
	s := h.u.peers
	s.now = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) } // the check's time, in the markup
	h.u.show(navPeers)
	h.settle()
	// Port 1 on 127.0.0.1: nothing listens there, so the check the screen
	// makes renders the same on every run.
	test.Type(s.host, "127.0.0.1")
	test.Type(s.port, "1")
	test.Type(s.database, "notes")
	test.Tap(s.addBtn)
	h.settle()
	if len(s.peers) != 1 || !s.peers[0].Manual || s.peers[0].URL() != "wss://127.0.0.1:1/notes" {
		t.Fatalf("peers %+v", s.peers)
	}
	if !hasText(s.list, "127.0.0.1 · database notes") || !hasText(s.message, "1 added by hand") {
		t.Errorf("list shows %q, message %q", texts(s.list), s.message.Text)
	}
	s.list.Select(0)
	test.AssertRendersToMarkup(t, "peers.xml", h.u.win.Canvas())
	test.Tap(s.remove)
	h.settle()
	if len(s.peers) != 0 || len(b.Peers()) != 0 {
		t.Errorf("after Remove: %+v", s.peers)
	}
	test.Type(s.port, "x")
	test.Tap(s.addBtn)
	if s.message.Text != "The port must be a number." {
		t.Errorf("bad port: %q", s.message.Text)
	}
}

func TestPeersSayWhenDiscoveryIsOff(t *testing.T) {
	h := newHarness(t)
	h.u.show(navPeers)
	h.settle()
	if !hasText(h.u.peers.content, "Discovery is off") || !h.u.peers.addBtn.Disabled() {
		t.Errorf("peers screen shows %q", texts(h.u.peers.content))
	}
}

// announcedBrowser holds one peer as if found on the LAN.
type announcedBrowser struct{ peer discovery.Peer }

func (a announcedBrowser) Subscribe() (<-chan discovery.Event, func()) {
	ch := make(chan discovery.Event)
	return ch, func() { close(ch) }
}
func (a announcedBrowser) Peers() []discovery.Peer { return []discovery.Peer{a.peer} }
func (a announcedBrowser) AddManual(string, int, string, bool) (discovery.Peer, error) {
	return discovery.Peer{}, nil
}
func (a announcedBrowser) RemoveManual(string) {}

func TestReplicateWithPinsOnlyATrustedFingerprint(t *testing.T) {
	fp := "aa11223344556677889900aabbccddeeff00112233445566778899aabbccddee"
	p := discovery.Peer{PeerID: "p1", Name: "desk", Database: "notes", Addrs: []net.IP{net.ParseIP("127.0.0.1")},
		Port: 4984, TLS: true, Fingerprint: fp, LastSeen: time.Now()}
	h := newHarness(t, withBrowser(announcedBrowser{p}))
	s := h.u.peers
	h.u.show(navPeers)
	h.settle()
	s.list.Select(0)
	test.Tap(s.replicateBtn)
	h.settle()
	if h.u.trustDialog == nil || !hasText(h.topDialog(), tlsid.FormatFingerprint(fp)) {
		t.Fatalf("no trust question; top shows %q", texts(h.topDialog()))
	}
	if h.u.replications.openForm != nil {
		t.Fatal("the form opened before the fingerprint was trusted")
	}
	test.Tap(button(h.topDialog(), "Trust"))
	h.settle()
	f := h.u.replications.openForm
	if f == nil || h.u.current != navReplications {
		t.Fatal("trusting did not open the replication form")
	}
	if f.target.Text != "wss://127.0.0.1:4984/notes" || f.pin.Text != fp {
		t.Errorf("form target %q pin %q", f.target.Text, f.pin.Text)
	}
	h.u.replications.form.Hide()

	// Declining leaves no form; a replication pinning it makes it trusted.
	h.u.show(navPeers)
	h.u.trustDialog = nil
	test.Tap(s.replicateBtn)
	h.settle()
	test.Tap(button(h.topDialog(), "Cancel"))
	h.settle()
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "desk-notes", Database: "notes", Target: p.URL(), Type: service.TypePush, Pin: fp}}); err != nil {
		t.Fatal(err)
	}
	h.u.trustDialog = nil
	h.u.replications.openForm = nil
	h.u.show(navPeers)
	test.Tap(s.replicateBtn)
	h.settle()
	if h.u.trustDialog != nil || h.u.replications.openForm == nil || h.u.replications.openForm.pin.Text != fp {
		t.Error("an already pinned fingerprint was asked about again")
	}
}

// TestReplicateWithOpensTheExistingReplication: a peer that some
// replication already targets, spelt the other accepted way, opens that
// replication instead of a form for a second one.
func TestReplicateWithOpensTheExistingReplication(t *testing.T) {
	p := discovery.Peer{PeerID: "p1", Name: "desk", Database: "notes", Addrs: []net.IP{net.ParseIP("127.0.0.1")},
		Port: 4984, LastSeen: time.Now()}
	h := newHarness(t, withBrowser(announcedBrowser{p}))
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "to-desk", Database: "notes", Target: p.URL() + "/_blipsync", Type: service.TypePush}}); err != nil {
		t.Fatal(err)
	}
	s := h.u.peers
	h.u.show(navPeers)
	h.settle()
	s.list.Select(0)
	test.Tap(s.replicateBtn)
	h.settle()
	f := h.u.replications.openForm
	if f == nil || f.name.Text != "to-desk" || f.typ.Selected != labelFor(typeLabels, typeValues, service.TypePush) {
		t.Fatalf("form %+v, want the existing replication to-desk", f)
	}
}

// The Peers screen says whether looking for peers works.
func TestPeersScreenSaysWhetherDiscoveryRuns(t *testing.T) {
	b := discovery.NewBrowser(discovery.BrowserOptions{}) // never started: sends nothing
	defer b.Stop()
	if got := discoveryState(b); !strings.Contains(got, "Not looking for peers") {
		t.Errorf("a browser that does not run: %q", got)
	}
	h := newHarness(t, withBrowser(b))
	h.u.show(navPeers)
	h.settle()
	h.u.peers.refresh()
	if !strings.Contains(h.u.peers.message.Text, "only peers added by hand") {
		t.Errorf("the Peers screen says %q", h.u.peers.message.Text)
	}
}

// addPeerByHand types a peer into the Peers screen and adds it, TLS on or
// off, and lets its check finish.
func addPeerByHand(h *harness, port int, tls bool) {
	h.t.Helper()
	s := h.u.peers
	h.u.show(navPeers)
	h.settle()
	test.Type(s.host, "127.0.0.1")
	test.Type(s.port, strconv.Itoa(port))
	test.Type(s.database, "notes")
	s.tls.SetChecked(tls)
	test.Tap(s.addBtn)
	h.settle()
}

// replicateFromPeersScreen taps Replicate with… on the only peer and
// submits the form it opens as a one-shot pull into notes.
func replicateFromPeersScreen(t *testing.T, h *harness, wantPin string) string {
	t.Helper()
	s := h.u.peers
	h.u.show(navPeers)
	h.settle()
	s.list.Select(0)
	h.u.trustDialog = nil
	test.Tap(s.replicateBtn)
	h.settle()
	rf := h.u.replications.openForm
	if h.u.trustDialog != nil || rf == nil {
		t.Fatalf("Replicate with… on a trusted peer: trust asked %v, form %v", h.u.trustDialog != nil, rf)
	}
	if rf.pin.Text != wantPin {
		t.Fatalf("the form pins %q, want %q", rf.pin.Text, wantPin)
	}
	selectOption(rf.database, "notes")
	selectOption(rf.typ, "Pull only")
	rf.continuous.SetChecked(false)
	rf.auto.SetChecked(true)
	name := rf.name.Text
	h.u.replications.form.Submit()
	h.settle()
	return name
}

// A TLS peer added by hand is reached at once: its certificate's code is
// shown and offered for trust; Trust pins exactly that certificate, and a
// replication made with Replicate with… uses the pin and succeeds.
func TestHandAddedPeerIsOfferedForTrustAndReplicates(t *testing.T) {
	b := discovery.NewBrowser(discovery.BrowserOptions{}) // never started: sends nothing
	h := newHarness(t, withBrowser(b))
	h.database("notes")
	l := peerListener(t, "notes", true)
	save(t, l.Config().Database, "ada", "", `{"name":"Ada"}`)
	fp := l.TLSIdentity().Fingerprint()
	code := tlsid.ShortCode(fp)
	s := h.u.peers

	addPeerByHand(h, l.Port(), true)
	if h.u.trustDialog == nil || !hasText(h.topDialog(), code) || !hasText(h.topDialog(), tlsid.FormatFingerprint(fp)) {
		t.Fatalf("no trust question with the code %s; top shows %q", code, texts(h.topDialog()))
	}
	if !hasText(s.list, "reachable · TLS · ") || !hasText(s.list, "certificate code "+code+", not trusted yet") {
		t.Errorf("the list shows %q", texts(s.list))
	}
	if len(s.trusted) != 0 {
		t.Fatalf("trusted before the user said so: %v", s.trusted)
	}
	test.Tap(button(h.topDialog(), "Trust"))
	h.settle()
	if got := s.trusted[b.Peers()[0].Key()]; got != fp {
		t.Fatalf("trusted %q, want the listener's %q", got, fp)
	}
	if !hasText(s.list, "trusted certificate, code "+code) {
		t.Errorf("after Trust the list shows %q", texts(s.list))
	}

	name := replicateFromPeersScreen(t, h, fp)
	rs := h.u.replications
	h.waitFor("the pull to finish", func() bool {
		st := rs.status(name)
		return st.Activity == syncengine.Stopped && rs.row(name) != nil && rs.row(name).ID != ""
	})
	if st := rs.status(name); st.Error != nil || st.Pulled != 1 {
		t.Fatalf("the pull ended with %v, pulled %d", st.Error, st.Pulled)
	}
	if got := h.ws.savedReplication(t, name); got.Pin != fp {
		t.Errorf("saved pin %q, want %q", got.Pin, fp)
	}
}

// A peer whose certificate is no longer the trusted one is shown as
// changed when checked, and its replication is refused with the reason.
func TestPeerWithAnotherCertificateIsRefused(t *testing.T) {
	b := discovery.NewBrowser(discovery.BrowserOptions{})
	h := newHarness(t, withBrowser(b))
	h.database("notes")
	first := peerListener(t, "notes", true)
	port, old := first.Port(), first.TLSIdentity().Fingerprint()
	addPeerByHand(h, port, true)
	test.Tap(button(h.topDialog(), "Trust"))
	h.settle()

	// Another engine, with another certificate, now answers on that port.
	first.Stop()
	other := newPeerEngine(t)
	d, err := other.CreateDatabase("notes")
	if err != nil {
		t.Fatal(err)
	}
	l, err := other.NewListener(syncengine.ListenerConfig{Database: d, NetworkInterface: "127.0.0.1", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	fresh := l.TLSIdentity().Fingerprint()

	s := h.u.peers
	s.list.Select(0)
	test.Tap(s.checkBtn)
	h.settle()
	want := "CERTIFICATE CHANGED: code " + tlsid.ShortCode(fresh) + " is not the trusted " + tlsid.ShortCode(old)
	if !hasText(s.list, want) {
		t.Errorf("after the change the list shows %q, want %q", texts(s.list), want)
	}
	if s.trustBtn.Disabled() {
		t.Error("the changed certificate is not offered for trust")
	}

	name := replicateFromPeersScreen(t, h, old)
	rs := h.u.replications
	h.waitFor("the refusal", func() bool { return rs.status(name).Error != nil })
	if msg := rs.status(name).Error.Error(); !strings.Contains(msg, "does not match the pinned certificate") {
		t.Errorf("refused with %q, want a pin mismatch", msg)
	}
	if !strings.Contains(rs.errLabel.Text, tlsid.ShortCode(fresh)) {
		t.Errorf("the error says %q, want the new certificate's code", rs.errLabel.Text)
	}
	if got := h.ws.savedReplication(t, name); got.Pin != old {
		t.Errorf("the pin changed to %q without the user's click", got.Pin)
	}
}

// The Peers screen checks every peer when it opens: a closed port is
// unreachable, a plain listener reachable without TLS, and a TLS peer that
// cannot be reached asks nothing and pins nothing.
func TestPeersScreenShowsReachability(t *testing.T) {
	b := discovery.NewBrowser(discovery.BrowserOptions{})
	h := newHarness(t, withBrowser(b))
	plain := peerListener(t, "notes", false)
	closed := closedPort(t)
	if _, err := b.AddManual("127.0.0.1", plain.Port(), "notes", false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddManual("127.0.0.1", closed, "notes", true); err != nil {
		t.Fatal(err)
	}
	s := h.u.peers
	h.u.show(navPeers)
	h.settle()
	byPort := map[int]string{}
	for i, p := range s.peers {
		byPort[p.Port] = s.reachability(s.peers[i])
	}
	if got := byPort[closed]; !strings.HasPrefix(got, "unreachable: connection refused · checked ") {
		t.Errorf("closed port: %q", got)
	}
	if got := byPort[plain.Port()]; !strings.HasPrefix(got, "reachable · no TLS · ") {
		t.Errorf("plain listener: %q", got)
	}
	if !hasText(s.list, "unreachable: connection refused") {
		t.Errorf("the list shows %q", texts(s.list))
	}
	for i, p := range s.peers {
		if p.Port == closed {
			s.list.Select(i)
		}
	}
	if !s.trustBtn.Disabled() {
		t.Error("Trust is on for a peer whose certificate was never seen")
	}
	h.database("notes")
	test.Tap(s.replicateBtn)
	h.settle()
	if h.u.trustDialog != nil || h.u.replications.openForm == nil || h.u.replications.openForm.pin.Text != "" {
		t.Error("an unreachable TLS peer: want the form without a pin and no trust question")
	}
}
