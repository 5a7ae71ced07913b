package ui

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine/tlsid"
)

// identitiesScreen lists TLS identities with their fingerprints and
// expiry, flags those expiring soon, and creates, imports, exports and
// deletes them.
type identitiesScreen struct {
	u *mainUI

	list      *widget.List
	status    *widget.Label
	exportBtn *widget.Button
	deleteBtn *widget.Button
	copyBtn   *widget.Button
	detail    *widget.Label // the selected identity's whole fingerprint and code, selectable
	content   fyne.CanvasObject

	rows     []identityRow
	ids      []*tlsid.Identity
	selected int
	now      func() time.Time
	reload   reloader

	form    *dialog.FormDialog // the open create form, for tests
	confirm *dialog.ConfirmDialog
}

func newIdentitiesScreen(u *mainUI) *identitiesScreen {
	s := &identitiesScreen{u: u, selected: -1, now: time.Now}
	s.reload = reloader{run: u.run, prepare: func() backgroundWork { return s.load }}
	s.list = widget.NewList(
		func() int { return len(s.rows) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("label", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			expiry := widget.NewLabel("expiry")
			fp := widget.NewLabel("fingerprint")
			fp.TextStyle = fyne.TextStyle{Monospace: true}
			for _, l := range []*widget.Label{name, expiry, fp} {
				l.Truncation = fyne.TextTruncateEllipsis
			}
			return container.NewVBox(name, expiry, fp)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			r := s.rows[i]
			lines := o.(*fyne.Container).Objects
			lines[0].(*widget.Label).SetText(r.Label + " — " + r.CommonName + " · " + r.Usage)
			exp := lines[1].(*widget.Label)
			exp.Importance = widget.MediumImportance
			if r.Warn {
				exp.Importance = widget.WarningImportance
			}
			exp.SetText(r.Expiry)
			lines[2].(*widget.Label).SetText("SHA-256 " + r.Fingerprint)
		})
	s.list.OnSelected = func(i widget.ListItemID) { s.selected = i; s.updateButtons() }
	s.list.OnUnselected = func(widget.ListItemID) { s.selected = -1; s.updateButtons() }
	s.detail = widget.NewLabel("")
	s.detail.Wrapping = fyne.TextWrapBreak
	s.detail.Selectable = true
	s.detail.TextStyle = fyne.TextStyle{Monospace: true}
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord

	create := widget.NewButtonWithIcon("New self-signed…", theme.ContentAddIcon(), s.showCreate)
	importPEM := widget.NewButtonWithIcon("Import PEM…", theme.UploadIcon(), func() { s.importFile(false) })
	importP12 := widget.NewButtonWithIcon("Import PKCS#12…", theme.UploadIcon(), func() { s.importFile(true) })
	s.exportBtn = widget.NewButtonWithIcon("Export certificate…", theme.DownloadIcon(), s.exportChain)
	s.deleteBtn = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), s.askDelete)
	s.deleteBtn.Importance = widget.DangerImportance
	s.copyBtn = widget.NewButtonWithIcon("Copy fingerprint", theme.ContentCopyIcon(), func() {
		if s.selected >= 0 && s.selected < len(s.rows) {
			s.u.app.Clipboard().SetContent(s.rows[s.selected].Fingerprint)
		}
	})
	s.updateButtons()

	top := container.NewVBox(
		widget.NewLabelWithStyle("Identities", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		// Two rows, so the screen fits an 800-pixel-wide window.
		container.NewHBox(create, importPEM, importP12),
		container.NewHBox(s.exportBtn, s.copyBtn, s.deleteBtn))
	s.content = container.NewBorder(top, container.NewVBox(s.detail, s.status), nil, nil, s.list)
	return s
}

func (s *identitiesScreen) view() fyne.CanvasObject { return s.content }
func (s *identitiesScreen) shown()                  { s.reload.trigger() }

func (s *identitiesScreen) load() func() {
	var ids []*tlsid.Identity
	store, err := s.u.eng.Identities()
	if err == nil {
		ids, err = store.List()
	}
	now := s.now()
	return func() {
		if err != nil {
			s.status.SetText("Could not read identities: " + withAdvice(err))
			return
		}
		s.ids, s.rows = ids, identityRows(ids, now)
		s.list.UnselectAll()
		s.list.Refresh()
		warn := 0
		for _, r := range s.rows {
			if r.Warn {
				warn++
			}
		}
		text := fmt.Sprintf("%d identities", len(s.rows))
		if warn > 0 {
			text += fmt.Sprintf(" · %d expired or expiring within 30 days", warn)
		}
		s.status.SetText(text)
	}
}

func (s *identitiesScreen) updateButtons() {
	enable(s.exportBtn, s.selected >= 0)
	enable(s.deleteBtn, s.selected >= 0)
	enable(s.copyBtn, s.selected >= 0)
	s.detail.SetText("")
	if s.selected >= 0 && s.selected < len(s.rows) {
		// The list cuts long fingerprints; the selected one shows whole.
		r := s.rows[s.selected]
		s.detail.SetText("SHA-256 " + r.Fingerprint + "\nCode " + r.Code)
	}
}

// withStore runs fn on the identity store in the background, then shows
// an error or reloads.
func (s *identitiesScreen) withStore(what string, fn func(Identities) error) {
	call(s.u.run, func() (struct{}, error) {
		store, err := s.u.eng.Identities()
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, fn(store)
	}, func(_ struct{}, err error) {
		if err != nil {
			showError(s.u.win, what, err)
		}
		s.reload.trigger()
	})
}

// createRequest is what the create form collects.
type createRequest struct {
	label, commonName string
	server, client    bool
	days              string
	altNames          string // host names and IP addresses, comma-separated
}

func (r createRequest) options() (tlsid.CreateOptions, error) {
	days, err := strconv.Atoi(strings.TrimSpace(r.days))
	if err != nil || days <= 0 {
		return tlsid.CreateOptions{}, fmt.Errorf("%w: validity %q is not a positive number of days", tlsid.ErrInvalid, r.days)
	}
	var usage tlsid.KeyUsage
	if r.server {
		usage |= tlsid.UsageServer
	}
	if r.client {
		usage |= tlsid.UsageClient
	}
	var sans []string
	if strings.TrimSpace(r.altNames) != "" {
		sans = strings.Split(r.altNames, ",")
	}
	names, err := tlsid.ParseAltNames(sans)
	if err != nil {
		return tlsid.CreateOptions{}, fmt.Errorf("alternative names: %w", err)
	}
	return tlsid.CreateOptions{Label: r.label, Attributes: tlsid.Attributes{CommonName: r.commonName,
		DNSNames: names.DNSNames, IPAddresses: names.IPAddresses},
		Usage: usage, Validity: time.Duration(days) * 24 * time.Hour}, nil
}

func (s *identitiesScreen) showCreate() {
	label := widget.NewEntry()
	label.SetPlaceHolder("e.g. laptop-server")
	label.Validator = func(t string) error {
		if t == "" {
			return errors.New("required")
		}
		return nil
	}
	cn := widget.NewEntry()
	cn.SetPlaceHolder("e.g. my-laptop.local")
	cn.Validator = label.Validator
	usage := widget.NewCheckGroup([]string{"Server (listener)", "Client (replicator)"}, nil)
	usage.SetSelected([]string{"Server (listener)", "Client (replicator)"})
	days := widget.NewEntry()
	days.SetText("365")
	days.Validator = func(t string) error {
		if n, err := strconv.Atoi(t); err != nil || n <= 0 {
			return errors.New("a positive number of days")
		}
		return nil
	}
	sans := widget.NewEntry()
	sans.SetPlaceHolder("host names and addresses, comma-separated (default: this computer's)")
	sans.Validator = func(t string) error {
		if strings.TrimSpace(t) == "" {
			return nil
		}
		_, err := tlsid.ParseAltNames(strings.Split(t, ","))
		return err
	}
	items := []*widget.FormItem{
		widget.NewFormItem("Label", label),
		widget.NewFormItem("Common name", cn),
		widget.NewFormItem("Alternative names", sans),
		widget.NewFormItem("Use for", usage),
		widget.NewFormItem("Valid for (days)", days),
	}
	d := dialog.NewForm("New self-signed identity", "Create", "Cancel", items, func(ok bool) {
		s.form = nil
		if !ok {
			return
		}
		req := createRequest{label: label.Text, commonName: cn.Text, days: days.Text, altNames: sans.Text}
		for _, u := range usage.Selected {
			req.server = req.server || strings.HasPrefix(u, "Server")
			req.client = req.client || strings.HasPrefix(u, "Client")
		}
		s.withStore("create identity “"+req.label+"”", func(st Identities) error {
			opts, err := req.options()
			if err != nil {
				return err
			}
			_, err = st.CreateSelfSigned(opts)
			return err
		})
	}, s.u.win)
	d.Resize(fyne.NewSize(460, 320))
	d.Show()
	s.form = d
}

// importFile picks a PEM or PKCS#12 file, then asks for a label (and the
// PKCS#12 password).
func (s *identitiesScreen) importFile(pkcs12 bool) {
	fd := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			showError(s.u.win, "open the file", err)
			return
		}
		if rc == nil {
			return
		}
		data, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		if err != nil {
			showError(s.u.win, "read "+rc.URI().Name(), err)
			return
		}
		s.askImport(pkcs12, strings.TrimSuffix(rc.URI().Name(), filepath.Ext(rc.URI().Name())), data)
	}, s.u.win)
	fd.Show()
}

func (s *identitiesScreen) askImport(pkcs12 bool, name string, data []byte) {
	label := widget.NewEntry()
	label.SetText(name)
	password := widget.NewPasswordEntry()
	items := []*widget.FormItem{widget.NewFormItem("Label", label)}
	if pkcs12 {
		items = append(items, widget.NewFormItem("Password", password))
	}
	dialog.ShowForm("Import identity", "Import", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		l, p := label.Text, password.Text
		s.withStore("import identity “"+l+"”", func(st Identities) error {
			var err error
			if pkcs12 {
				_, err = st.ImportPKCS12(l, data, p)
			} else {
				_, err = st.ImportPEM(l, data)
			}
			return err
		})
	}, s.u.win)
}

// exportChain saves the selected identity's certificate chain (never the
// key) as PEM, for peers to pin or trust.
func (s *identitiesScreen) exportChain() {
	if s.selected < 0 {
		return
	}
	id := s.ids[s.selected]
	fd := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			showError(s.u.win, "choose a file", err)
			return
		}
		if wc == nil {
			return
		}
		pemData := id.ChainPEM()
		call(s.u.run, func() (int, error) {
			n, err := wc.Write(pemData)
			if cerr := wc.Close(); err == nil {
				err = cerr
			}
			return n, err
		}, func(_ int, err error) {
			if err != nil {
				showError(s.u.win, "export “"+id.Label+"”", err)
			}
		})
	}, s.u.win)
	fd.SetFileName(id.Label + ".pem")
	fd.Show()
}

func (s *identitiesScreen) askDelete() {
	if s.selected < 0 {
		return
	}
	label := s.ids[s.selected].Label
	d := dialog.NewConfirm("Delete identity?",
		"Delete “"+label+"” and its private key? Peers that pinned its certificate will no longer accept it.",
		func(ok bool) {
			s.confirm = nil
			if ok {
				s.withStore("delete identity “"+label+"”", func(st Identities) error { return st.Delete(label) })
			}
		}, s.u.win)
	d.SetConfirmText("Delete")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
	s.confirm = d
}
