package blip

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Buffer sizes let a whole 16 KiB BLIP frame go out as one WebSocket frame.
const (
	wsReadBufferSize  = 32 * 1024
	wsWriteBufferSize = maxFrameSize + 1024
)

// DialOptions configure Dial.
type DialOptions struct {
	Header           http.Header // extra handshake headers (e.g. Authorization)
	TLSConfig        *tls.Config // for wss:// URLs
	HandshakeTimeout time.Duration
	Conn             Options
	// Subprotocols to offer, in order of preference (default Subprotocols);
	// the peer picks one.
	Subprotocols []string
}

// Dial opens a WebSocket to url (ws:// or wss://) offering the subprotocols and
// returns an unstarted *Conn: register handlers, then call Start. A handshake
// refused with an HTTP status returns *HTTPError. permessage-deflate is never
// negotiated (BLIP compresses by itself).
func Dial(ctx context.Context, url string, opts DialOptions) (*Conn, error) {
	d := websocket.Dialer{
		Proxy:             nil, // peers are dialled directly, never through a proxy
		TLSClientConfig:   opts.TLSConfig,
		HandshakeTimeout:  opts.HandshakeTimeout,
		Subprotocols:      opts.Subprotocols,
		EnableCompression: false,
		ReadBufferSize:    wsReadBufferSize,
		WriteBufferSize:   wsWriteBufferSize,
		NetDialContext:    dialBatching,
	}
	if len(d.Subprotocols) == 0 {
		d.Subprotocols = Subprotocols
	}
	if d.HandshakeTimeout == 0 {
		d.HandshakeTimeout = 30 * time.Second
	}
	ws, resp, err := d.DialContext(ctx, url, opts.Header)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols && errors.Is(err, websocket.ErrBadHandshake) {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			return nil, &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header, Body: string(body)}
		}
		return nil, err
	}
	if !slices.Contains(d.Subprotocols, ws.Subprotocol()) {
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseProtocolError, "unsupported subprotocol"), time.Now().Add(time.Second))
		ws.Close()
		return nil, ErrNoSubprotocol
	}
	return NewConn(ws, opts.Conn), nil
}

// dialBatching dials TCP under a batchConn, so that the connection can
// send its frames in batches (TLS, if any, goes above it).
func dialBatching(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &batchConn{Conn: c}, nil
}

// Accept upgrades an HTTP request to an unstarted BLIP *Conn (register
// handlers, then Start). It takes the first subprotocol in the client's
// list that it speaks (the client's order decides, as Sync Gateway does);
// when there is none it answers HTTP 400 with a clear message and returns
// ErrNoSubprotocol. The caller authenticates the request before calling
// Accept.
func Accept(w http.ResponseWriter, r *http.Request, opts Options) (*Conn, error) {
	chosen := ""
	for _, p := range websocket.Subprotocols(r) {
		if slices.Contains(Subprotocols, p) {
			chosen = p
			break
		}
	}
	if chosen == "" {
		http.Error(w, "BLIP: the WebSocket handshake must offer one of the subprotocols "+strings.Join(Subprotocols, ", "), http.StatusBadRequest)
		return nil, ErrNoSubprotocol
	}
	up := websocket.Upgrader{
		ReadBufferSize:    wsReadBufferSize,
		WriteBufferSize:   wsWriteBufferSize,
		Subprotocols:      []string{chosen}, // gorilla would prefer our order
		EnableCompression: false,
		// Peers are apps, not browsers; authentication is the caller's job.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	return NewConn(ws, opts), nil
}
