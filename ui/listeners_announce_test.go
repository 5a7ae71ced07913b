package ui

import (
	"strings"
	"testing"

	"peersync/service"
)

// announcingWorkspace reports an announcement state for running listeners,
// as the app's workspace does from the service.
type announcingWorkspace struct {
	*testWorkspace
	state string
}

func (w announcingWorkspace) Listeners() ([]ListenerState, error) {
	ls, err := w.testWorkspace.Listeners()
	for i := range ls {
		if ls[i].Running && ls[i].Settings.Announce {
			ls[i].Announcement = w.state
		}
	}
	return ls, err
}

// The detail says what discovery did with a listener, not what its
// settings asked for: a listener marked for announcing may not be.
func TestListenerDetailSaysWhetherItIsAnnounced(t *testing.T) {
	const why = "not announced: bound to loopback"
	h := newHarness(t, func(h *harness) {
		h.wrap = func(w *testWorkspace) Workspace { return announcingWorkspace{w, why} }
	})
	h.database("notes")
	if err := h.ws.SaveListener("", ListenerSettings{ListenerConfig: service.ListenerConfig{Name: "share", Database: "notes",
		Interface: "127.0.0.1", TLS: service.TLSOff, Announce: true}, Auth: AuthNone}); err != nil {
		t.Fatal(err)
	}
	ls := h.u.listeners
	h.u.show(navListeners)
	h.settle()
	ls.list.Select(0)
	h.settle()
	if !strings.Contains(ls.info.Text, why) || strings.Contains(ls.info.Text, "announced on the LAN") {
		t.Errorf("running listener the service did not announce: detail %q; want %q", ls.info.Text, why)
	}
	h.ws.StopListener("share")
	ls.shown() // reloads, as coming back to the screen does
	h.settle()
	if !strings.Contains(ls.info.Text, "announced on the LAN while running") || strings.Contains(ls.info.Text, why) {
		t.Errorf("stopped listener: detail %q; want what happens once it runs", ls.info.Text)
	}
}
