// Package app is PeerSync's composition root: it reads the configuration,
// opens the engine, and runs the GUI, the headless service or a CLI
// command. It is the only package that wires the others together.
package app
