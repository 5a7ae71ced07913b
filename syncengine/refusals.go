package syncengine

import (
	"bytes"
	"regexp"
	"strings"
)

// RefusalReason says why a listener turned a connection away. The values
// are stable: they label the refused-connections metric.
type RefusalReason string

const (
	RefusedBadPassword         RefusalReason = "bad_password"
	RefusedUnknownUser         RefusalReason = "unknown_user"
	RefusedNoCredentials       RefusalReason = "no_credentials"
	RefusedNoClientCert        RefusalReason = "no_client_certificate"
	RefusedClientCertUntrusted RefusalReason = "client_certificate_not_trusted"
	RefusedServerCertRejected  RefusalReason = "server_certificate_rejected" // the client did not trust ours
	RefusedUnknownDatabase     RefusalReason = "unknown_database"
	RefusedTLSVersion          RefusalReason = "tls_version"
	RefusedTLSHandshake        RefusalReason = "tls_handshake"
	RefusedRateLimited         RefusalReason = "rate_limited"
	RefusedTooManyConnections  RefusalReason = "too_many_connections"
	RefusedProtocol            RefusalReason = "protocol" // no BLIP subprotocol, or a failed WebSocket upgrade
)

// RefusalReasons lists every reason, for metrics that want all labels.
var RefusalReasons = []RefusalReason{RefusedBadPassword, RefusedUnknownUser, RefusedNoCredentials,
	RefusedNoClientCert, RefusedClientCertUntrusted, RefusedServerCertRejected, RefusedUnknownDatabase,
	RefusedTLSVersion, RefusedTLSHandshake, RefusedRateLimited, RefusedTooManyConnections, RefusedProtocol}

// ConnectionRefused reports a connection a listener turned away. Detail
// is a short technical cause; it never holds a password.
type ConnectionRefused struct {
	ListenerID string
	Database   string
	Remote     string
	User       string // the user name offered, if any
	Reason     RefusalReason
	Detail     string
}

func (ConnectionRefused) isEvent() {}

// refuse logs, at warning level so the default level shows it, and then
// publishes a connection the listener turned away. Logging first means
// whoever sees the event finds the log line already written.
func (l *Listener) refuse(remote, user string, reason RefusalReason, detail string) {
	ev := ConnectionRefused{ListenerID: l.id, Database: l.cfg.Database.Name(), Remote: remote, User: user,
		Reason: reason, Detail: detail}
	args := []any{"database", ev.Database, "remote", remote, "reason", string(reason)}
	if user != "" {
		args = append(args, "user", user)
	}
	if detail != "" {
		args = append(args, "detail", detail)
	}
	l.engine.log.Warn("listener: connection refused", args...)
	l.engine.publish(ev)
}

// passwordRefusal tells an unknown user from a wrong password when the
// configuration says which users exist.
func (l *Listener) passwordRefusal(user string, hasCredentials bool) RefusalReason {
	switch {
	case !hasCredentials:
		return RefusedNoCredentials
	case l.cfg.KnownUser != nil && !l.cfg.KnownUser(user):
		return RefusedUnknownUser
	}
	return RefusedBadPassword
}

// tlsErrorLog receives the HTTP server's error log. TLS handshake failures
// are refusals and are reported as such; everything else stays at debug
// level, as before.
type tlsErrorLog struct{ l *Listener }

var tlsHandshakeLine = regexp.MustCompile(`^http: TLS handshake error from (\S+): (.*)$`)

func (w tlsErrorLog) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	if m := tlsHandshakeLine.FindStringSubmatch(line); m != nil {
		if reason, ok := classifyTLSFailure(m[2]); ok {
			w.l.refuse(m[1], "", reason, m[2])
			return len(p), nil
		}
	}
	w.l.engine.log.Debug(line)
	return len(p), nil
}

// classifyTLSFailure names the reason of a server-side handshake error.
// A connection closed before the handshake started (a port scan, a load
// balancer's health check) is not reported.
func classifyTLSFailure(msg string) (RefusalReason, bool) {
	switch {
	case msg == "EOF" || strings.HasSuffix(msg, "connection reset by peer"):
		return "", false
	case strings.Contains(msg, "didn't provide a certificate"):
		return RefusedNoClientCert, true
	case strings.HasPrefix(msg, "remote error: tls: ") && strings.Contains(msg, "certificate"):
		return RefusedServerCertRejected, true // the client's alert: it did not accept our certificate
	case strings.Contains(msg, "client certificate") || strings.Contains(msg, "x509:"):
		return RefusedClientCertUntrusted, true
	case strings.Contains(msg, "unsupported versions") || strings.Contains(msg, "protocol version"):
		return RefusedTLSVersion, true
	}
	return RefusedTLSHandshake, true
}
