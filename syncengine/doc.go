// Package syncengine is PeerSync's engine API: databases of JSON documents,
// collections, listeners (the passive peer) and replicators (the active
// peer) speaking the Couchbase Mobile replication protocol, TLS identities,
// and typed events.
//
// State flows out as events (Engine.Subscribe); commands flow in as method
// calls. The package never imports a GUI toolkit: the desktop app, the
// headless service and the CLI all drive the same calls.
package syncengine
