// Package bench holds the end-to-end replication benchmarks that `make
// bench` runs: two real peersync processes on 127.0.0.1, each with its own
// database on disk, timed and measured from outside (CPU seconds, peak
// anonymous and file-backed memory). It has no code of its own to ship.
package bench
