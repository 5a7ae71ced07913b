package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// testLoop stands in for fyne.Do: UI work queues up until the test drains
// it on its own goroutine, so tests read widgets without racing and know
// when background engine calls have finished.
type testLoop struct {
	queue   chan func()
	pending atomic.Int64
}

func (l *testLoop) onUI(fn func()) { l.queue <- fn }

func (l *testLoop) background(fn func()) {
	l.pending.Add(1)
	go func() {
		defer l.pending.Add(-1)
		fn()
	}()
}

// harness is a main window on a real engine in a temporary directory.
type harness struct {
	t    testing.TB
	e    *syncengine.Engine
	u    *mainUI
	loop *testLoop
	sub  *syncengine.Subscription
	ws   *testWorkspace
	// wrap, when set, is what the window gets instead of ws.
	wrap func(*testWorkspace) Workspace
	// browser, when set, is the workspace's peer browser.
	browser PeerBrowser
	// osKeyring opens identities as the app does, not in memory.
	osKeyring bool
	closed    bool
}

// harnessOption adjusts a harness before its engine and window are built.
type harnessOption func(*harness)

// withBrowser gives the workspace a peer browser (discovery on).
func withBrowser(b PeerBrowser) harnessOption { return func(h *harness) { h.browser = b } }

// withOSKeyring lets the engine open its identity store as the app does:
// keys in the OS keyring, or in files when the keyring does not work.
func withOSKeyring() harnessOption { return func(h *harness) { h.osKeyring = true } }

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	return newHarnessIn(t, t.TempDir(), opts...)
}

// newHarnessIn is a harness whose engine uses the data directory dir, so
// that a second harness over it is the app started again.
func newHarnessIn(t testing.TB, dir string, opts ...harnessOption) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	h := &harness{t: t, loop: &testLoop{queue: make(chan func(), 10000)}}
	for _, o := range opts {
		o(h)
	}
	eopts := syncengine.Options{DataDir: dir}
	if !h.osKeyring {
		eopts.Identities = tlsid.NewStore(dir+"/identities", tlsid.NewMemoryKeyStore())
	}
	e, err := syncengine.New(eopts)
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	h.ws = newTestWorkspace(e)
	h.ws.browser = h.browser
	eng := NewEngine(e)
	h.sub = eng.Subscribe(4096)
	var ws Workspace = h.ws
	if h.wrap != nil {
		ws = h.wrap(h.ws)
	}
	h.u = newMainUI(a, eng, ws, h.loop, "1.2.3")
	h.u.activity.dropped = h.sub.Dropped // as Run does
	h.u.activity.now = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
	h.u.win.Resize(fyne.NewSize(1000, 650))
	t.Cleanup(h.close)
	h.settle()
	return h
}

// close quits the app: what runs stops, then the window and the engine.
func (h *harness) close() {
	if h.closed {
		return
	}
	h.closed = true
	h.ws.stopAll()
	h.settle() // let background work finish before the engine closes
	h.u.peers.stop()
	h.u.win.Close()
	h.sub.Close()
	if err := h.e.Close(); err != nil {
		h.t.Error(err)
	}
}

// settle runs queued UI work and engine events until nothing is left and
// no background call is running. The deadline only catches a UI that
// never settles: it is far beyond what a slow, loaded machine needs.
func (h *harness) settle() {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		idle := h.loop.pending.Load() == 0 // read before looking at the queues
		select {
		case fn := <-h.loop.queue:
			fn()
			continue
		case ev := <-h.sub.C:
			h.u.handle([]syncengine.Event{ev})
			continue
		default:
		}
		if idle {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatal("UI did not settle")
		}
		time.Sleep(time.Millisecond)
	}
}

// database creates a database directly in the engine.
func (h *harness) database(name string) *syncengine.Database {
	h.t.Helper()
	db, err := h.e.CreateDatabase(name)
	if err != nil {
		h.t.Fatal(err)
	}
	h.settle()
	return db
}

// openBrowser selects a database on the Databases screen and opens it.
func (h *harness) openBrowser(name string) *browserScreen {
	h.t.Helper()
	s := h.u.databases
	h.u.show(navDatabases)
	h.settle()
	for i, r := range s.rows {
		if r.Name == name {
			s.list.Select(i)
		}
	}
	if s.selected != name {
		h.t.Fatalf("database %q not in the list %v", name, s.rows)
	}
	test.Tap(s.openBtn)
	h.settle()
	if s.browser == nil {
		h.t.Fatal("the browser did not open")
	}
	return s.browser
}

// walk visits every visible object under o, through widget renderers.
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	visit(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, child := range c.Objects {
			walk(child, visit)
		}
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			walk(child, visit)
		}
	}
}

// texts returns the text of every visible label and rich text under o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Label:
			out = append(out, w.Text)
		case *widget.RichText:
			out = append(out, w.String())
		}
	})
	return out
}

func hasText(o fyne.CanvasObject, want string) bool {
	for _, s := range texts(o) {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

// topDialog is the topmost overlay (an open dialog), or nil.
func (h *harness) topDialog() fyne.CanvasObject { return h.u.win.Canvas().Overlays().Top() }

// button finds a visible button by its label under o.
func button(o fyne.CanvasObject, label string) *widget.Button {
	var found *widget.Button
	walk(o, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == label && found == nil {
			found = b
		}
	})
	return found
}

// entry finds a visible entry by its placeholder under o.
func entry(o fyne.CanvasObject, placeholder string) *widget.Entry {
	var found *widget.Entry
	walk(o, func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok && e.PlaceHolder == placeholder && found == nil {
			found = e
		}
	})
	return found
}

// press sends Ctrl+key (Cmd on macOS) to the window, as the keyboard would.
func (h *harness) press(k fyne.KeyName) {
	h.t.Helper()
	sc, ok := h.u.win.Canvas().(fyne.Shortcutable)
	if !ok {
		h.t.Fatal("the test canvas takes no shortcuts")
	}
	sc.TypedShortcut(ctrl(k))
}

// versionText matches a text element showing a version ("<hex
// time>@<source ID>", perhaps cut short with an ellipsis, so its width
// varies too): the clock and a random source ID differ from run to run.
var versionText = regexp.MustCompile(`<text [^>]*>([^<]*?)[0-9a-f]+@[A-Za-z0-9+/]*…?</text>`)

// assertMarkupWithVersions is test.AssertRendersToMarkup for a canvas that
// shows versions: each is replaced with "VERSION" before comparing with the
// master file (a mismatch is written to testdata/failed, as Fyne does).
func assertMarkupWithVersions(t *testing.T, name string, c fyne.Canvas) {
	t.Helper()
	got := versionText.ReplaceAllString(test.RenderToMarkup(c), "<text>${1}VERSION</text>")
	want, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil || string(want) != got {
		os.MkdirAll(filepath.Join("testdata", "failed"), 0o755)
		os.WriteFile(filepath.Join("testdata", "failed", name), []byte(got), 0o644)
		t.Errorf("markup of %s differs from testdata/%s (%v); see testdata/failed/%s", name, name, err, name)
	}
}
