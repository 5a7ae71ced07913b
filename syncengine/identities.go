package syncengine

import (
	"path/filepath"

	"peersync/syncengine/tlsid"
)

// anonymousLabel names the listener's generated self-signed identity.
const anonymousLabel = "peersync-anonymous"

// KeyringUnavailable reports that the OS keyring does not work, so TLS
// private keys (in KeysDir) and replication passwords (in SecretsDir) are
// kept in files readable only by their owner. It is published once, when
// the identity store is opened, and given to every later subscriber.
type KeyringUnavailable struct {
	Reason     string // the keyring's failure
	KeysDir    string
	SecretsDir string
}

func (KeyringUnavailable) isEvent() {}

// Identities returns the engine's TLS identity store (keys in the OS
// keyring, or 0600 files where there is none), opening it on first use.
func (e *Engine) Identities() (*tlsid.Store, error) {
	ids, opened, err := e.openIdentities()
	if err != nil {
		return nil, err
	}
	if opened {
		e.sayWhereKeysAre(ids)
	}
	return ids, nil
}

// openIdentities returns the identity store, opening it if no call has;
// opened says this call did.
func (e *Engine) openIdentities() (ids *tlsid.Store, opened bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ids != nil {
		return e.ids, false, nil
	}
	ids, err = tlsid.Open(e.identitiesDir(), e.log)
	if err != nil {
		return nil, false, err
	}
	e.ids = ids
	return ids, true, nil
}

// sayWhereKeysAre publishes KeyringUnavailable when ids fell back to files.
func (e *Engine) sayWhereKeysAre(ids *tlsid.Store) {
	if err := ids.KeyringError(); err != nil {
		e.bus.publishSticky(KeyringUnavailable{Reason: err.Error(),
			KeysDir: filepath.Join(e.identitiesDir(), "keys"), SecretsDir: e.secretsDir()})
	}
}

func (e *Engine) identitiesDir() string { return filepath.Join(e.dir, "identities") }
func (e *Engine) secretsDir() string    { return filepath.Join(e.dir, "secrets") }

// Secrets is where secrets such as replication passwords are kept: the OS
// keyring when the identity keys are kept there, else 0600 files in the
// data directory's secrets/ (the same fallback, said once by Identities).
func (e *Engine) Secrets() (tlsid.KeyStore, error) {
	ids, err := e.Identities()
	if err != nil {
		return nil, err
	}
	return ids.SecretStore(e.secretsDir()), nil
}
