package ui

import (
	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine"
)

// Workspace is the saved set of listeners and replications and what of it
// runs. The app implements it over its configuration file and runner, so
// every change made here is validated, saved and applied; the UI only
// shows it. All methods may block (disk, network): screens call them off
// the UI goroutine.
type Workspace interface {
	Listeners() ([]ListenerState, error)
	// SaveListener creates a listener (old == "") or replaces the one named
	// old, and (re)starts it.
	SaveListener(old string, s ListenerSettings) error
	DeleteListener(name string) error
	StartListener(name string) error
	StopListener(name string) error

	Replications() ([]ReplicationState, error)
	// SaveReplication creates a replication (old == "") or replaces the one
	// named old; it starts at once when AutoStart is set.
	SaveReplication(old string, s ReplicationSettings) error
	DeleteReplication(name string) error
	// StartReplication starts it; reset discards its checkpoints first.
	StartReplication(name string, reset bool) error
	StopReplication(name string) error
	RetryReplication(name string) error

	// Interfaces lists the network interfaces a listener can bind to.
	Interfaces() []string
	// Peers is the LAN browser, or nil when discovery is off.
	Peers() PeerBrowser

	// Settings is the app-wide part of the configuration.
	Settings() (AppSettings, error)
	// SaveSettings saves it and applies what can change while the app runs.
	SaveSettings(s AppSettings) error
}

// AppSettings is the configuration's [discovery], [log] and [metrics] as
// the Settings dialog edits them. Discovery.Peers belongs to the Peers
// screen: SaveSettings keeps the peers saved, whatever s holds.
type AppSettings struct {
	Discovery service.DiscoveryConfig
	Log       service.LogConfig
	Metrics   service.MetricsConfig
}

// PeerBrowser is the part of *discovery.Browser the Peers screen uses.
type PeerBrowser interface {
	Subscribe() (<-chan discovery.Event, func())
	Peers() []discovery.Peer
	AddManual(host string, port int, database string, tls bool) (discovery.Peer, error)
	RemoveManual(key string)
}

var _ PeerBrowser = (*discovery.Browser)(nil)

// NotStartedError is what a save returns when it kept the change but could
// not start what it saved (a busy port, an unreachable database): the form
// then edits the saved item.
type NotStartedError struct{ Reason string }

func (e *NotStartedError) Error() string { return "saved, but it could not start: " + e.Reason }

// Authentication modes of a listener, as the form offers them.
const (
	AuthNone     = "none"
	AuthPassword = "password"
	AuthClientCA = "client-ca"
)

// ListenerSettings is one listener as the user edits it: its saved
// specification, which the form changes in place (so what the form does not
// show is kept), with the authentication as one choice and the passwords
// typed in.
type ListenerSettings struct {
	service.ListenerConfig
	Auth string // AuthNone, AuthPassword or AuthClientCA
	// Logins for AuthPassword. A login whose Password is empty keeps the
	// password saved before; passwords are never read back.
	Logins []ListenerUser
}

// ListenerUser is a user name with a new password (or "" to keep the old).
type ListenerUser struct{ Name, Password string }

// ListenerState is a saved listener and, while it runs, what it serves.
type ListenerState struct {
	Settings    ListenerSettings
	Running     bool
	ID          string // the engine's listener ID (matches its events) while running
	URLs        []string
	Fingerprint string // SHA-256 of its certificate, lowercase hex; "" without TLS
	Connections int
	Active      int
	Protocols   map[string]int // open connections by subprotocol
	Error       string         // why it is not running, when it failed to start
	// Announcement says whether it is announced on the LAN, or why not;
	// "" when it is stopped or not marked for announcing.
	Announcement string
}

// ReplicationSettings is one replication as the user edits it: its saved
// specification, which the form changes in place, and the password typed in.
type ReplicationSettings struct {
	service.ReplicationConfig
	// Password is write-only: the app keeps it out of the configuration.
	// Empty keeps the one saved before.
	Password string
}

// ReplicationState is a saved replication and its replicator's state.
type ReplicationState struct {
	Settings ReplicationSettings
	Running  bool   // a replicator exists and has not stopped
	ID       string // the engine's replicator ID (matches its events); "" when none
	Status   syncengine.ReplicatorStatus
	// History is its last run, when it last caught up and its totals,
	// kept across restarts (service.RunHistory): live when it was read.
	History service.RunHistory
	// ServerFingerprint is the certificate the server presented last,
	// lowercase hex, for trust on first use; "" when unknown.
	ServerFingerprint string
}
