// Package store keeps a database in one bbolt file: documents with their
// revision trees, a per-collection change feed, content-addressed blobs and
// local (non-replicated) documents such as checkpoints.
//
// Layout of the file:
//
//	meta                 uuid, format version
//	coll/<scope.name>/   one bucket per collection holding:
//	    docs             docID → record (sequence, flags, revision tree with leaf bodies)
//	    seqs             big-endian sequence → change entry (one live entry per document)
//	    count            number of live documents
//	local                local document ID → rev + body
//	blobs                "sha1-<base64>" → bytes
//
// Every write goes through DB.Update; a document's new sequence is assigned
// in the same transaction as the write, and observers hear of changes only
// after the transaction has committed.
//
// A damaged file is ErrDamaged, never a panic: Open walks its pages
// (package boltfile) before bbolt maps it, and calls into bbolt are
// guarded. Verify checks a file and Salvage copies what can be read from a
// damaged one.
package store
