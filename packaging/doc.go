// Package packaging holds the tests of the release packages that the
// Makefile builds into dist/: the version stamp, the Linux desktop archive,
// the Windows builds and their smoke test under Wine. It also keeps the C
// source of the bcryptprimitives.dll shim that lets Go's Windows binaries
// start under Wine 8. The package has no Go API; it is its tests.
package packaging
