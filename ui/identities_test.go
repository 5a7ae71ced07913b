package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"peersync/syncengine/tlsid"
)

func TestIdentitiesShowFingerprintAndFlagExpiry(t *testing.T) {
	h := newHarness(t)
	store, err := h.e.Identities()
	if err != nil {
		t.Fatal(err)
	}
	soon, err := store.CreateSelfSigned(tlsid.CreateOptions{Label: "soon", Attributes: tlsid.Attributes{CommonName: "soon.local"},
		Usage: tlsid.UsageServer, Validity: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateSelfSigned(tlsid.CreateOptions{Label: "year", Attributes: tlsid.Attributes{CommonName: "year.local"},
		Usage: tlsid.UsageServer | tlsid.UsageClient}); err != nil {
		t.Fatal(err)
	}
	s := h.u.identities
	h.u.show(navIdentities)
	h.settle()
	if len(s.rows) != 2 || s.rows[0].Label != "soon" || s.rows[1].Label != "year" {
		t.Fatalf("rows %+v", s.rows)
	}
	if !s.rows[0].Warn || !strings.Contains(s.rows[0].Expiry, "renew it soon") {
		t.Errorf("an identity expiring in 10 days: %+v", s.rows[0])
	}
	if s.rows[1].Warn || !strings.Contains(s.rows[1].Expiry, "(in 365 days)") {
		t.Errorf("a year-long identity: %+v", s.rows[1])
	}
	fp := tlsid.FormatFingerprint(soon.Fingerprint())
	if s.rows[0].Fingerprint != fp || !hasText(s.list, "SHA-256 "+fp) {
		t.Errorf("fingerprint %q not shown; list shows %q", fp, texts(s.list))
	}
	if !strings.Contains(s.status.Text, "1 expired or expiring within 30 days") {
		t.Errorf("status %q", s.status.Text)
	}
	// The list cuts long fingerprints: the selected one shows whole, with its
	// code, selectable, and can be copied.
	if !s.copyBtn.Disabled() {
		t.Error("Copy fingerprint is enabled with nothing selected")
	}
	s.list.Select(0)
	want := "SHA-256 " + fp + "\nCode " + tlsid.ShortCode(soon.Fingerprint())
	if s.detail.Text != want || !s.detail.Selectable {
		t.Errorf("selected identity detail %q (selectable %v), want %q", s.detail.Text, s.detail.Selectable, want)
	}
	test.Tap(s.copyBtn)
	if got := h.u.app.Clipboard().Content(); got != fp {
		t.Errorf("clipboard %q, want the fingerprint %q", got, fp)
	}
}

func TestCreateIdentityThroughTheForm(t *testing.T) {
	h := newHarness(t)
	s := h.u.identities
	h.u.show(navIdentities)
	h.settle()
	s.showCreate()
	d := h.topDialog()
	test.Type(entry(d, "e.g. laptop-server"), "desk")
	test.Type(entry(d, "e.g. my-laptop.local"), "desk.local")
	s.form.Submit()
	h.settle()
	if len(s.rows) != 1 || s.rows[0].Label != "desk" || s.rows[0].CommonName != "desk.local" || s.rows[0].Usage != "server|client" {
		t.Fatalf("rows after create: %+v", s.rows)
	}

	s.list.Select(0)
	test.Tap(s.deleteBtn)
	s.confirm.Confirm()
	h.settle()
	if len(s.rows) != 0 {
		t.Errorf("rows after delete: %+v", s.rows)
	}
}

func TestCreateIdentityErrorSaysWhatToDo(t *testing.T) {
	h := newHarness(t)
	s := h.u.identities
	s.showCreate()
	d := h.topDialog()
	test.Type(entry(d, "e.g. laptop-server"), "bad label!")
	test.Type(entry(d, "e.g. my-laptop.local"), "x")
	s.form.Submit()
	h.settle()
	if d := h.topDialog(); d == nil || !hasText(d, "not allowed") || !hasText(d, advice(tlsid.ErrInvalid)) {
		t.Errorf("error dialog shows %q", texts(d))
	}
}

func TestExpiryText(t *testing.T) {
	store := tlsid.NewStore(t.TempDir(), tlsid.NewMemoryKeyStore())
	id, err := store.CreateSelfSigned(tlsid.CreateOptions{Label: "x", Attributes: tlsid.Attributes{CommonName: "x"},
		Usage: tlsid.UsageServer, Validity: 100 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	exp := id.Expires()
	for _, tc := range []struct {
		now  time.Time
		want string
		warn bool
	}{
		{exp.Add(-60 * 24 * time.Hour), "(in 60 days)", false},
		{exp.Add(-29 * 24 * time.Hour), "(in 29 days): renew it soon", true},
		{exp.Add(-time.Hour), "(in less than a day)", true},
		{exp.Add(time.Hour), "expired", true},
		{exp.Add(-200 * 24 * time.Hour), "not valid until", true},
	} {
		text, warn := expiryText(id, tc.now)
		if !strings.Contains(text, tc.want) || warn != tc.warn {
			t.Errorf("at %v: %q warn=%v, want %q warn=%v", tc.now, text, warn, tc.want, tc.warn)
		}
	}
}

func TestImportPEMIdentity(t *testing.T) {
	h := newHarness(t)
	other := tlsid.NewStore(t.TempDir(), tlsid.NewMemoryKeyStore())
	src, err := other.CreateSelfSigned(tlsid.CreateOptions{Label: "src", Attributes: tlsid.Attributes{CommonName: "elsewhere"}, Usage: tlsid.UsageClient})
	if err != nil {
		t.Fatal(err)
	}
	key, err := src.PrivateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	s := h.u.identities
	h.u.show(navIdentities)
	h.settle()
	s.askImport(false, "from-file", append(src.ChainPEM(), key...))
	test.Tap(button(h.topDialog(), "Import"))
	h.settle()
	if len(s.rows) != 1 || s.rows[0].Label != "from-file" || s.rows[0].Fingerprint != tlsid.FormatFingerprint(src.Fingerprint()) {
		t.Fatalf("rows after import: %+v", s.rows)
	}

	s.askImport(false, "garbage", []byte("not PEM"))
	test.Tap(button(h.topDialog(), "Import"))
	h.settle()
	if d := h.topDialog(); d == nil || !hasText(d, "Could not import identity") || !hasText(d, advice(tlsid.ErrInvalid)) {
		t.Errorf("bad PEM: dialog shows %q", texts(d))
	}
}

// The identity form takes subject alternative names, as the CLI's --san does.
func TestCreateRequestTakesAltNames(t *testing.T) {
	opts, err := createRequest{label: "desk", commonName: "desk", server: true, days: "30",
		altNames: "desk.example, 192.168.1.20"}.options()
	if err != nil {
		t.Fatal(err)
	}
	a := opts.Attributes
	if len(a.DNSNames) != 1 || a.DNSNames[0] != "desk.example" || len(a.IPAddresses) != 1 || a.IPAddresses[0].String() != "192.168.1.20" {
		t.Errorf("names %v, addresses %v", a.DNSNames, a.IPAddresses)
	}
	if _, err := (createRequest{label: "x", commonName: "x", days: "1", altNames: "not a name!"}).options(); err == nil {
		t.Error("a bad alternative name was accepted")
	}
}
