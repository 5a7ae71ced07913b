// Package store keeps a database in one bbolt file: documents with their
// revision trees and version vectors, a per-collection change feed,
// content-addressed blobs and local (non-replicated) documents such as
// checkpoints.
//
// Layout of the file:
//
//	meta                 uuid, source (source ID), clock (newest HLC time), format
//	coll/<scope.name>/   one bucket per collection holding:
//	    docs             docID → record (sequence, flags, version vectors, revision tree with leaf bodies)
//	    seqs             big-endian sequence → change entry (one live entry per document)
//	    count            number of live documents
//	local                local document ID → rev + body
//	blobs                "sha1-<base64>" → bytes
//	resolved             big-endian number → record of an automatic conflict resolution
//	                     (rule, winner, the loser's ID and body), and "count"; made by the first
//
// A conflict resolved during replication is recorded (Tx.RecordResolution)
// in the transaction that saves the outcome, with the losing revision's
// body, which the revision tree then prunes. Records are listed newest
// first (Tx.Resolutions), restored as a new local edit
// (Tx.RestoreResolution) or dismissed, and purged after
// Options.KeepResolved (on Open, by DB.PurgeResolutions and a few at each
// new record), at most Options.MaxResolved kept.
//
// Each database has a source ID (DB.SourceID) and a hybrid logical clock
// whose newest time is saved in meta by the transaction that used it. A
// revision made by a local write (put, delete, resolve) records its version
// vector beside its tree entry; a revision without one (written before
// format 2, or received with a revision-tree history) reads as its legacy
// version. A revision received with a vector is compared with the winner
// (Tx.CompareVersion) and stored only as a fast-forward (Tx.PutVersioned),
// as the winner's child under a revision ID derived from its content.
// Open upgrades a format 1 file in place, in one transaction.
//
// Every write goes through DB.Update; a document's new sequence is assigned
// in the same transaction as the write, and observers hear of changes only
// after the transaction has committed.
//
// A damaged file is ErrDamaged, never a panic: Open walks its pages and
// free list (package boltfile) before bbolt maps it, and calls into bbolt
// are guarded. Verify checks a file and Salvage copies what can be read from
// a damaged one.
//
// Pages of the memory-mapped file that transactions read are given back to
// the kernel every 8 MB of records (DB.ReleaseMapped), so a process's
// resident memory does not grow with the file it replicates.
package store
