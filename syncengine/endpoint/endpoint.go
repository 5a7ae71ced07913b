// Package endpoint builds and reads replication URLs. PeerSync shows one
// form everywhere (the listener's URLs, the CLI, the GUI, discovered
// peers): ws://host:port/<db>, or wss:// with TLS, which is what Couchbase
// Lite's own listener reports and what its replicator accepts (the last
// path segment must name the database). A replicator dials that URL plus
// "/_blipsync". Parse accepts both forms and Normalize turns either into
// the shown one, so one peer always has one spelling: compare and store
// targets only in that form.
package endpoint

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// syncSuffix is the path segment the replication WebSocket lives under.
const syncSuffix = "/_blipsync"

// URL is the replication URL of database on host:port: ws://host:port/db,
// wss:// when useTLS. An IPv6 host gets brackets; the database name is
// escaped as a path segment.
func URL(useTLS bool, host string, port int, database string) string {
	return Endpoint{TLS: useTLS, Host: net.JoinHostPort(host, strconv.Itoa(port)), Database: database}.String()
}

// Path is the path of a database's shown URL, "/" and the escaped name:
// what DNS-SD's "path" key announces, so that any browser can build the
// URL from the service's host and port.
func Path(database string) string { return "/" + url.PathEscape(database) }

// Endpoint is a parsed replication target.
type Endpoint struct {
	TLS      bool
	Host     string // host, or host:port when the port is not the scheme's default; lower case
	Prefix   string // path before the database ("" or "/a/b"), for a peer behind a proxy
	Database string // unescaped
	RawQuery string // kept as given
}

// ErrBadURL matches (errors.Is) every *BadURLError.
var ErrBadURL = errors.New("not a replication URL")

// BadURLError says why a target is not a replication URL.
type BadURLError struct{ URL, Reason string }

func (e *BadURLError) Error() string        { return fmt.Sprintf("%q %s", e.URL, e.Reason) }
func (e *BadURLError) Is(target error) bool { return target == ErrBadURL }

// Parse reads ws[s]://host[:port][/prefix]/<db>[/_blipsync][/][?query].
// It refuses other schemes, a missing host or database, credentials in the
// URL (they belong in the replication's authenticator, not in a string
// that is shown and logged) and fragments.
func Parse(target string) (Endpoint, error) {
	shown := target
	bad := func(format string, args ...any) (Endpoint, error) {
		return Endpoint{}, &BadURLError{URL: shown, Reason: fmt.Sprintf(format, args...)}
	}
	u, err := url.Parse(strings.TrimSpace(target))
	if err == nil && u.User != nil {
		shown = u.Redacted() // the error is shown and logged: no password in it
	}
	if err != nil {
		return bad("does not parse")
	}
	var e Endpoint
	switch u.Scheme {
	case "ws":
	case "wss":
		e.TLS = true
	default:
		return bad("is not a ws:// or wss:// URL")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return bad("names no host")
	}
	if u.User != nil {
		return bad("holds credentials; give them as the replication's user and password")
	}
	if u.Fragment != "" || strings.HasSuffix(u.Path, "#") {
		return bad("has a fragment")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	} else if strings.ContainsAny(host, ":%") { // not an IP; zoned link-local addresses are not shown either
		return bad("has a malformed host")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad("has a bad port")
		}
		port = strconv.Itoa(n)
	}
	if port == "" || (port == "80" && !e.TLS) || (port == "443" && e.TLS) {
		e.Host = host
		if strings.Contains(host, ":") {
			e.Host = "[" + host + "]"
		}
	} else {
		e.Host = net.JoinHostPort(host, port)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, syncSuffix)
	segs := strings.Split(path, "/")[1:] // the path starts with "/", or is empty
	if len(segs) == 0 {
		return bad("names no database (use ws[s]://host:port/<db>)")
	}
	for i, seg := range segs {
		if segs[i], err = url.PathUnescape(seg); err != nil || segs[i] == "" || segs[i] == "." || segs[i] == ".." || strings.Contains(segs[i], "/") {
			if i == len(segs)-1 {
				return bad("names no database (use ws[s]://host:port/<db>)")
			}
			return bad("has a malformed path")
		}
	}
	db := segs[len(segs)-1]
	if len(segs) > 1 {
		e.Prefix = "/" + strings.Join(segs[:len(segs)-1], "/")
	}
	e.Database, e.RawQuery = db, u.RawQuery
	return e, nil
}

// Normalize returns target in the shown form, or why it is not a
// replication URL.
func Normalize(target string) (string, error) {
	e, err := Parse(target)
	if err != nil {
		return "", err
	}
	return e.String(), nil
}

// Same reports whether two targets name the same peer database. Targets
// that do not parse are compared as written.
func Same(a, b string) bool {
	na, errA := Normalize(a)
	nb, errB := Normalize(b)
	if errA != nil || errB != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return na == nb
}

// String is the shown form: ws[s]://host[:port][/prefix]/<db>[?query].
func (e Endpoint) String() string { return e.url("") }

// SyncURL is what a replicator dials: the shown form with "/_blipsync"
// after the database.
func (e Endpoint) SyncURL() string { return e.url(syncSuffix) }

// DatabaseURL is the database's own URL over HTTP(S), which answers GET
// with the database's identity.
func (e Endpoint) DatabaseURL() string {
	u := e.parts("/")
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	return u.String()
}

func (e Endpoint) url(suffix string) string {
	u := e.parts(suffix)
	return u.String()
}

func (e Endpoint) parts(suffix string) url.URL {
	scheme := "ws"
	if e.TLS {
		scheme = "wss"
	}
	var raw strings.Builder
	for _, seg := range strings.Split(e.Prefix, "/") {
		if seg != "" {
			raw.WriteString("/" + url.PathEscape(seg))
		}
	}
	raw.WriteString(Path(e.Database))
	path := e.Prefix + "/" + e.Database + suffix
	return url.URL{Scheme: scheme, Host: e.Host, Path: path, RawPath: raw.String() + suffix, RawQuery: e.RawQuery}
}
