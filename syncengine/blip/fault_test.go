package blip

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// expectProtocolClose reads from a raw peer until it gets a close frame and
// checks it is 1002 mentioning want.
func expectProtocolClose(t *testing.T, ws *websocket.Conn, want string) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != CloseProtocolError || !strings.Contains(ce.Text, want) {
			t.Fatalf("raw peer got %v, want close 1002 with %q", err, want)
		}
		return
	}
}

func checkLocalProtocolClose(t *testing.T, c *Conn, want string) {
	t.Helper()
	waitDone(t, c, 5*time.Second)
	var ce *CloseError
	if err := c.Err(); !errors.As(err, &ce) || ce.Code != CloseProtocolError || ce.Remote || !strings.Contains(ce.Reason, want) {
		t.Fatalf("Err() = %v, want local close 1002 with %q", err, want)
	}
}

func TestChecksumCorruptionClosesConnection(t *testing.T) {
	ts, conns := blipServer(t, Options{}, func(c *Conn) { c.Handle("getCheckpoint", echo) })
	ws := rawClient(t, ts)
	frame := mustHex(t, vectorFrames[0])
	frame[len(frame)-1] ^= 0xff
	if err := ws.WriteMessage(websocket.BinaryMessage, frame); err != nil {
		t.Fatal(err)
	}
	expectProtocolClose(t, ws, "checksum")
	checkLocalProtocolClose(t, <-conns, "checksum")
}

func TestTextMessageClosesConnection(t *testing.T) {
	ts, conns := blipServer(t, Options{}, nil)
	ws := rawClient(t, ts)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	expectProtocolClose(t, ws, "text")
	checkLocalProtocolClose(t, <-conns, "text")
}

func TestBadFramesClose(t *testing.T) {
	for name, frame := range map[string][]byte{
		"empty":       {},
		"bad varint":  {0x80, 0x80},
		"no checksum": {0x01, 0x00, 0x00},
		"bad deflate": {0x01, 0x08, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00},
	} {
		t.Run(name, func(t *testing.T) {
			ts, conns := blipServer(t, Options{}, nil)
			ws := rawClient(t, ts)
			if err := ws.WriteMessage(websocket.BinaryMessage, frame); err != nil {
				t.Fatal(err)
			}
			expectProtocolClose(t, ws, "")
			checkLocalProtocolClose(t, <-conns, "")
		})
	}
}

func TestOversizedMessageCloses(t *testing.T) {
	ts, conns := blipServer(t, Options{MaxMessageSize: 100 << 10}, nil)
	cli, err := Dial(context.Background(), wsURL(ts), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cli.Start()
	defer cli.Close()
	_, err = cli.Send(ctxTimeout(t, 10*time.Second), &Message{Properties: Properties{"Profile": "x"}, Body: make([]byte, 200<<10)})
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != CloseProtocolError || !ce.Remote {
		t.Fatalf("sending an oversized message: %v", err)
	}
	checkLocalProtocolClose(t, <-conns, "maximum message size")
}

func TestIgnoredFramesKeepConnection(t *testing.T) {
	ts, conns := blipServer(t, Options{}, func(c *Conn) { c.Handle("getCheckpoint", echo) })
	ws := rawClient(t, ts)
	var enc outCodec
	send := func(number uint64, flags uint8, payload []byte) {
		t.Helper()
		frame, _, err := enc.appendFrame(nil, number, flags, payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.BinaryMessage, frame); err != nil {
			t.Fatal(err)
		}
	}
	send(9, 0x03, []byte("unknown type"))    // dropped
	send(7, typeRPY, []byte{0})              // response to nothing: dropped
	send(1, typeMSG, []byte{3, 'a', 0, 'b'}) // malformed properties: answered with ERR 400
	send(1, typeMSG, []byte{0})              // number 1 is used up: dropped
	head, _ := Properties{"Profile": "getCheckpoint"}.appendMessageHead(nil)
	send(2, typeMSG, append(head, "ok"...)) // fine, answered
	in := newInbound(DefaultMaxMessageSize, DefaultMaxPropertiesSize, func(n uint64) bool { return n <= 2 })
	read := func() *completeMsg {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		ev, err := in.handleFrame(data)
		if err != nil || ev.done == nil {
			t.Fatalf("reply: %+v %v", ev, err)
		}
		return ev.done
	}
	if m := read(); m.key != (msgKey{true, 1}) || m.flags&flagTypeMask != typeERR || m.props[ErrorCodeProperty] != "400" {
		t.Fatalf("reply to the malformed request 1: %+v", m)
	}
	if m := read(); m.key != (msgKey{true, 2}) || string(m.body) != "ok" {
		t.Fatalf("reply to request 2: %+v", m)
	}
	c := <-conns
	if c.Err() != nil {
		t.Fatalf("connection ended: %v", c.Err())
	}
}

func TestPingTimeoutDetectsDeadPeer(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	ts := rawServer(t, func(ws *websocket.Conn) { <-stop }) // never reads, so never pongs
	start := time.Now()
	cli, err := Dial(context.Background(), wsURL(ts), DialOptions{Conn: Options{PingInterval: 50 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	cli.Start()
	defer cli.Close()
	waitDone(t, cli, 5*time.Second)
	if !errors.Is(cli.Err(), ErrIdleTimeout) {
		t.Fatalf("Err() = %v, want ErrIdleTimeout", cli.Err())
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("declared dead after only %v", d)
	}
}

func TestPingsKeepIdleConnectionAlive(t *testing.T) {
	srv, cli := newPair(t,
		Options{IdleTimeout: 300 * time.Millisecond},
		Options{PingInterval: 50 * time.Millisecond, IdleTimeout: 300 * time.Millisecond},
		func(c *Conn) { c.Handle("echo", echo) }, nil)
	time.Sleep(time.Second)
	if srv.Err() != nil || cli.Err() != nil {
		t.Fatalf("idle connection with pings died: server %v, client %v", srv.Err(), cli.Err())
	}
	if _, err := cli.Send(ctxTimeout(t, 5*time.Second), &Message{Properties: Properties{"Profile": "echo"}}); err != nil {
		t.Fatal(err)
	}
}

func TestDialHTTPError(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="db"`)
		http.Error(w, "login required", http.StatusUnauthorized)
	}))
	defer ts.Close()
	_, err := Dial(context.Background(), wsURL(ts), DialOptions{})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 401 || !strings.Contains(he.Body, "login required") || he.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("got %v, want HTTPError 401", err)
	}
}

func TestAcceptRequiresSubprotocol(t *testing.T) {
	accepted := make(chan error, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, Options{})
		if c != nil {
			c.Close()
		}
		accepted <- err
	}))
	defer ts.Close()
	d := websocket.Dialer{Subprotocols: []string{"BLIP_2+CBMobile_2"}}
	_, resp, err := d.Dial(wsURL(ts), nil)
	if err == nil || resp == nil || resp.StatusCode != 400 {
		t.Fatalf("dial without our subprotocol: %v %v", resp, err)
	}
	if err := <-accepted; !errors.Is(err, ErrNoSubprotocol) {
		t.Fatalf("Accept returned %v", err)
	}
}

// Accept takes the first subprotocol the client lists that it speaks; Dial
// offers what it is told (both, v4 first, by default) and reports the choice.
func TestSubprotocolNegotiation(t *testing.T) {
	chosen := make(chan string, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, Options{})
		if err != nil {
			chosen <- "refused"
			return
		}
		chosen <- c.Subprotocol()
		c.Close()
	}))
	defer ts.Close()
	for _, tc := range []struct {
		offer []string
		want  string
	}{
		{nil, SubprotocolV4},
		{[]string{Subprotocol, SubprotocolV4}, Subprotocol},
		{[]string{SubprotocolV4, Subprotocol}, SubprotocolV4},
		{[]string{Subprotocol}, Subprotocol},
		{[]string{"BLIP_3+CBMobile_5", SubprotocolV4}, SubprotocolV4},
	} {
		c, err := Dial(context.Background(), wsURL(ts), DialOptions{Subprotocols: tc.offer})
		if err != nil {
			t.Fatalf("offer %v: %v", tc.offer, err)
		}
		if got, srv := c.Subprotocol(), <-chosen; got != tc.want || srv != tc.want {
			t.Errorf("offer %v: client has %q, server %q, want %q", tc.offer, got, srv, tc.want)
		}
		c.Close()
	}
	_, err := Dial(context.Background(), wsURL(ts), DialOptions{Subprotocols: []string{"BLIP_3+CBMobile_5"}})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 400 || !strings.Contains(he.Body, SubprotocolV4) || <-chosen != "refused" {
		t.Fatalf("offering only an unknown subprotocol: %v, want 400 naming what we speak", err)
	}
}

// Dial refuses a server that picks a subprotocol it did not offer.
func TestDialRefusesUnofferedSubprotocol(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := http.Header{"Sec-WebSocket-Protocol": {SubprotocolV4}}
		up := websocket.Upgrader{}
		if ws, err := up.Upgrade(w, r, h); err == nil {
			ws.ReadMessage()
			ws.Close()
		}
	}))
	defer ts.Close()
	if _, err := Dial(context.Background(), wsURL(ts), DialOptions{Subprotocols: []string{Subprotocol}}); !errors.Is(err, ErrNoSubprotocol) {
		t.Fatalf("server chose v4 when offered v3: %v, want ErrNoSubprotocol", err)
	}
}
