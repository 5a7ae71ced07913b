package service

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"peersync/discovery"
	"peersync/internal/leaktest"
	"peersync/syncengine"
)

// fakeLAN stands in for mDNS: it records which services are announced, so
// these tests send nothing on the network.
type fakeLAN struct {
	mu      sync.Mutex
	live    map[*fakeAnnouncer]discovery.Service
	started int
	fail    bool
}

type fakeAnnouncer struct{ lan *fakeLAN }

func (a *fakeAnnouncer) Stop() error {
	a.lan.mu.Lock()
	defer a.lan.mu.Unlock()
	delete(a.lan.live, a)
	return nil
}

func (f *fakeLAN) announce(s discovery.Service, _ discovery.AnnounceOptions) (announcer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errors.New("no multicast here")
	}
	a := &fakeAnnouncer{lan: f}
	f.live[a] = s
	f.started++
	return a, nil
}

// services lists what is announced now, by database.
func (f *fakeLAN) services() map[string]discovery.Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]discovery.Service{}
	for _, s := range f.live {
		out[s.Database] = s
	}
	return out
}

func newFakeLANRunner(t *testing.T) (*Runner, *fakeLAN) {
	t.Helper()
	e, err := syncengine.New(syncengine.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	for _, name := range []string{"notes", "photos", "local"} {
		if _, err := e.CreateDatabase(name); err != nil {
			t.Fatal(err)
		}
	}
	rn := NewRunner(e)
	t.Cleanup(rn.Stop)
	lan := &fakeLAN{live: map[*fakeAnnouncer]discovery.Service{}}
	rn.disc.announce = lan.announce
	return rn, lan
}

// discoveryTestConfig has an announced TLS listener, an announced plain one,
// one bound to loopback (never announced) and one not marked for announcing.
// Browsing stays off: a real browser would query the network.
func discoveryTestConfig() *Config {
	return &Config{
		Discovery: DiscoveryConfig{Announce: true, Name: "desk"},
		Listeners: []ListenerConfig{
			{Name: "notes", Database: "notes", Announce: true},
			{Name: "photos", Database: "photos", TLS: "off", Announce: true},
			{Name: "loop", Database: "local", Interface: "127.0.0.1", TLS: "off", Announce: true},
			{Name: "quiet", Database: "local", TLS: "off"},
		},
	}
}

func TestRunnerAnnouncesListenersAndFollowsConfigChanges(t *testing.T) {
	leaktest.Verify(t)
	rn, lan := newFakeLANRunner(t)
	cfg := discoveryTestConfig()
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	peerID, err := rn.PeerID()
	if err != nil {
		t.Fatal(err)
	}
	got := lan.services()
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"notes", "photos"}) {
		t.Fatalf("announced databases %v; want notes and photos (not the loopback or unmarked listener)", keys)
	}
	notes, photos := got["notes"], got["photos"]
	wantFP := rn.Listener("notes").TLSIdentity().Fingerprint()
	if notes.PeerID != peerID || notes.Name != "desk" || notes.Port != rn.Listener("notes").Port() || !notes.TLS || notes.Fingerprint != wantFP {
		t.Errorf("notes announced as %+v; want peer %s, name desk, port %d, TLS with %s", notes, peerID, rn.Listener("notes").Port(), wantFP)
	}
	if photos.TLS || photos.Fingerprint != "" || photos.Port != rn.Listener("photos").Port() {
		t.Errorf("photos announced as %+v; want plain on port %d", photos, rn.Listener("photos").Port())
	}
	if rn.Browser() != nil {
		t.Error("Browser() should be nil with browse off")
	}

	// Applying the same config again changes nothing.
	startedBefore := lan.started
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if lan.started != startedBefore || len(lan.services()) != 2 {
		t.Errorf("re-applying the same config re-announced (%d -> %d starts)", startedBefore, lan.started)
	}

	// A new friendly name re-announces both; photos no longer announced.
	cfg.Discovery.Name = "renamed"
	cfg.Listeners[1].Announce = false
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	got = lan.services()
	if len(got) != 1 || got["notes"].Name != "renamed" {
		t.Errorf("after rename and photos off: %+v; want only notes as renamed", got)
	}

	// A listener restarted on another port is announced with its new port.
	cfg.Listeners[0].TLS = "off"
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if n := lan.services()["notes"]; n.TLS || n.Port != rn.Listener("notes").Port() {
		t.Errorf("after notes restarted without TLS: %+v; want plain on port %d", n, rn.Listener("notes").Port())
	}

	// Removing the listener withdraws it; announce off withdraws everything.
	cfg.Listeners = cfg.Listeners[1:]
	cfg.Listeners[0].Announce = true
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(lan.services())); !slices.Equal(keys, []string{"photos"}) {
		t.Errorf("after removing notes: announced %v; want photos", keys)
	}
	cfg.Discovery.Announce = false
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if n := len(lan.services()); n != 0 {
		t.Errorf("announce off: %d announcements left", n)
	}

	// Stop withdraws what is announced.
	cfg.Discovery.Announce = true
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	rn.Stop()
	if n := len(lan.services()); n != 0 {
		t.Errorf("after Stop: %d announcements left", n)
	}
}

func TestRunnerReportsAnnounceFailureAndKeepsListening(t *testing.T) {
	leaktest.Verify(t)
	rn, lan := newFakeLANRunner(t)
	lan.fail = true
	err := rn.Apply(discoveryTestConfig())
	if err == nil || !containsAll(err.Error(), `announce listener "notes"`, "no multicast here") {
		t.Fatalf("Apply error = %v; want the announce failure named by listener", err)
	}
	if rn.Listener("notes") == nil {
		t.Error("the listener should run even when announcing it failed")
	}
	if got := rn.Announcement("notes"); got != "not announced: no multicast here" {
		t.Errorf("Announcement(notes) = %q; want the failure", got)
	}
	// Once announcing works, the next Apply catches up.
	lan.fail = false
	if err := rn.Apply(discoveryTestConfig()); err != nil {
		t.Fatal(err)
	}
	if n := len(lan.services()); n != 2 {
		t.Errorf("after recovery %d announcements; want 2", n)
	}
	if got := rn.Announcement("notes"); got != "announced on the LAN" {
		t.Errorf("after recovery Announcement(notes) = %q", got)
	}
}

// The Listeners screen shows what Announcement says, so it must tell an
// announced listener from one that only asked to be.
func TestRunnerSaysWhetherEachListenerIsAnnounced(t *testing.T) {
	leaktest.Verify(t)
	rn, _ := newFakeLANRunner(t)
	cfg := discoveryTestConfig()
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"notes":   "announced on the LAN",
		"photos":  "announced on the LAN",
		"loop":    "not announced: bound to loopback",
		"quiet":   "",
		"missing": "",
	}
	for name, w := range want {
		if got := rn.Announcement(name); got != w {
			t.Errorf("Announcement(%s) = %q; want %q", name, got, w)
		}
	}
	cfg.Discovery.Announce = false
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"notes", "photos", "loop"} {
		if got := rn.Announcement(name); got != "not announced: announcing is off in Settings" {
			t.Errorf("announce off: Announcement(%s) = %q", name, got)
		}
	}
	cfg.Discovery.Announce = true
	cfg.Listeners = cfg.Listeners[1:]
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if got := rn.Announcement("notes"); got != "" {
		t.Errorf("removed listener: Announcement(notes) = %q; want \"\"", got)
	}
	rn.Stop()
	if got := rn.Announcement("photos"); got != "" {
		t.Errorf("after Stop: Announcement(photos) = %q; want \"\"", got)
	}
}

func TestShortFingerprint(t *testing.T) {
	fp := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if got, want := ShortFingerprint(fp), "01:23:45:67:89:AB:CD:EF…"; got != want {
		t.Errorf("shortFingerprint = %q; want %q", got, want)
	}
	if got := ShortFingerprint(""); got != "" {
		t.Errorf("ShortFingerprint(\"\") = %q", got)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
