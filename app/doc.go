// Package app is PeerSync's composition root: flags, the CLI commands, the
// adapter between the GUI and the service runtime (package service), and
// the start of the GUI or the headless service. It is the only package that
// wires the others together.
package app
