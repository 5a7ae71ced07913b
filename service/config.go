package service

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"peersync/syncengine"
	"peersync/syncengine/endpoint"
)

// ConfigFileName is the configuration file's name in the data directory.
const ConfigFileName = "peersync.toml"

// Config is the one configuration file shared by the GUI and headless mode.
// Secrets are never stored in it: listener users keep bcrypt hashes, and
// replicator passwords live in the engine's secrets (the OS keyring, under
// PasswordLabel of the replication's name) or in a file named by
// password_file.
type Config struct {
	Discovery    DiscoveryConfig     `toml:"discovery"`
	Log          LogConfig           `toml:"log"`
	Listeners    []ListenerConfig    `toml:"listener"`
	Replications []ReplicationConfig `toml:"replication"`
	Metrics      MetricsConfig       `toml:"metrics,omitempty"`
	Storage      StorageConfig       `toml:"storage,omitempty"`
}

// StorageConfig tunes what the databases keep.
type StorageConfig struct {
	// KeepResolvedConflicts is how long a record of each automatically
	// resolved conflict (with the losing revision, restorable) is kept;
	// 0 means the default, 30 days.
	KeepResolvedConflicts Duration `toml:"keep_resolved_conflicts,omitempty"`
}

// DiscoveryConfig switches LAN discovery.
type DiscoveryConfig struct {
	Announce bool         `toml:"announce"`
	Browse   bool         `toml:"browse"`
	Name     string       `toml:"name,omitempty"` // friendly name; default the host name
	Peers    []ManualPeer `toml:"peer,omitempty"` // peers added by hand, listed beside discovered ones
}

// ManualPeer is a peer added by hand: [[discovery.peer]].
type ManualPeer struct {
	Host     string `toml:"host"`
	Port     int    `toml:"port"`
	Database string `toml:"database"`
	TLS      bool   `toml:"tls,omitempty"`
}

// LogConfig sets headless logging.
type LogConfig struct {
	Format string `toml:"format,omitempty"` // text (default) or json
	Level  string `toml:"level,omitempty"`  // debug, info (default), warn, error
}

// ListenerConfig is one [[listener]].
type ListenerConfig struct {
	Name           string     `toml:"name"`
	Database       string     `toml:"database"`
	Port           int        `toml:"port"`
	Interface      string     `toml:"interface,omitempty"`
	TLS            string     `toml:"tls,omitempty"` // off, anonymous (default) or an identity label
	ReadOnly       bool       `toml:"read_only,omitempty"`
	DeltaSync      bool       `toml:"delta_sync,omitempty"`
	Announce       bool       `toml:"announce,omitempty"`
	Collections    []string   `toml:"collections,omitempty"`
	Users          []UserHash `toml:"users,omitempty"`
	ClientCA       string     `toml:"client_ca,omitempty"` // PEM file of CA certificates for client-certificate auth
	MaxConnections int        `toml:"max_connections,omitempty"`
	IdleTimeout    Duration   `toml:"idle_timeout,omitempty"` // close connections silent this long (default 15m)
	// HandshakeTimeout: TLS, HTTP request and authentication together (default 10s).
	HandshakeTimeout Duration `toml:"handshake_timeout,omitempty"`
	// StartTimeout: a session must send its first request within this (default 30s).
	StartTimeout Duration `toml:"start_timeout,omitempty"`
}

// UserHash is a listener user with a bcrypt password hash.
type UserHash struct {
	Name         string `toml:"name"`
	PasswordHash string `toml:"password_hash"`
}

// ReplicationConfig is one [[replication]].
type ReplicationConfig struct {
	Name             string         `toml:"name"`
	Database         string         `toml:"database"`
	Target           string         `toml:"target"`
	Type             string         `toml:"type,omitempty"` // push, pull, pushAndPull (default)
	Continuous       bool           `toml:"continuous,omitempty"`
	AutoStart        bool           `toml:"auto_start,omitempty"`
	DocIDs           []string       `toml:"doc_ids,omitempty"`
	Collections      []string       `toml:"collections,omitempty"`
	Conflicts        ConflictPolicy `toml:"conflicts,omitempty"`
	User             string         `toml:"user,omitempty"`
	PasswordFile     string         `toml:"password_file,omitempty"`
	ClientCert       string         `toml:"client_cert,omitempty"` // identity label
	Pin              string         `toml:"pin,omitempty"`         // SHA-256 fingerprint of the server certificate
	AcceptSelfSigned bool           `toml:"accept_self_signed,omitempty"`
	MaxAttempts      int            `toml:"max_attempts,omitempty"`
	MaxAttemptWait   Duration       `toml:"max_attempt_wait,omitempty"`
	Heartbeat        Duration       `toml:"heartbeat,omitempty"`
	NoProgress       Duration       `toml:"no_progress_timeout,omitempty"` // one-shot: stop after this long without progress
	DeltaSync        bool           `toml:"delta_sync,omitempty"`
	Protocol         string         `toml:"protocol,omitempty"` // auto (default), v4 or v3
}

// Duration is a time.Duration written as "300s", "5m".
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration like \"30s\" or \"5m\"", b)
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ConfigError locates a problem in the configuration file.
type ConfigError struct {
	File string
	Line int // 0 when unknown
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// DefaultConfig is what a new installation starts with.
func DefaultConfig() *Config {
	return &Config{Discovery: DiscoveryConfig{Announce: true, Browse: true}, Log: LogConfig{Format: "text", Level: "info"}}
}

// LoadConfig reads and validates path. A missing file gives the defaults.
func LoadConfig(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultConfig(), nil
	}
	if err != nil {
		return nil, err
	}
	cfg := DefaultConfig()
	md, err := toml.Decode(string(src), cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ConfigError{File: path, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
		}
		return nil, &ConfigError{File: path, Msg: err.Error()}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &ConfigError{File: path, Line: lineOfKey(src, k), Key: k.String(), Msg: "unknown key (see the README for the allowed keys)"}
	}
	if err := cfg.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.File = path
			ce.Line = lineOfSectionKey(src, ce.Key)
		}
		return nil, err
	}
	return cfg, nil
}

// Validate checks values; errors carry the key as "listener[1].port".
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	oneOf := func(key, v string, allowed ...string) error {
		if v != "" && !slices.Contains(allowed, v) {
			return bad(key, "%q is not allowed; use one of %s", v, strings.Join(allowed, ", "))
		}
		return nil
	}
	if err := oneOf("log.format", c.Log.Format, "text", "json"); err != nil {
		return err
	}
	if err := oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error"); err != nil {
		return err
	}
	if _, err := metricsListenAddress(c.Metrics.Address); err != nil {
		return bad("metrics.address", "%v", err)
	}
	for i, p := range c.Discovery.Peers {
		k := fmt.Sprintf("discovery.peer[%d]", i)
		switch {
		case strings.TrimSpace(p.Host) == "":
			return bad(k+".host", "every peer needs a host name or address")
		case p.Port < 1 || p.Port > 65535:
			return bad(k+".port", "%d is not a port 1–65535", p.Port)
		case p.Database == "":
			return bad(k+".database", "every peer needs a database")
		}
	}
	names := map[string]bool{}
	for i, l := range c.Listeners {
		k := fmt.Sprintf("listener[%d]", i)
		switch {
		case l.Name == "":
			return bad(k+".name", "every listener needs a name")
		case names["l:"+l.Name]:
			return bad(k+".name", "%q is used by another listener", l.Name)
		case syncengine.ValidateDatabaseName(l.Database) != nil:
			return bad(k+".database", "%v", syncengine.ValidateDatabaseName(l.Database))
		case l.Port < 0 || l.Port > 65535:
			return bad(k+".port", "%d is not a port (0–65535; 0 picks a free one)", l.Port)
		case l.ClientCA != "" && len(l.Users) > 0:
			return bad(k+".client_ca", "use either users or client_ca, not both")
		case l.ClientCA != "" && l.TLS == "off":
			return bad(k+".client_ca", "client certificates need TLS; remove tls = \"off\"")
		case l.MaxConnections < 0:
			return bad(k+".max_connections", "must not be negative")
		}
		for j, u := range l.Users {
			if u.Name == "" || !strings.HasPrefix(u.PasswordHash, "$2") {
				return bad(fmt.Sprintf("%s.users[%d]", k, j), "each user needs a name and a bcrypt password_hash (make one with `peersync user hash`)")
			}
		}
		names["l:"+l.Name] = true
	}
	targets := map[string]string{} // database and normalised target → replication name
	for i, r := range c.Replications {
		k := fmt.Sprintf("replication[%d]", i)
		if r.Name == "" {
			return bad(k+".name", "every replication needs a name")
		}
		if names["r:"+r.Name] {
			return bad(k+".name", "%q is used by another replication", r.Name)
		}
		names["r:"+r.Name] = true
		if err := syncengine.ValidateDatabaseName(r.Database); err != nil {
			return bad(k+".database", "%v", err)
		}
		// Targets are kept in the shown form, so one peer has one spelling
		// and a second replication of the same database with it is refused.
		target, err := endpoint.Normalize(r.Target)
		if err != nil {
			return bad(k+".target", "%v", err)
		}
		c.Replications[i].Target = target
		if other, ok := targets[r.Database+" "+target]; ok {
			return bad(k+".target", "replication %q already replicates %q with %s", other, r.Database, target)
		}
		targets[r.Database+" "+target] = r.Name
		if err := oneOf(k+".type", r.Type, "push", "pull", "pushAndPull"); err != nil {
			return err
		}
		if _, err := ParseConflictPolicy(string(r.Conflicts)); err != nil {
			return bad(k+".conflicts", "%v", err)
		}
		if _, err := syncengine.ParseProtocol(r.Protocol); err != nil {
			return bad(k+".protocol", "%v", err)
		}
		if r.MaxAttempts < 0 {
			return bad(k+".max_attempts", "must not be negative")
		}
	}
	return nil
}

// lineOfKey finds the line that defines a decoded key (best effort).
func lineOfKey(src []byte, k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	return findLine(src, k[:len(k)-1].String(), -1, k[len(k)-1])
}

// lineOfSectionKey finds "listener[1].port": the second [[listener]]
// table's port line (or the table header when the key is absent).
func lineOfSectionKey(src []byte, key string) int {
	table, rest, ok := strings.Cut(key, "[")
	if !ok {
		sec, field, _ := strings.Cut(key, ".")
		return findLine(src, sec, -1, field)
	}
	var idx int
	var field string
	fmt.Sscanf(rest, "%d]", &idx)
	if _, f, ok := strings.Cut(rest, "]."); ok {
		field, _, _ = strings.Cut(f, "[")
		field, _, _ = strings.Cut(field, ".")
	}
	return findLine(src, table, idx, field)
}

// findLine returns the line of field inside the idx-th [[table]] (idx -1:
// inside [table]), or of the header when the field is not written.
func findLine(src []byte, table string, idx int, field string) int {
	sc := bufio.NewScanner(bytes.NewReader(src))
	header := "[" + table + "]"
	if idx >= 0 {
		header = "[[" + table + "]]"
	}
	line, seen, in, headerLine := 0, -1, table == "", 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "[") {
			in = false
			if text == header {
				seen++
				if idx < 0 || seen == idx {
					in, headerLine = true, line
				}
			}
			continue
		}
		if in && field != "" {
			if k, _, ok := strings.Cut(text, "="); ok && strings.TrimSpace(k) == field {
				return line
			}
		}
	}
	return headerLine
}

// Save writes the configuration atomically: a temporary file in the same
// directory, synced, then renamed over the old one.
func (c *Config) Save(path string) error {
	var buf bytes.Buffer
	buf.WriteString("# PeerSync configuration. Edited by the app and by hand; see the README.\n\n")
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".peersync-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
