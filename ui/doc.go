// Package ui is PeerSync's Fyne desktop interface.
//
// It talks to the engine only through the small interfaces in engine.go
// (Engine, Database, Collection, Identities); NewEngine adapts a
// *syncengine.Engine to them. State flows in as engine events: Run
// subscribes, and a goroutine pumps batches of events to the UI goroutine
// with fyne.Do. Commands flow out as engine calls made on goroutines started
// from widget callbacks, so the UI goroutine never blocks on the disk;
// their results come back through fyne.Do too. Both directions go through
// one runner (runner.go), which tests replace with a queue they drain.
//
// One file per screen: databases.go, browser.go (with editor.go,
// revisions.go, blobs.go), conflicts.go, identities.go, activity.go, and
// placeholder.go for the Listeners, Peers and Replications screens still to
// come. Each screen keeps its widget-free logic in a *_model.go file.
// Errors become dialogs that say what failed and what to do next
// (errors.go).
package ui
