// Package hlv holds the hybrid logical vectors ("version vectors") of
// protocol CBMobile_4, which Couchbase Lite 4 and Sync Gateway 4 use instead
// of revision trees, as pure values: no I/O, no locks except the Clock's.
//
// A Version is "<hex time>@<source ID>"; a Vector is a revision's current
// version, the merges it records and the previous versions of other sources.
// The package parses and writes both exactly as the wire needs (strictly: a
// version Couchbase Lite would refuse is refused here too), compares vectors
// (Compare: same, newer, older, conflicting), builds the vector of a local
// edit, a fast-forward, a merge and a resolution without a new body, maps a
// revision-tree ID to its legacy version, and keeps a hybrid logical clock.
package hlv
