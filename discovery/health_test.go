package discovery

import (
	"net"
	"testing"
)

// TestHealthReportsWithoutQuerying checks Health on a browser that never
// started, so no multicast is sent.
func TestHealthReportsWithoutQuerying(t *testing.T) {
	b := NewBrowser(BrowserOptions{Interface: &net.Interface{Name: "test0"}})
	defer b.Stop()
	b.noteQueryError(errFake("no multicast here"))
	h := b.Health()
	if h.Running || h.Interface != "test0" || h.QueryError != "no multicast here" {
		t.Errorf("health %+v", h)
	}
}

type errFake string

func (e errFake) Error() string { return string(e) }
