// Package revtree is a document's revision tree as a plain value: no I/O, no
// locks. Replication inserts revisions with their ancestry; local saves extend
// a leaf; the winner rule decides which leaf is the document's current state.
//
// Revision IDs are "N-digest": N is the generation (parent's + 1, root is 1)
// and digest is opaque text unique per content and parent.
//
// Winner rule (every peer must compute the same one): among the leaves, the
// one with the highest (not deleted, generation, digest) tuple wins. So any
// live leaf beats every tombstone, then the longer branch wins, then the
// greater digest by byte order.
//
// A tree with two or more live (not deleted) leaves is in conflict.
package revtree
