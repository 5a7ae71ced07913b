package ui

import (
	"net"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine/tlsid"
)

// The browser is never started, so nothing is sent to the network: manual
// peers and subscriptions work without it.
func TestPeersAddAndRemoveManually(t *testing.T) {
	b := discovery.NewBrowser(discovery.BrowserOptions{})
	h := newHarness(t, withBrowser(b))
	s := h.u.peers
	h.u.show(navPeers)
	h.settle()
	test.Type(s.host, "127.0.0.1")
	test.Type(s.port, "4984")
	test.Type(s.database, "notes")
	test.Tap(s.addBtn)
	h.settle()
	if len(s.peers) != 1 || !s.peers[0].Manual || s.peers[0].URL() != "wss://127.0.0.1:4984/notes" {
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
