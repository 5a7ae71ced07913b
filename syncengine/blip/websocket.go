package blip

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"slices"
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
}

// Dial opens a WebSocket to url (ws:// or wss://) offering Subprotocol and
// returns an unstarted *Conn: register handlers, then call Start. A handshake
// refused with an HTTP status returns *HTTPError. permessage-deflate is never
// negotiated (BLIP compresses by itself).
func Dial(ctx context.Context, url string, opts DialOptions) (*Conn, error) {
	d := websocket.Dialer{
		Proxy:             nil, // peers are dialled directly, never through a proxy
		TLSClientConfig:   opts.TLSConfig,
		HandshakeTimeout:  opts.HandshakeTimeout,
		Subprotocols:      []string{Subprotocol},
		EnableCompression: false,
		ReadBufferSize:    wsReadBufferSize,
		WriteBufferSize:   wsWriteBufferSize,
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
	if ws.Subprotocol() != Subprotocol {
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseProtocolError, "unsupported subprotocol"), time.Now().Add(time.Second))
		ws.Close()
		return nil, ErrNoSubprotocol
	}
	return NewConn(ws, opts.Conn), nil
}

// Accept upgrades an HTTP request to an unstarted BLIP *Conn (register
// handlers, then Start). The client must offer Subprotocol; otherwise Accept
// answers HTTP 400 with a clear message and returns ErrNoSubprotocol. The
// caller authenticates the request before calling Accept.
func Accept(w http.ResponseWriter, r *http.Request, opts Options) (*Conn, error) {
	if !slices.Contains(websocket.Subprotocols(r), Subprotocol) {
		http.Error(w, "BLIP: the WebSocket handshake must offer the subprotocol "+Subprotocol, http.StatusBadRequest)
		return nil, ErrNoSubprotocol
	}
	up := websocket.Upgrader{
		ReadBufferSize:    wsReadBufferSize,
		WriteBufferSize:   wsWriteBufferSize,
		Subprotocols:      []string{Subprotocol},
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
