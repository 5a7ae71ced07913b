// Package repl is the Couchbase Mobile replication protocol over a BLIP
// connection, in both its versions on the same documents: CBMobile_4,
// which names revisions by version vectors (Options.VersionVectors), and
// CBMobile_3, which names them by revision-tree IDs. The role is fixed when a
// session is made: the replicator runs NewActive on a dialled connection
// (the active peer, which decides what is replicated), the listener
// NewPassive on an accepted one (the passive peer, which serves
// checkpoints and pulls). Both share a Session: collections, counters and
// the receiver.
//
// The sending half (pusher) reads the change feed and offers revisions:
// with proposeChanges when active, with changes when serving a peer's
// subChanges. The receiving half (puller) answers changes/proposeChanges,
// fetches blobs, saves incoming revisions in batched transactions and
// acknowledges each only after its transaction commits.
//
// Checkpoints advance only over the contiguous prefix of finished
// sequences, so a checkpoint never runs ahead of what is saved. A peer may
// offer a revision more than once; the puller asks for each once and
// tracks each sequence once. A pull is idle once the peer has said it is
// caught up (an empty changes, which Sync Gateway sends only the first
// time) and nothing asked for is outstanding.
//
// On the wire, collections of the default scope are named without the
// scope ("_default", "foo"), as Couchbase Lite names them; everywhere else
// they are "scope.name".
//
// Every request waits at most Options.RequestTimeout for its answer, so a
// peer that keeps the connection alive but stops answering cannot stall a
// session. Revisions sent when a connection ended before their answer are
// carried to the next connection (Unacknowledged) and counted as pushed if
// the peer turns out to have them.
package repl
