package ui

import (
	"net"
	"slices"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine/tlsid"
)

// fillDatabases loads the database names into a form's select and selects
// current, listing it even when it is gone so the form shows what is saved.
func (u *mainUI) fillDatabases(sel *widget.Select, current string) {
	call(u.run, u.eng.DatabaseNames, func(names []string, err error) {
		if err != nil {
			return
		}
		if current != "" && !slices.Contains(names, current) {
			names = append(names, current)
		}
		sel.SetOptions(names)
		if current != "" {
			sel.SetSelected(current)
		}
	})
}

// fillIdentities loads the identity store's labels into a select, after
// first, and selects current.
func (u *mainUI) fillIdentities(sel *widget.Select, first []string, current string) {
	call(u.run, func() ([]string, error) {
		store, err := u.eng.Identities()
		if err != nil {
			return nil, err
		}
		ids, err := store.List()
		var labels []string
		for _, id := range ids {
			labels = append(labels, id.Label)
		}
		return labels, err
	}, func(labels []string, err error) {
		if err == nil {
			opts := append(slices.Clone(first), labels...)
			if current != "" && !slices.Contains(opts, current) {
				opts = append(opts, current)
			}
			sel.SetOptions(opts)
			sel.SetSelected(current)
		}
	})
}

// askTrust shows a peer's certificate fingerprint and calls trust when the
// user says it is the one they expect (trust on first use).
func (u *mainUI) askTrust(where, fingerprint string, trust func()) {
	u.askTrustAs(where, fingerprint, "It is remembered as this replication's pin.", trust)
}

// askTrustAs is askTrust with its own last sentence: where the trusted
// fingerprint is remembered.
func (u *mainUI) askTrustAs(where, fingerprint, remembered string, trust func()) {
	msg := widget.NewLabel("The peer at " + where + " presents a certificate with the code\n\n" +
		tlsid.ShortCode(fingerprint) + "\n\n(SHA-256 " + tlsid.FormatFingerprint(fingerprint) + ")\n\n" +
		"Compare it with the code the peer shows (its Listeners screen). Trust it? " + remembered)
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Trust this peer?", "Trust", "Cancel", msg, func(ok bool) {
		if ok {
			trust()
		}
	}, u.win)
	d.Resize(fyne.NewSize(520, 300))
	d.Show()
	u.trustDialog = d
}

// DefaultPort is the port a new listener is offered first: Sync Gateway's,
// the one Couchbase Lite users expect.
const DefaultPort = 4984

// freePort is the first port from start on that no saved listener uses
// and nothing on this machine holds, so a new listener gets a port that
// stays the same across restarts; 0 (pick one at each start) if none is
// free in the next hundred.
func freePort(start int, saved []int) int {
	for p := start; p < start+100 && p <= 65535; p++ {
		if slices.Contains(saved, p) {
			continue
		}
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	return 0
}
