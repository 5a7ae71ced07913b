package syncengine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// A refused TLS handshake must reach the client as the alert crypto/tls
// sends, not as a reset. In TLS 1.3 the client sends its certificate and
// then its first request without waiting; the server refuses the
// certificate after that request has arrived, and closing a socket with
// unread data makes the kernel send RST, which may overtake the alert
// (Couchbase Lite then sees ECONNRESET and retries forever). So a
// connection whose handshake did not succeed is closed gracefully: FIN
// after the alert, then read and discard (bounded) until the client hangs up.
const (
	refusedDrainTime  = 2 * time.Second
	refusedDrainBytes = 64 << 10
)

// refusalListener hands out refusalConns to the TLS layer above it.
type refusalListener struct{ net.Listener }

func (l refusalListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &refusalConn{Conn: c}, nil
}

// refusalConn is a raw connection below TLS that knows whether its
// handshake succeeded.
type refusalConn struct {
	net.Conn
	helloSeen   atomic.Bool // a client that never said hello gets no alert to wait for
	handshakeOK atomic.Bool
	once        sync.Once
	err         error
}

// NetConn returns the connection below (blip finds its batchConn so).
func (c *refusalConn) NetConn() net.Conn { return c.Conn }

func (c *refusalConn) Close() error {
	c.once.Do(func() {
		if c.helloSeen.Load() && !c.handshakeOK.Load() {
			c.drain()
		}
		c.err = c.Conn.Close()
	})
	return c.err
}

// drain sends FIN and reads what the client still sends, until it closes
// its side, refusedDrainBytes have come or refusedDrainTime has passed.
func (c *refusalConn) drain() {
	if cw, ok := rawConn(c.Conn).(interface{ CloseWrite() error }); !ok || cw.CloseWrite() != nil {
		return
	}
	c.Conn.SetReadDeadline(time.Now().Add(refusedDrainTime))
	io.Copy(io.Discard, io.LimitReader(c.Conn, refusedDrainBytes))
}

// rawConn unwraps the admission wrapper to reach the TCP connection.
func rawConn(c net.Conn) net.Conn {
	if hc, ok := c.(*handshakeConn); ok {
		return hc.Conn
	}
	return c
}

// markSuccessfulHandshakes makes every handshake that passes all checks
// (VerifyConnection runs last, after the client certificate was accepted)
// mark its refusalConn, so only refused ones are drained.
func markSuccessfulHandshakes(base *tls.Config) *tls.Config {
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		rc, ok := hello.Conn.(*refusalConn)
		if !ok {
			return nil, nil
		}
		rc.helloSeen.Store(true)
		cfg := base.Clone()
		cfg.GetConfigForClient = nil
		cfg.VerifyConnection = func(tls.ConnectionState) error { rc.handshakeOK.Store(true); return nil }
		return cfg, nil
	}
	return base
}

// TLSAlertError is a TLS handshake the server ended with an alert, most
// often because it refused (or missed) our client certificate. Retrying
// cannot fix it.
type TLSAlertError struct {
	Alert      string // as crypto/tls names it, e.g. "bad certificate"
	ClientCert bool   // whether we presented a client certificate
	Err        error
}

func (e *TLSAlertError) Error() string {
	switch e.Alert {
	case "bad certificate", "unsupported certificate", "revoked certificate", "expired certificate",
		"unknown certificate", "unknown certificate authority", "access denied":
		if e.ClientCert {
			return fmt.Sprintf("the server refused our client certificate (TLS alert: %s)", e.Alert)
		}
	case "certificate required", "handshake failure":
		if !e.ClientCert {
			return fmt.Sprintf("the server requires a client certificate and none is configured (TLS alert: %s)", e.Alert)
		}
		if e.Alert == "certificate required" { // ours was not sent: no issuer the server named
			return fmt.Sprintf("the server refused our client certificate: it trusts none of its issuers (TLS alert: %s)", e.Alert)
		}
	}
	return fmt.Sprintf("the server ended the TLS handshake (TLS alert: %s)", e.Alert)
}

func (e *TLSAlertError) Unwrap() error { return e.Err }

// asTLSAlert turns an error that carries a TLS alert received from the
// server into a *TLSAlertError; other errors are returned as they are.
func asTLSAlert(err error, clientCert bool) error {
	var op *net.OpError
	if err == nil || !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return err
	}
	const prefix = "tls: "
	alert := op.Err.Error()
	if len(alert) > len(prefix) && alert[:len(prefix)] == prefix {
		alert = alert[len(prefix):]
	}
	return &TLSAlertError{Alert: alert, ClientCert: clientCert, Err: err}
}
