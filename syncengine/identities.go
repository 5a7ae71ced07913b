package syncengine

import (
	"path/filepath"

	"peersync/syncengine/tlsid"
)

// anonymousLabel names the listener's generated self-signed identity.
const anonymousLabel = "peersync-anonymous"

// Identities returns the engine's TLS identity store (keys in the OS
// keyring, or 0600 files where there is none), opening it on first use.
func (e *Engine) Identities() (*tlsid.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ids == nil {
		ids, err := tlsid.Open(filepath.Join(e.dir, "identities"), e.log)
		if err != nil {
			return nil, err
		}
		e.ids = ids
	}
	return e.ids, nil
}

// Secrets is where secrets such as replication passwords are kept: the OS
// keyring when the identity keys are kept there, else 0600 files in the
// data directory's secrets/ (the same fallback, said once by Identities).
func (e *Engine) Secrets() (tlsid.KeyStore, error) {
	ids, err := e.Identities()
	if err != nil {
		return nil, err
	}
	return ids.SecretStore(filepath.Join(e.dir, "secrets")), nil
}
