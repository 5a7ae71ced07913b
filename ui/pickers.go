package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine/tlsid"
)

// fillDatabases loads the database names into a form's select.
func (u *mainUI) fillDatabases(sel *widget.Select) {
	call(u.run, u.eng.DatabaseNames, func(names []string, err error) {
		if err == nil {
			sel.SetOptions(names)
		}
	})
}

// fillIdentities adds the identity store's labels to a TLS select, after
// "off" and "anonymous", keeping current selected.
func (u *mainUI) fillIdentities(sel *widget.Select, current string) {
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
			sel.SetOptions(append([]string{TLSOff, TLSAnonymous}, labels...))
			sel.SetSelected(current)
		}
	})
}

// askTrust shows a peer's certificate fingerprint and calls trust when the
// user says it is the one they expect (trust on first use).
func (u *mainUI) askTrust(where, fingerprint string, trust func()) {
	msg := widget.NewLabel("The peer at " + where + " presents a certificate with the SHA-256 fingerprint\n\n" +
		tlsid.FormatFingerprint(fingerprint) + "\n\nCompare it with the fingerprint shown on the peer " +
		"(its Listeners screen). Trust it? It is remembered as this replication's pin.")
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
