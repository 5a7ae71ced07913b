// Package ui is PeerSync's Fyne desktop interface. It talks to the engine
// only through calls and the engine's event stream; widget updates from
// other goroutines go through fyne.Do.
package ui
