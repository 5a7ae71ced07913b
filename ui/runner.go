package ui

import "fyne.io/fyne/v2"

// runner is how screens reach the two kinds of goroutine they use: the UI
// goroutine, the only one that may touch widgets, and background goroutines
// for engine calls, which must never run on the UI goroutine.
type runner interface {
	onUI(fn func())       // run fn on the UI goroutine
	background(fn func()) // run fn on a new goroutine
}

// fyneRunner is the real thing: fyne.Do and plain goroutines. Tests use a
// queue they drain themselves, so widget reads in tests never race.
type fyneRunner struct{}

func (fyneRunner) onUI(fn func())       { fyne.Do(fn) }
func (fyneRunner) background(fn func()) { go fn() }

// call runs work in the background and hands its result to done on the UI
// goroutine.
func call[T any](r runner, work func() (T, error), done func(T, error)) {
	r.background(func() {
		v, err := work()
		r.onUI(func() { done(v, err) })
	})
}

// backgroundWork runs off the UI goroutine and returns what to apply on it.
type backgroundWork func() (apply func())

// reloader coalesces refreshes: while a load is running, further triggers
// only mark it dirty, so a burst of events costs at most two loads. All its
// fields are touched on the UI goroutine only.
type reloader struct {
	run runner
	// prepare runs on the UI goroutine and returns the background work,
	// which returns what to apply back on the UI goroutine. The split lets
	// a load copy UI state first instead of reading it from elsewhere.
	prepare func() backgroundWork

	busy, again bool
}

func (r *reloader) trigger() {
	if r.busy {
		r.again = true
		return
	}
	r.busy = true
	work := r.prepare()
	r.run.background(func() {
		apply := work()
		r.run.onUI(func() {
			if apply != nil {
				apply()
			}
			r.busy = false
			if r.again {
				r.again = false
				r.trigger()
			}
		})
	})
}
