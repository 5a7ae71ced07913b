package discovery

import (
	"context"
	"strings"
	"testing"
	"time"
)

// These tests never call Start, so nothing touches the network.

func TestBrowserDefaults(t *testing.T) {
	b := NewBrowser(BrowserOptions{})
	if b.opts.QueryInterval != time.Second || b.opts.LostAfter != 3*time.Second || b.window != 250*time.Millisecond {
		t.Errorf("defaults: interval %v, lost after %v, window %v", b.opts.QueryInterval, b.opts.LostAfter, b.window)
	}
	b = NewBrowser(BrowserOptions{QueryInterval: 200 * time.Millisecond, LostAfter: time.Millisecond})
	if b.opts.LostAfter != 400*time.Millisecond || b.window != 100*time.Millisecond {
		t.Errorf("LostAfter %v should be raised to two intervals; window %v", b.opts.LostAfter, b.window)
	}
}

func TestAddManualValidates(t *testing.T) {
	b := NewBrowser(BrowserOptions{})
	bad := []struct {
		host string
		port int
		db   string
		why  string
	}{
		{"", 4984, "db", "host is empty"},
		{"host name", 4984, "db", "bad character"},
		{"host/path", 4984, "db", "bad character"},
		{"fe80::1%eth0", 4984, "db", "bad character"},
		{strings.Repeat("a", 254), 4984, "db", "longer than 253"},
		{".", 4984, "db", "empty or over-long part"},
		{"a..b", 4984, "db", "empty or over-long part"},
		{strings.Repeat("a", 64) + ".com", 4984, "db", "empty or over-long part"},
		{"host", 0, "db", "out of range"},
		{"host", 65536, "db", "out of range"},
		{"host", 4984, "", "must be non-empty"},
		{"host", 4984, "a/b", "without '/'"},
	}
	for _, tc := range bad {
		_, err := b.AddManual(tc.host, tc.port, tc.db, false)
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("AddManual(%q, %d, %q) = %v, want error mentioning %q", tc.host, tc.port, tc.db, err, tc.why)
		}
	}
	if len(b.Peers()) != 0 {
		t.Errorf("rejected peers were listed: %+v", b.Peers())
	}
}

func TestAddManualForms(t *testing.T) {
	b := NewBrowser(BrowserOptions{})
	p, err := b.AddManual(" [fd00::7] ", 4984, "db", true)
	if err != nil {
		t.Fatal(err)
	}
	if p.Host != "fd00::7" || p.Key() != "[fd00::7]:4984/db" || p.URL() != "wss://[fd00::7]:4984/db" || !p.Manual {
		t.Errorf("IPv6 manual peer = %+v (key %q, URL %q)", p, p.Key(), p.URL())
	}
	p, err = b.AddManual("nas.example.org.", 4984, "db", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Addrs) != 0 || p.URL() != "ws://nas.example.org:4984/db" {
		t.Errorf("host-name manual peer = %+v (URL %q)", p, p.URL())
	}
	keys := []string{}
	for _, p := range b.Peers() {
		keys = append(keys, p.Key())
	}
	if strings.Join(keys, ",") != "[fd00::7]:4984/db,nas.example.org:4984/db" {
		t.Errorf("Peers keys = %v", keys)
	}
}

func TestSubscribeSnapshotAndChanges(t *testing.T) {
	b := NewBrowser(BrowserOptions{})
	defer b.Stop()
	if _, err := b.AddManual("10.0.0.1", 1, "db", false); err != nil {
		t.Fatal(err)
	}
	b.apply(time.Now(), []sighting{seen("x", "p1", "db", 2, "10.0.0.2")})

	ch, cancel := b.Subscribe()
	defer cancel()
	got := []string{describe([]Event{<-ch}), describe([]Event{<-ch})}
	if want := []string{"seen 10.0.0.1:1/db:1; ", "seen p1/db:2; "}; strings.Join(got, "") != strings.Join(want, "") {
		t.Fatalf("snapshot = %q, want %q", got, want)
	}

	b.AddManual("10.0.0.1", 1, "db", true) // same key, now TLS
	b.AddManual("10.0.0.1", 1, "db", true) // no change, no event
	b.RemoveManual("10.0.0.1:1/db")
	b.RemoveManual("10.0.0.1:1/db") // unknown now, no event
	b.apply(time.Now().Add(time.Hour), nil)
	var events []Event
	for len(events) < 3 {
		select {
		case ev := <-ch:
			events = append(events, ev)
		case <-time.After(time.Minute): // only a guard
			t.Fatalf("only %d events: %s", len(events), describe(events))
		}
	}
	if got, want := describe(events), "updated 10.0.0.1:1/db:1; lost 10.0.0.1:1/db:1; lost p1/db:2; "; got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
	select {
	case ev := <-ch:
		t.Errorf("unexpected extra event %v", ev)
	default:
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	b := NewBrowser(BrowserOptions{})
	slow, cancelSlow := b.Subscribe()
	defer cancelSlow()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range subscriberBuffer + 10 {
			if _, err := b.AddManual("10.0.0.1", i+1, "db", false); err != nil {
				t.Error(err)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("AddManual blocked on a subscriber that does not read")
	}
	if got := b.DroppedEvents(); got != 10 {
		t.Errorf("DroppedEvents = %d, want 10", got)
	}
	if got := len(slow); got != subscriberBuffer {
		t.Errorf("slow subscriber holds %d events, want %d", got, subscriberBuffer)
	}

	// A new subscriber still gets the full snapshot, however large.
	fresh, cancelFresh := b.Subscribe()
	defer cancelFresh()
	if got := len(fresh); got != subscriberBuffer+10 {
		t.Errorf("snapshot has %d events, want %d", got, subscriberBuffer+10)
	}
	b.Stop()
}

func TestStopClosesSubscriptions(t *testing.T) {
	b := NewBrowser(BrowserOptions{})
	ch, cancel := b.Subscribe()
	b.AddManual("10.0.0.1", 1, "db", false)
	b.Stop()
	b.Stop() // twice is fine
	cancel() // after Stop is fine
	n := 0
	for range ch {
		n++
	}
	if n != 1 {
		t.Errorf("got %d events before close, want 1", n)
	}
	if err := b.Start(context.Background()); err == nil {
		t.Error("Start after Stop succeeded")
	}

	late, cancelLate := b.Subscribe()
	defer cancelLate()
	var snapshot []Event
	for ev := range late { // closed after the snapshot
		snapshot = append(snapshot, ev)
	}
	if len(snapshot) != 1 || snapshot[0].Kind != PeerSeen {
		t.Errorf("subscription after Stop gave %v", snapshot)
	}
}

func TestCancelSubscription(t *testing.T) {
	b := NewBrowser(BrowserOptions{})
	defer b.Stop()
	ch, cancel := b.Subscribe()
	cancel()
	cancel()
	if _, open := <-ch; open {
		t.Error("channel still open after cancel")
	}
	b.AddManual("10.0.0.1", 1, "db", false) // must not send on the closed channel
	if b.DroppedEvents() != 0 {
		t.Error("a cancelled subscriber counted as dropping events")
	}
}

func TestPeersAreCopies(t *testing.T) {
	b := NewBrowser(BrowserOptions{})
	if _, err := b.AddManual("10.0.0.1", 1, "db", false); err != nil {
		t.Fatal(err)
	}
	b.Peers()[0].Addrs[0][0] = 99
	if got := b.Peers()[0].Addrs[0].String(); got != "10.0.0.1" {
		t.Errorf("changing a returned peer changed the browser's: %s", got)
	}
}
