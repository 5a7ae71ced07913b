// Package tlsid manages the TLS identities PeerSync uses: the listener's
// server certificate and the replicator's client certificates.
//
// An Identity is a certificate chain (leaf first) plus its private key. A
// Store keeps identities by label: the chain as a PEM file named after the
// label in the store's directory, and the private key in a KeyStore. Open
// picks the OS keyring (Secret Service, macOS Keychain or Windows Credential
// Manager, through go-keyring under the service "PeerSync") when it works and
// otherwise falls back to one 0600 file per key in dir/keys, logging a single
// warning. Private keys never leave the KeyStore unless a caller asks for
// them with Identity.PrivateKeyPEM or Identity.PKCS12.
//
// Identities can be created self-signed (ECDSA P-256), imported from a PEM
// bundle or a PKCS#12 file, looked up, listed and deleted.
// GetOrCreateAnonymousFor gives the listener the self-signed server identity
// it uses when none was configured; it is made once and then reused, so peers
// that pinned its fingerprint keep recognising it, and re-issued only when it
// lacks a name the listener serves.
//
// Every certificate made here carries key usage, extended key usage (server
// and/or client authentication) and subject alternative names: a client
// that trusts a certificate as a root still checks the host it dialled
// against those names. ServedNames lists what a listener serves (localhost,
// the host name, loopback and interface addresses); ParseAltNames reads
// names typed by people.
//
// Fingerprints are the SHA-256 of the leaf certificate's DER encoding, as
// lowercase hex; FormatFingerprint renders them as "AB:CD:..." for people and
// ParseFingerprint accepts either form back.
//
// The shape follows Couchbase Lite's CBLTLSIdentity (attributes, key usages,
// expiration, labels), adapted to Go's crypto/tls.
package tlsid
