package syncengine

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"peersync/syncengine/tlsid"
)

// lockedBuffer is a log destination the listener's goroutines and the test
// share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLoggedPeer is newPeer with the engine logging at the default (info)
// level into a buffer.
func newLoggedPeer(t *testing.T, name string) (*peer, *lockedBuffer) {
	t.Helper()
	dir := t.TempDir()
	logs := &lockedBuffer{}
	e, err := New(Options{DataDir: dir, Identities: tlsid.NewStore(dir+"/ids", tlsid.NewMemoryKeyStore()),
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	db, err := e.CreateDatabase(name)
	if err != nil {
		t.Fatal(err)
	}
	return &peer{e: e, db: db}, logs
}

// waitEvent reads sub until an event matches.
func waitEvent(t *testing.T, sub *Subscription, match func(Event) bool) Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				t.Fatal("subscription closed")
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("no matching event")
		}
	}
}

// nextRefusal waits for the next ConnectionRefused on sub.
func nextRefusal(t *testing.T, sub *Subscription) ConnectionRefused {
	t.Helper()
	return waitEvent(t, sub, func(ev Event) bool { _, ok := ev.(ConnectionRefused); return ok }).(ConnectionRefused)
}

func TestRefusedLoginsAreLoggedWithoutPasswords(t *testing.T) {
	p, logs := newLoggedPeer(t, "notes")
	const secret, guess = "correct-horse-battery", "Tr0ub4dor&3-guess"
	l, _ := p.listen(t, func(c *ListenerConfig) {
		c.Authenticator = PasswordAuthenticator(func(u, pw string) bool { return u == "alice" && pw == secret })
		c.KnownUser = func(u string) bool { return u == "alice" }
	})
	sub := p.e.Subscribe(0)
	defer sub.Close()
	base := strings.TrimSuffix(strings.Replace(l.URLs()[0], "ws://", "http://", 1), "_blipsync")
	get := func(url, user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		user, pass, url string
		want            RefusalReason
	}{
		{"alice", guess, base, RefusedBadPassword},
		{"mallory", guess, base, RefusedUnknownUser},
		{"", "", base, RefusedNoCredentials},
		{"alice", secret, strings.TrimSuffix(base, "/notes") + "/nosuchdb", RefusedUnknownDatabase},
	}
	for _, c := range cases {
		if code := get(c.url, c.user, c.pass); code < 400 {
			t.Fatalf("%s: status %d, want a refusal", c.want, code)
		}
		ev := nextRefusal(t, sub)
		if ev.Reason != c.want || ev.ListenerID != l.ID() || !strings.HasPrefix(ev.Remote, "127.0.0.1:") {
			t.Errorf("event %+v, want reason %s from 127.0.0.1", ev, c.want)
		}
	}
	if code := get(base, "alice", secret); code != http.StatusOK {
		t.Fatalf("right password: status %d", code)
	}
	out := logs.String()
	for _, want := range []string{"reason=bad_password", "reason=unknown_user", "reason=no_credentials",
		"reason=unknown_database", "user=mallory", "remote=127.0.0.1:", "level=WARN"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, pw := range []string{secret, guess} {
		if strings.Contains(out, pw) {
			t.Errorf("log contains a password:\n%s", out)
		}
	}
}

func TestRefusedTLSHandshakesAreReported(t *testing.T) {
	ca := newTestCA(t)
	p, logs := newLoggedPeer(t, "notes")
	l, _ := p.listen(t, func(c *ListenerConfig) {
		c.DisableTLS = false
		c.Authenticator = CertificateAuthenticator{Roots: ca.pool()}
	})
	sub := p.e.Subscribe(0)
	defer sub.Close()
	addr := strings.Split(l.URLs()[0], "/")[2] // ws://HOST:PORT/...
	handshake := func(tc *tls.Config) {
		c, err := tls.Dial("tcp", addr, tc)
		if err == nil {
			// TLS 1.3 reports a refused client certificate only on the first read.
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		if err == nil {
			t.Fatal("handshake succeeded, want a refusal")
		}
	}
	handshake(&tls.Config{InsecureSkipVerify: true})
	if ev := nextRefusal(t, sub); ev.Reason != RefusedNoClientCert {
		t.Errorf("no client certificate: event %+v", ev)
	}
	handshake(&tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10})
	if ev := nextRefusal(t, sub); ev.Reason != RefusedTLSVersion {
		t.Errorf("TLS 1.1: event %+v", ev)
	}
	out := logs.String()
	for _, want := range []string{"reason=no_client_certificate", "reason=tls_version", "remote=127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// queueProbe is a log handler that notes, when the refusal line is written,
// whether the refusal event is already waiting on sub.
type queueProbe struct {
	slog.Handler
	sub    func() *Subscription
	queued chan int
}

func (q queueProbe) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "listener: connection refused" {
		q.queued <- len(q.sub().C)
	}
	return q.Handler.Handle(ctx, r)
}

// A subscriber that reads the log after seeing the event must find the
// line there: the listener logs a refusal before it publishes it.
func TestRefusalIsLoggedBeforeItIsPublished(t *testing.T) {
	dir := t.TempDir()
	var sub *Subscription
	probe := queueProbe{Handler: slog.NewTextHandler(io.Discard, nil), sub: func() *Subscription { return sub },
		queued: make(chan int, 1)}
	e, err := New(Options{DataDir: dir, Identities: tlsid.NewStore(dir+"/ids", tlsid.NewMemoryKeyStore()),
		Logger: slog.New(probe)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	db, err := e.CreateDatabase("notes")
	if err != nil {
		t.Fatal(err)
	}
	l, _ := (&peer{e: e, db: db}).listen(t, func(c *ListenerConfig) {
		c.Authenticator = PasswordAuthenticator(func(u, pw string) bool { return false })
	})
	sub = e.Subscribe(0)
	defer sub.Close()
	for len(sub.C) > 0 { // the snapshot of running components
		<-sub.C
	}
	resp, err := http.Get(strings.Replace(l.URLs()[0], "ws://", "http://", 1) + "/_blipsync")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := <-probe.queued; n != 0 {
		t.Errorf("%d events were already published when the refusal was logged", n)
	}
	nextRefusal(t, sub)
}
