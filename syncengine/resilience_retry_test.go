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
	_, refused := net.DialTimeout("tcp", refusingAddr(t), 5*time.Second)
	if refused == nil {
		t.Fatal("a connection to a port nothing listens on succeeded")
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

// backoffCall is one wait the replicator scheduled: after the n-th
// consecutive failure it waits d, decided at the time at.
type backoffCall struct {
	n     int
	limit time.Duration
	d     time.Duration
	at    time.Time
}

// recordBackoff makes r report every wait it schedules; wait (nil: the
// real backoff) decides how long. Call it before r.Start.
func recordBackoff(r *Replicator, wait func(n int, limit time.Duration) time.Duration) <-chan backoffCall {
	if wait == nil {
		wait = backoff
	}
	calls := make(chan backoffCall, 100)
	r.backoffFn = func(n int, limit time.Duration) time.Duration {
		d := wait(n, limit)
		calls <- backoffCall{n: n, limit: limit, d: d, at: time.Now()}
		return d
	}
	return calls
}

// nextBackoff returns the next wait r scheduled. The wait is decided by
// the replicator's own events, so the timeout only guards a hang.
func nextBackoff(t *testing.T, calls <-chan backoffCall) backoffCall {
	t.Helper()
	select {
	case c := <-calls:
		return c
	case <-time.After(time.Minute):
		t.Fatal("the replicator scheduled no retry")
		return backoffCall{}
	}
}

// waitOffline waits until r is offline after call c and checks the status
// it shows: the transient error and a NextAttempt exactly c.d after the
// moment the wait was decided.
func waitOffline(t *testing.T, r *Replicator, c backoffCall) ReplicatorStatus {
	t.Helper()
	var st ReplicatorStatus
	waitFor(t, "offline", func() bool { st = r.Status(); return st.Activity == Offline && !st.NextAttempt.Before(c.at) })
	if !st.Transient || st.Error == nil {
		t.Errorf("offline status %+v: want a transient error", st)
	}
	if lo, hi := c.at.Add(c.d), time.Now().Add(c.d); st.NextAttempt.Before(lo) || st.NextAttempt.After(hi) {
		t.Errorf("NextAttempt %v is not the scheduled wait %v after failure %d", st.NextAttempt, c.d, c.n)
	}
	return st
}

func TestResilienceOneShotGivesUpAfterMaxAttempts(t *testing.T) {
	checkNoLeaks(t)
	a := newPeer(t, "a")
	cfg := ReplicatorConfig{Database: a.db, Target: wsURL(refusingAddr(t), "b"), Type: Push,
		MaxAttempts: 4, MaxAttemptWaitTime: 3 * time.Second}
	r, err := a.e.NewReplicator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	calls := recordBackoff(r, nil)
	r.Start(false)
	defer r.Stop()
	for n := 1; n <= 3; n++ {
		c := nextBackoff(t, calls)
		if c.n != n || c.limit != cfg.MaxAttemptWaitTime {
			t.Errorf("wait %d: backoff(%d, %v), want backoff(%d, %v)", n, c.n, c.limit, n, cfg.MaxAttemptWaitTime)
		}
		// Waits are 2 s, then 4 s capped at 3 s, then 3 s, each plus at most 10%.
		want := min(time.Duration(1<<n)*time.Second, cfg.MaxAttemptWaitTime)
		if c.d < want || c.d > want+want/10 {
			t.Errorf("wait %d = %v, want %v plus at most 10%%", n, c.d, want)
		}
		waitOffline(t, r, c)
		r.RetryNow() // skip the wait
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = r.Wait(ctx)
	if err == nil || !IsTransient(err) {
		t.Fatalf("final error %v, want the (transient) connection error", err)
	}
	if st := r.Status(); st.Activity != Stopped {
		t.Errorf("activity after giving up = %v", st.Activity)
	}
	select {
	case c := <-calls:
		t.Errorf("a fifth attempt was scheduled (wait %v) despite MaxAttempts 4", c.d)
	default:
	}
}

// TestResilienceRetryNowSkipsTheWait schedules the retry an hour away:
// the replication can then only finish because RetryNow skipped the wait.
func TestResilienceRetryNowSkipsTheWait(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	port := freePort(t)
	a.put(t, "doc", `{"v":1}`)
	r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: wsURL(localAddr(port), "b"), Type: Push,
		MaxAttemptWaitTime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	calls := recordBackoff(r, func(int, time.Duration) time.Duration { return time.Hour })
	r.Start(false)
	t.Cleanup(r.Stop)
	waitOffline(t, r, nextBackoff(t, calls))
	b.listen(t, func(c *ListenerConfig) { c.Port = port })
	r.RetryNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.coll().Get("doc"); err != nil {
		t.Fatal(err)
	}
}

// TestResilienceAttemptsResetAfterConnecting fails twice, connects, then
// loses the connection: with MaxAttempts 3 it must keep retrying (and wait
// the first backoff again) because a connection succeeded in between.
func TestResilienceAttemptsResetAfterConnecting(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	port := freePort(t)
	r, err := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: wsURL(localAddr(port), "b"),
		Type: PushAndPull, Continuous: true, MaxAttempts: 3, MaxAttemptWaitTime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	calls := recordBackoff(r, nil)
	r.Start(false)
	defer r.Stop()
	for n := 1; n <= 2; n++ {
		c := nextBackoff(t, calls)
		if c.n != n {
			t.Fatalf("failure %d counted as %d", n, c.n)
		}
		waitOffline(t, r, c)
		if n == 1 {
			r.RetryNow()
		}
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
	waitFor(t, "idle", func() bool { return r.Status().Activity == Idle })
	l.Stop()
	c := nextBackoff(t, calls)
	if c.n != 1 {
		t.Errorf("failure after a successful connection counted as %d, want 1 (attempts reset)", c.n)
	}
	st := waitOffline(t, r, c)
	var ce *blip.CloseError
	if err := st.Error; !errors.As(err, &ce) || ce.Code != blip.CloseAppTransient {
		t.Errorf("error after listener stop = %v, want close 4001", err)
	}
}
