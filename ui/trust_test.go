package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// A peer whose certificate this computer refuses is offered for trust at
// once, with a code both users can compare, and syncs once trusted.
func TestRefusedCertificateIsOfferedForTrust(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	l := peerListener(t, "desk", true) // anonymous TLS
	fp := l.TLSIdentity().Fingerprint()
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "desk",
		Database: "notes", Target: l.URLs()[0], Type: service.TypePull}}); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	rs.list.Select(0)
	test.Tap(rs.startBtn)
	h.waitFor("the refusal", func() bool {
		h.settle()
		r := rs.row("desk")
		return r != nil && r.ServerFingerprint != "" && rs.status("desk").Error != nil
	})
	code := tlsid.ShortCode(fp)
	if rs.trustBtn.Disabled() || !strings.Contains(rs.errLabel.Text, code) {
		t.Fatalf("trust button disabled %v; the error says %q, want the code %s", rs.trustBtn.Disabled(), rs.errLabel.Text, code)
	}
	test.Tap(rs.trustBtn)
	h.settle()
	if d := h.topDialog(); !hasText(d, code) {
		t.Fatalf("the trust dialog says %q", texts(d))
	}
	test.Tap(button(h.topDialog(), "Trust"))
	h.settle()
	if got := h.ws.savedReplication(t, "desk"); got.Pin != fp {
		t.Fatalf("pin saved as %q, want %q", got.Pin, fp)
	}
	test.Tap(rs.startBtn)
	h.waitFor("the pull to finish", func() bool {
		h.settle()
		st := rs.status("desk")
		return st.Activity == syncengine.Stopped && st.Error == nil && rs.row("desk").ID != ""
	})
	// The detail names the pinned certificate by the same code.
	if !strings.Contains(rs.info.Text, "trust: pinned certificate, code "+code) {
		t.Errorf("the detail says %q, want the pinned certificate's code %s", rs.info.Text, code)
	}
}
