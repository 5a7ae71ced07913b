package syncengine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"peersync/syncengine/blip"
)

func TestResilienceIsTransientTable(t *testing.T) {
	port := freePort(t)
	_, refused := net.DialTimeout("tcp", localAddr(port), 5*time.Second)
	if refused == nil {
		t.Skip("something is listening on the free port")
	}
	httpErr := func(code int) error {
		return &blip.HTTPError{StatusCode: code, Status: fmt.Sprint(code)}
	}
	closeErr := func(code int) error { return &blip.CloseError{Code: code, Remote: true} }
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"HTTP 401", httpErr(401), false},
		{"HTTP 403", httpErr(403), false},
		{"HTTP 404", httpErr(404), false},
		{"HTTP 408", httpErr(408), true},
		{"HTTP 429", httpErr(429), true},
		{"HTTP 502", httpErr(502), true},
		{"HTTP 503", httpErr(503), true},
		{"HTTP 504", httpErr(504), true},
		{"wrapped HTTP 503", fmt.Errorf("replicating: %w", httpErr(503)), true},
		{"HTTP 500 refusing the upgrade", httpErr(500), false},
		{"HTTP 501", httpErr(501), false},
		// Close codes exactly as LiteCore 3.2 (c4error_mayBeTransient):
		// only 1006 and 4001 are retried.
		{"close 1000 normal, by peer", closeErr(1000), false},
		{"close 1001 going away", closeErr(1001), false},
		{"close 1002 protocol error", closeErr(1002), false},
		{"close 1003 unsupported data", closeErr(1003), false},
		{"close 1005 no status", closeErr(1005), false},
		{"close 1006 abnormal", closeErr(1006), true},
		{"close 1008 policy violation", closeErr(1008), false},
		{"close 1011 unexpected condition", closeErr(1011), false},
		{"close 1015 TLS handshake", closeErr(1015), false},
		{"close 4000 application", closeErr(4000), false},
		{"close 4001 app transient", closeErr(4001), true},
		{"close 4002 app permanent", closeErr(4002), false},
		{"wrapped close 4001", fmt.Errorf("pulling: %w", closeErr(4001)), true},
		{"BLIP HTTP 500 (peer handler failed)", &blip.Error{Domain: "HTTP", Code: 500}, true},
		{"BLIP HTTP 503", &blip.Error{Domain: "HTTP", Code: 503}, true},
		{"BLIP HTTP 409", &blip.Error{Domain: "HTTP", Code: 409}, false},
		{"BLIP 400", &blip.Error{Domain: "BLIP", Code: 400}, false},
		{"unknown authority", x509.UnknownAuthorityError{}, false},
		{"hostname", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "x"}, false},
		{"verification", &tls.CertificateVerificationError{Err: errors.New("bad")}, false},
		{"record header (not TLS)", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, false},
		{"pin mismatch", &PinMismatchError{Want: "aa", Got: "bb"}, false},
		{"tls alert text", errors.New("remote error: tls: bad certificate"), false},
		{"connection refused", refused, true},
		{"idle timeout", blip.ErrIdleTimeout, true},
		{"context deadline", context.DeadlineExceeded, true},
	}
	for _, c := range cases {
		if got := IsTransient(c.err); got != c.want {
			t.Errorf("%s: IsTransient(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

func TestResilienceBackoffDoublesWithJitterAndCap(t *testing.T) {
	limit := 300 * time.Second
	for n, base := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 3: 8 * time.Second,
		4: 16 * time.Second, 8: 256 * time.Second, 9: limit, 30: limit, 1000: limit} {
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 2000 {
			d := backoff(n, limit)
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo < base || hi > base+base/10 {
			t.Errorf("backoff(%d) ranged %v..%v, want within %v..%v", n, lo, hi, base, base+base/10)
		}
		if base >= 4*time.Second && hi-lo < base/100 {
			t.Errorf("backoff(%d) has no jitter: %v..%v", n, lo, hi)
		}
	}
	if d := backoff(5, 3*time.Second); d < 3*time.Second || d > 3300*time.Millisecond {
		t.Errorf("capped backoff = %v, want 3 s plus at most 10%%", d)
	}
}

// offlineWaits collects NextAttempt-now for every transition to Offline.
func offlineWaits(t *testing.T, p *peer, id string) (waits <-chan time.Duration, stop func()) {
	sub := p.e.Subscribe(4096)
	ch := make(chan time.Duration, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		prev := Stopped
		for ev := range sub.C {
			st, ok := ev.(ReplicatorStatusChanged)
			if !ok || st.ID != id {
				continue
			}
			if st.Status.Activity == Offline && prev != Offline {
				ch <- time.Until(st.Status.NextAttempt)
			}
			prev = st.Status.Activity
		}
	}()
	return ch, func() { sub.Close(); <-done }
}

func TestResilienceOneShotGivesUpAfterMaxAttempts(t *testing.T) {
	checkNoLeaks(t)
	a := newPeer(t, "a")
	cfg := ReplicatorConfig{Database: a.db, Target: wsURL(localAddr(freePort(t)), "b"), Type: Push,
		MaxAttempts: 4, MaxAttemptWaitTime: 3 * time.Second}
	r, err := a.e.NewReplicator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waits, stop := offlineWaits(t, a, r.ID())
	r.Start(false)
	defer r.Stop()
	var got []time.Duration
	for len(got) < 3 {
		select {
		case w := <-waits:
			got = append(got, w)
			st := r.Status()
			if st.Activity == Offline && (st.NextAttempt.IsZero() || !st.Transient || st.Error == nil) {
				t.Errorf("offline status %+v: want NextAttempt, a transient error", st)
			}
			r.RetryNow() // skip the wait
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d offline periods", len(got))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = r.Wait(ctx)
	stop()
	if err == nil || !IsTransient(err) {
		t.Fatalf("final error %v, want the (transient) connection error", err)
	}
	if st := r.Status(); st.Activity != Stopped {
		t.Errorf("activity after giving up = %v", st.Activity)
	}
	// Waits were 2 s, 4 s, then capped at 3 s, each plus at most 10%.
	want := []time.Duration{2 * time.Second, 3 * time.Second, 3 * time.Second}
	want[1] = min(4*time.Second, cfg.MaxAttemptWaitTime)
	for i, w := range got {
		if w > want[i]+want[i]/10 || w < want[i]-time.Second {
			t.Errorf("wait %d = %v, want about %v", i+1, w, want[i])
		}
	}
	select {
	case w := <-waits:
		t.Errorf("a fifth attempt was scheduled (wait %v) despite MaxAttempts 4", w)
	default:
	}
}

func TestResilienceRetryNowSkipsTheWait(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	port := freePort(t)
	a.put(t, "doc", `{"v":1}`)
	r := a.startReplicator(t, ReplicatorConfig{Target: wsURL(localAddr(port), "b"), Type: Push,
		MaxAttemptWaitTime: time.Hour})
	waitFor(t, "offline", func() bool { return r.Status().Activity == Offline })
	st := r.Status()
	if w := time.Until(st.NextAttempt); w <= 0 || w > 2200*time.Millisecond {
		t.Fatalf("NextAttempt in %v, want within the first 2 s backoff", w)
	}
	b.listen(t, func(c *ListenerConfig) { c.Port = port })
	r.RetryNow()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// Finishing before NextAttempt means RetryNow really skipped the wait.
	if time.Now().After(st.NextAttempt) {
		t.Skipf("machine too slow to tell: finished after the scheduled retry")
	}
	if _, err := b.coll().Get("doc"); err != nil {
		t.Fatal(err)
	}
}

// TestResilienceAttemptsResetAfterConnecting fails twice, connects, then
// loses the connection: with MaxAttempts 3 it must keep retrying (and wait
// the first, 2 s, backoff again) because a connection succeeded in between.
func TestResilienceAttemptsResetAfterConnecting(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	port := freePort(t)
	r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: wsURL(localAddr(port), "b"),
		Type: PushAndPull, Continuous: true, MaxAttempts: 3, MaxAttemptWaitTime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	waits, stop := offlineWaits(t, a, r.ID())
	defer stop()
	r.Start(false)
	defer r.Stop()
	next := func() time.Duration {
		t.Helper()
		select {
		case w := <-waits:
			return w
		case <-time.After(30 * time.Second):
			t.Fatal("no offline period")
			return 0
		}
	}
	next()
	r.RetryNow()
	if w := next(); w < 3*time.Second {
		t.Fatalf("second wait %v, want about 4 s", w)
	}
	cfg := ListenerConfig{Database: b.db, NetworkInterface: "127.0.0.1", DisableTLS: true, Port: port}
	l, err := b.e.NewListener(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	r.RetryNow()
	waitUntil(t, 30*time.Second, "idle", func() bool { return r.Status().Activity == Idle })
	l.Stop()
	w := next()
	if w > 2200*time.Millisecond {
		t.Errorf("wait after a successful connection = %v, want the first (2 s) backoff", w)
	}
	if st := r.Status(); st.Activity != Offline || !st.Transient {
		t.Errorf("status %+v: want offline and retrying (attempts reset)", st)
	}
	var ce *blip.CloseError
	if err := r.Status().Error; !errors.As(err, &ce) || ce.Code != blip.CloseAppTransient {
		t.Errorf("error after listener stop = %v, want close 4001", err)
	}
}
