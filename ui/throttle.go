package ui

import "time"

// maxUpdatesPerSecond bounds how often one replication's row and log are
// redrawn, however fast its events arrive.
const maxUpdatesPerSecond = 10

// throttle coalesces updates per key: the first change shows at once;
// changes within the next interval fold into one update at its end. Its
// fields are touched on the UI goroutine only.
type throttle struct {
	run     runner
	every   time.Duration
	now     func() time.Time
	update  func(key string)
	last    map[string]time.Time
	pending map[string]bool
}

func newThrottle(r runner, perSecond int, update func(key string)) *throttle {
	return &throttle{run: r, every: time.Second / time.Duration(perSecond), now: time.Now, update: update,
		last: map[string]time.Time{}, pending: map[string]bool{}}
}

// changed notes that key has news to show.
func (t *throttle) changed(key string) {
	if t.pending[key] {
		return // an update is already scheduled and will show this too
	}
	wait := t.last[key].Add(t.every).Sub(t.now())
	if wait <= 0 {
		t.fire(key)
		return
	}
	t.pending[key] = true
	t.run.background(func() {
		time.Sleep(wait)
		t.run.onUI(func() {
			t.pending[key] = false
			t.fire(key)
		})
	})
}

func (t *throttle) fire(key string) {
	t.last[key] = t.now()
	t.update(key)
}
