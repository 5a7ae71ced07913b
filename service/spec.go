package service

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode"

	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// Replication types, as saved ("" is TypePushAndPull).
const (
	TypePushAndPull = "pushAndPull"
	TypePush        = "push"
	TypePull        = "pull"
)

// TLS modes of a listener besides an identity label ("" is TLSAnonymous).
const (
	TLSOff       = "off"
	TLSAnonymous = "anonymous"
)

// ConflictPolicy says how a replication resolves conflicts.
type ConflictPolicy string

const (
	// ConflictsDefault is Couchbase Lite's rule for the protocol spoken: a
	// deletion wins, then over CBMobile_4 the newest edit (by its version's
	// clock), over CBMobile_3 the longer history, then the greater revision ID.
	ConflictsDefault ConflictPolicy = "default"
	ConflictsLocal   ConflictPolicy = "local"  // the local revision wins
	ConflictsRemote  ConflictPolicy = "remote" // the peer's revision wins
)

// ConflictPolicies lists the policies in the order forms offer them.
var ConflictPolicies = []ConflictPolicy{ConflictsDefault, ConflictsLocal, ConflictsRemote}

// ParseConflictPolicy reads a policy name; "" is the default.
func ParseConflictPolicy(s string) (ConflictPolicy, error) {
	switch p := ConflictPolicy(s); p {
	case "", ConflictsDefault:
		return ConflictsDefault, nil
	case ConflictsLocal, ConflictsRemote:
		return p, nil
	}
	return "", fmt.Errorf("%q is not a conflict policy; use default, local or remote", s)
}

// Resolver is the engine's resolver for the policy (nil: the default).
func (p ConflictPolicy) Resolver() syncengine.ConflictResolver {
	switch p {
	case ConflictsLocal:
		return syncengine.LocalWins
	case ConflictsRemote:
		return syncengine.RemoteWins
	}
	return nil
}

// Engine turns a listener's specification into the engine's
// configuration: the one translation the runner, the CLI and the GUI share.
func (lc ListenerConfig) Engine(e *syncengine.Engine) (syncengine.ListenerConfig, error) {
	db, err := e.OpenDatabase(lc.Database)
	if err != nil {
		return syncengine.ListenerConfig{}, err
	}
	cfg := syncengine.ListenerConfig{Database: db, Port: lc.Port, NetworkInterface: lc.Interface, ReadOnly: lc.ReadOnly,
		EnableDeltaSync: lc.DeltaSync, Collections: lc.Collections, MaxConnections: lc.MaxConnections,
		IdleTimeout: lc.IdleTimeout.Duration, HandshakeTimeout: lc.HandshakeTimeout.Duration, StartTimeout: lc.StartTimeout.Duration}
	switch lc.TLS {
	case TLSOff:
		cfg.DisableTLS = true
	case TLSAnonymous, "":
	default:
		ids, err := e.Identities()
		if err != nil {
			return cfg, err
		}
		if cfg.TLSIdentity, err = ids.Get(lc.TLS); err != nil {
			return cfg, fmt.Errorf("TLS identity %q: %w", lc.TLS, err)
		}
	}
	switch {
	case len(lc.Users) > 0 && lc.ClientCA != "":
		return cfg, errors.New("use either users with passwords or a client CA, not both")
	case len(lc.Users) > 0:
		users := map[string]string{}
		for _, u := range lc.Users {
			users[u.Name] = u.PasswordHash
		}
		cfg.Authenticator = syncengine.PasswordAuthenticator(func(u, p string) bool {
			h, ok := users[u]
			return ok && CheckPassword(h, p)
		})
		cfg.KnownUser = func(u string) bool { _, ok := users[u]; return ok }
	case lc.ClientCA != "":
		pemData, err := os.ReadFile(lc.ClientCA)
		if err != nil {
			return cfg, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return cfg, fmt.Errorf("client CA file %s: no PEM certificates found", lc.ClientCA)
		}
		cfg.Authenticator = syncengine.CertificateAuthenticator{Roots: pool}
	}
	return cfg, nil
}

// Engine turns a replication's specification into the engine's
// configuration: the one translation the runner, the CLI and the GUI share.
func (rc ReplicationConfig) Engine(e *syncengine.Engine) (syncengine.ReplicatorConfig, error) {
	typ := syncengine.PushAndPull
	if rc.Type != "" {
		var err error
		if typ, err = syncengine.ParseReplicatorType(rc.Type); err != nil {
			return syncengine.ReplicatorConfig{}, err
		}
	}
	policy, err := ParseConflictPolicy(string(rc.Conflicts))
	if err != nil {
		return syncengine.ReplicatorConfig{}, err
	}
	protocol, err := syncengine.ParseProtocol(rc.Protocol)
	if err != nil {
		return syncengine.ReplicatorConfig{}, err
	}
	db, err := e.OpenDatabase(rc.Database)
	if err != nil {
		return syncengine.ReplicatorConfig{}, err
	}
	cfg := syncengine.ReplicatorConfig{Protocol: protocol, Database: db, Target: rc.Target, Type: typ, Continuous: rc.Continuous,
		DocumentIDs: rc.DocIDs, Collections: rc.Collections, AcceptOnlySelfSignedServerCertificate: rc.AcceptSelfSigned,
		MaxAttempts: rc.MaxAttempts, MaxAttemptWaitTime: rc.MaxAttemptWait.Duration, Heartbeat: rc.Heartbeat.Duration,
		NoProgressTimeout: rc.NoProgress.Duration, EnableDeltaSync: rc.DeltaSync, ConflictResolver: policy.Resolver()}
	return cfg, rc.SetCredentials(e, &cfg)
}

// SetCredentials sets how cfg authenticates (a password or a stored
// client certificate) and which server certificate it trusts (a pinned
// fingerprint or PEM file), as rc says.
func (rc ReplicationConfig) SetCredentials(e *syncengine.Engine, cfg *syncengine.ReplicatorConfig) error {
	if rc.User != "" {
		pw, err := rc.password(e)
		if err != nil {
			return err
		}
		cfg.Authenticator = syncengine.BasicAuthenticator{Username: rc.User, Password: pw}
	}
	if rc.ClientCert != "" {
		ids, err := e.Identities()
		if err != nil {
			return err
		}
		id, err := ids.Get(rc.ClientCert)
		if err != nil {
			return fmt.Errorf("client certificate %q: %w", rc.ClientCert, err)
		}
		cfg.Authenticator = syncengine.ClientCertAuthenticator{Identity: id}
	}
	if rc.Pin != "" {
		if data, err := os.ReadFile(rc.Pin); err == nil {
			block, _ := pem.Decode(data)
			if block == nil {
				return fmt.Errorf("pin %s: not a PEM certificate", rc.Pin)
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return fmt.Errorf("pin %s: %w", rc.Pin, err)
			}
			cfg.PinnedServerCertificate = cert
		} else {
			cfg.PinnedServerFingerprint = rc.Pin
		}
	}
	return nil
}

// password is the replication's password: from password_file when it
// names one, else the one saved for this replication in the engine's
// secrets (the OS keyring).
func (rc ReplicationConfig) password(e *syncengine.Engine) (string, error) {
	if rc.PasswordFile != "" {
		return ReadPasswordFile(rc.PasswordFile)
	}
	secrets, err := e.Secrets()
	if err != nil {
		return "", err
	}
	pw, err := secrets.Get(PasswordLabel(rc.Name))
	if errors.Is(err, tlsid.ErrNotFound) {
		return "", fmt.Errorf("no password saved for replication %q: set one in the app, or give password_file", rc.Name)
	}
	return string(pw), err
}

// PasswordLabel is the label a replication's password is saved under in
// the engine's secrets: its name, made safe for a file name, and a hash of
// the name so that names differing only in unsafe characters do not meet.
func PasswordLabel(name string) string {
	sum := sha256.Sum256([]byte(name))
	safe := strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			return r
		}
		return '_'
	}, name)
	if len(safe) > 64 {
		safe = safe[:64]
	}
	return "replication-" + safe + "-" + hex.EncodeToString(sum[:4])
}

// ReadPasswordFile reads a password kept in a file (one line; the line
// ending is not part of it).
func ReadPasswordFile(file string) (string, error) {
	if file == "" {
		return "", errors.New("a password is needed: give a password file")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(data), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%s is empty", file)
	}
	return pw, nil
}
