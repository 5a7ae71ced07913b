package ui

import (
	"fmt"
	"math"
	"time"

	"peersync/syncengine/tlsid"
)

// expiryWarning is how soon an expiry is flagged.
const expiryWarning = 30 * 24 * time.Hour

// identityRow is one TLS identity as the Identities screen lists it.
type identityRow struct {
	Label       string
	CommonName  string
	Usage       string
	Fingerprint string // formatted AB:CD:…
	Code        string // tlsid.ShortCode: what two users compare
	Expires     time.Time
	Expiry      string // "expires 2026-01-02 (in 40 days)", "expired …"
	Warn        bool   // expired or expiring within expiryWarning
}

func identityRows(ids []*tlsid.Identity, now time.Time) []identityRow {
	rows := make([]identityRow, 0, len(ids))
	for _, id := range ids {
		r := identityRow{Label: id.Label, Usage: id.Usage().String(),
			Fingerprint: tlsid.FormatFingerprint(id.Fingerprint()), Code: tlsid.ShortCode(id.Fingerprint()), Expires: id.Expires()}
		if c := id.Certificate(); c != nil {
			r.CommonName = c.Subject.CommonName
		}
		r.Expiry, r.Warn = expiryText(id, now)
		rows = append(rows, r)
	}
	return rows
}

// expiryText says when an identity expires and whether that needs action.
func expiryText(id *tlsid.Identity, now time.Time) (string, bool) {
	exp := id.Expires()
	date := exp.Local().Format("2006-01-02")
	left := exp.Sub(now)
	switch {
	case id.Certificate() == nil:
		return "no certificate", true
	case now.Before(id.Certificate().NotBefore):
		return "not valid until " + id.Certificate().NotBefore.Local().Format("2006-01-02"), true
	case left <= 0:
		return "expired " + date + ": create or import a new identity", true
	case left < expiryWarning:
		return fmt.Sprintf("expires %s (in %s): renew it soon", date, daysText(left)), true
	}
	return fmt.Sprintf("expires %s (in %s)", date, daysText(left)), false
}

func daysText(d time.Duration) string {
	days := int(math.Round(d.Hours() / 24))
	switch days {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", days)
}
