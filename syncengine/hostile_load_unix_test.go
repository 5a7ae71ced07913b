//go:build unix

package syncengine

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"peersync/syncengine/blip"
)

// The listener under hostile load: sockets and sessions anyone (or any
// authenticated peer) can open must not keep a real user out, and
// compressed messages must not blow the listener's memory up. Each test
// makes the old behaviour unable to pass: timeouts that would free room are
// set far beyond the test's generous limits, so only admission can let the
// real user in. Measured figures are in docs/benchmarks.md.

const (
	hostileUser     = "alice"
	hostilePassword = "right password"
)

// raiseFileLimit makes sure the process may open n more files, raising the
// soft limit up to the hard one if needed.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n+256 {
		return
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < n+256 {
		t.Fatalf("open-file limit %d (hard) is too low for %d sockets", lim.Max, n)
	}
}

// hostileListener starts a TLS listener with password authentication
// holding 100 documents.
func hostileListener(t *testing.T, b *peer, mod func(*ListenerConfig)) (*Listener, string) {
	t.Helper()
	b.putMany(t, 100, "doc")
	return b.listen(t, func(c *ListenerConfig) {
		c.DisableTLS = false
		c.Authenticator = PasswordAuthenticator(func(u, p string) bool { return u == hostileUser && p == hostilePassword })
		if mod != nil {
			mod(c)
		}
	})
}

// realUserPull pulls everything with the right password and checks it
// arrived; it returns how long the pull took.
func realUserPull(t *testing.T, a *peer, url string) time.Duration {
	t.Helper()
	start := time.Now()
	a.replicate(t, ReplicatorConfig{Target: url, Type: Pull, AcceptOnlySelfSignedServerCertificate: true,
		Authenticator: BasicAuthenticator{Username: hostileUser, Password: hostilePassword}})
	took := time.Since(start)
	if n, _ := a.coll().Count(); n != 100 {
		t.Fatalf("real user pulled %d documents, want 100", n)
	}
	return took
}

func basicAuthHeader() http.Header {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(hostileUser+":"+hostilePassword)))
	return h
}

var insecureTLS = &tls.Config{InsecureSkipVerify: true} // the tests' listeners have self-signed certificates

// TestHostileIdleSocketsDoNotStarveRealUser opens 500 TCP sockets that
// never start TLS, then a real user pulls 100 documents. The handshake
// timeout is 10 minutes, so only the handshake budget (closing the oldest
// unfinished handshakes of the flooding address) can let the user in.
func TestHostileIdleSocketsDoNotStarveRealUser(t *testing.T) {
	checkNoLeaks(t)
	const idle = 500
	raiseFileLimit(t, 2*idle)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, url := hostileListener(t, b, func(c *ListenerConfig) { c.HandshakeTimeout = 10 * time.Minute })
	var socks []net.Conn
	defer func() {
		for _, c := range socks {
			c.Close()
		}
	}()
	for range idle {
		c, err := net.DialTimeout("tcp", localAddr(l.Port()), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		socks = append(socks, c)
	}
	waitFor(t, "the listener to accept all idle sockets", func() bool {
		st := l.Admission()
		return int64(st.Handshakes)+st.HandshakesEvicted >= idle
	})
	took := realUserPull(t, a, url)
	st := l.Admission()
	t.Logf("pull of 100 documents beside %d idle sockets took %v; admission %+v", idle, took, st)
	if st.HandshakesEvicted < idle-DefaultMaxHandshakesPerAddress {
		t.Errorf("%d idle sockets closed to make room, want at least %d", st.HandshakesEvicted, idle-DefaultMaxHandshakesPerAddress)
	}
	if st.HandshakesTimedOut != 0 {
		t.Errorf("%d handshakes timed out: the user got in by the timeout, not by admission", st.HandshakesTimedOut)
	}
}

// TestHandshakeDeadlineClosesIdleKeepAlive: a connection that made a plain
// HTTP request and then idles on keep-alive never became a session, so the
// handshake deadline (TLS, HTTP, authentication together) closes it.
func TestHandshakeDeadlineClosesIdleKeepAlive(t *testing.T) {
	checkNoLeaks(t)
	b := newPeer(t, "b")
	l, _ := hostileListener(t, b, func(c *ListenerConfig) { c.HandshakeTimeout = time.Second })
	conn, err := tls.Dial("tcp", localAddr(l.Port()), insecureTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, _ := http.NewRequest(http.MethodGet, "https://"+localAddr(l.Port())+"/b/", nil)
	req.Header = basicAuthHeader()
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("GET /b/: %s (close %v), want 200 on a kept-alive connection", resp.Status, resp.Close)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("idle keep-alive connection got data")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("idle keep-alive connection still open after 30 s")
	}
	if st := l.Admission(); st.HandshakesTimedOut != 1 {
		t.Errorf("admission %+v, want the connection closed by the handshake timeout", st)
	}
}

// dialSilent opens an authenticated, upgraded BLIP connection that never
// sends a request.
func dialSilent(t *testing.T, url string) *blip.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := blip.Dial(ctx, blipURL(t, url), blip.DialOptions{Header: basicAuthHeader(), TLSConfig: insecureTLS})
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	return c
}

// TestHostileSilentSessionsDoNotStarveRealUser fills every slot with
// authenticated WebSocket sessions from one address that never send a
// request; a real user from that address must still pull. The start and
// idle timeouts are far away, so only closing the address's oldest
// never-started session can make room.
func TestHostileSilentSessionsDoNotStarveRealUser(t *testing.T) {
	checkNoLeaks(t)
	const silent = DefaultMaxConnections
	raiseFileLimit(t, 4*silent)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, url := hostileListener(t, b, func(c *ListenerConfig) { c.StartTimeout = 10 * time.Minute })
	var conns []*blip.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range silent {
		conns = append(conns, dialSilent(t, url))
	}
	waitFor(t, "every slot held by a silent session", func() bool { return l.Status().ConnectionCount == silent })
	took := realUserPull(t, a, url)
	st := l.Admission()
	t.Logf("pull of 100 documents beside %d silent sessions took %v; admission %+v", silent, took, st)
	if st.SessionsEvicted < 1 {
		t.Errorf("no silent session was closed to make room: %+v", st)
	}
}

// TestHeartbeatOnlySessionSurvivesCleanup runs a continuous replication
// that has started and then only sends heartbeats, beside 100 silent
// sessions from the same address: the start timeout and the eviction close
// every silent one and never the replication.
func TestHeartbeatOnlySessionSurvivesCleanup(t *testing.T) {
	checkNoLeaks(t)
	const silent = DefaultMaxConnections
	raiseFileLimit(t, 4*silent)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	const startTimeout = 2 * time.Second // long enough for a loaded machine to send its first request
	l, url := hostileListener(t, b, func(c *ListenerConfig) { c.StartTimeout = startTimeout })
	r := a.startReplicator(t, ReplicatorConfig{Target: url, Type: Pull, Continuous: true, Heartbeat: 100 * time.Millisecond,
		AcceptOnlySelfSignedServerCertificate: true, Authenticator: BasicAuthenticator{Username: hostileUser, Password: hostilePassword}})
	waitFor(t, "the continuous pull to catch up", func() bool { n, _ := a.coll().Count(); return n == 100 && r.Status().Activity == Idle })
	l.mu.Lock()
	var live *blip.Conn
	for c := range l.sessions {
		live = c
	}
	l.mu.Unlock()
	sent := live.Stats().RequestsReceived
	var conns []*blip.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range silent {
		conns = append(conns, dialSilent(t, url))
	}
	waitFor(t, "every silent session closed", func() bool {
		st := l.Admission()
		return st.SessionsNotStarted+st.SessionsEvicted == silent && l.Status().ConnectionCount == 1
	})
	for i, c := range conns {
		select {
		case <-c.Done():
		case <-time.After(20 * time.Second):
			t.Fatalf("silent session %d still open on the client side", i)
		}
	}
	select {
	case <-live.Done():
		t.Fatalf("the heartbeat-only replication was cut: %v", live.Err())
	default:
	}
	if got := live.Stats().RequestsReceived; got != sent {
		t.Errorf("the replication sent %d requests during the cleanup, want none (heartbeats only)", got-sent)
	}
	if st := r.Status(); st.Activity != Idle || st.Error != nil {
		t.Errorf("replicator after the cleanup: %+v", st)
	}
	t.Logf("admission %+v", l.Admission())
	// It is still live: a new document on the listener arrives.
	b.put(t, "after-cleanup", `{}`)
	waitFor(t, "a document written after the cleanup", func() bool { _, err := a.coll().Get("after-cleanup"); return err == nil })
}

// residentMemory reports the process's resident set (now and at its
// peak) where /proc shows it.
func residentMemory() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "RSS unknown"
	}
	var out []string
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
			out = append(out, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(out, ", ")
}

// bombFrames builds one side of a BLIP deflate bomb: messages of zeros
// compressed into one deflate stream with the running CRC, each frame
// marked MoreComing so no message ever ends.
func bombFrames(t *testing.T, messages, framesEach, frameSize int) [][]byte {
	t.Helper()
	var z bytes.Buffer
	w, err := flate.NewWriter(&z, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, frameSize)
	var crc uint32
	var frames [][]byte
	for m := 1; m <= messages; m++ {
		for range framesEach {
			z.Reset()
			w.Write(zeros)
			w.Flush()
			crc = crc32.Update(crc, crc32.IEEETable, zeros)
			f := binary.AppendUvarint(nil, uint64(m))
			f = binary.AppendUvarint(f, 0x08|0x40)  // MSG, compressed, more coming
			f = append(f, z.Bytes()[:z.Len()-4]...) // BLIP strips the sync-flush marker
			frames = append(frames, binary.BigEndian.AppendUint32(f, crc))
		}
	}
	return frames
}

// bombOutcome is how the listener refused a bomb.
type bombOutcome struct {
	errCode string // Error-Code of the first ERR reply
	close   int    // close code, if it closed instead
	err     error
}

// bomb sends frames on an authenticated WebSocket and reports the first
// ERR reply or close; it keeps the connection (and keeps sending) until
// done is closed.
func bomb(url string, frames [][]byte, out chan<- bombOutcome, done <-chan struct{}) {
	d := websocket.Dialer{TLSClientConfig: insecureTLS, Subprotocols: []string{blip.Subprotocol}}
	ws, _, err := d.Dial(url, basicAuthHeader())
	if err != nil {
		out <- bombOutcome{err: err}
		return
	}
	defer func() {
		<-done
		ws.Close()
	}()
	go func() {
		for _, f := range frames {
			if ws.WriteMessage(websocket.BinaryMessage, f) != nil {
				return
			}
		}
	}()
	ws.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			out <- bombOutcome{close: ce.Code}
			return
		}
		if err != nil {
			out <- bombOutcome{err: err}
			return
		}
		// An uncompressed ERR: varint(number) flags(type 2) props...
		_, n := binary.Uvarint(data)
		if n > 0 && n < len(data) && data[n]&0x07 == 2 {
			code := "?"
			for _, c := range []string{"413", "503"} {
				if bytes.Contains(data, []byte("Error-Code\x00"+c+"\x00")) {
					code = c
				}
			}
			out <- bombOutcome{errCode: code}
			return
		}
	}
}

// TestHostileDeflateBombsKeepListenerBounded: three authenticated peers
// send compressed messages of many MiB of zeros that never end (about 96
// MiB each once inflated, from a few hundred KB on the wire). Each must be
// refused while it inflates, the heap must stay well under 128 MiB, and a
// real user must still pull.
func TestHostileDeflateBombsKeepListenerBounded(t *testing.T) {
	checkNoLeaks(t)
	a, b := newPeer(t, "a"), newPeer(t, "b")
	l, url := hostileListener(t, b, nil)
	frames := bombFrames(t, 4, 6, 4<<20)
	wire := 0
	for _, f := range frames {
		wire += len(f)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	stop := make(chan struct{})
	var peak uint64
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	const bombs = 3
	outcomes := make(chan bombOutcome, bombs)
	var bombers sync.WaitGroup
	syncURL := blipURL(t, url)
	for range bombs {
		bombers.Add(1)
		go func() { defer bombers.Done(); bomb(syncURL, frames, outcomes, stop) }()
	}
	for range bombs {
		o := <-outcomes
		switch {
		case o.errCode == "413" || o.errCode == "503":
		case o.close == blip.CloseMessageTooBig || o.close == blip.CloseTryAgainLater:
		default:
			t.Errorf("bomb not refused with ERR 413/503 or close 1009/1013: ERR %q, close %d, error %v", o.errCode, o.close, o.err)
		}
	}
	took := realUserPull(t, a, url) // while the bombs are still connected
	close(stop)
	sampler.Wait()
	bombers.Wait()
	budget := l.InboundMemory()
	t.Logf("%d bombs of %d MiB inflated (%d KB on the wire each): peak HeapInuse %.1f MiB (%.1f MiB before), budget peak %.1f of %.1f MiB; real user's pull took %v; %s",
		bombs, 4*6*4, wire/1000, float64(peak)/(1<<20), float64(base.HeapInuse)/(1<<20),
		float64(budget.Peak())/(1<<20), float64(budget.Limit())/(1<<20), took, residentMemory())
	if peak > 96<<20 { // well under the 128 MiB goal
		t.Errorf("peak HeapInuse %.1f MiB with %d bombs, want well under 128 MiB", float64(peak)/(1<<20), bombs)
	}
	if budget.Peak() > budget.Limit() {
		t.Errorf("budget peaked at %d, over its %d limit", budget.Peak(), budget.Limit())
	}
}
