package ui

import (
	"errors"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Labels of the listener form's choices.
const allInterfaces = "all"

var (
	authLabels = []string{"None", "Users and passwords", "Client certificates (PEM roots)"}
	authValues = []string{AuthNone, AuthPassword, AuthClientCA}
)

// listenerForm holds the fields, so tests can fill them in.
type listenerForm struct {
	name, port, user, password, clientCA *widget.Entry
	database, iface, tls, auth           *widget.Select
	readOnly, delta, announce            *widget.Check
}

// showForm opens the form for a new listener (old == "") or the one named
// old, filled in from set.
func (s *listenersScreen) showForm(old string, set ListenerSettings) {
	f := &listenerForm{}
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder("e.g. share-notes")
	f.name.SetText(set.Name)
	f.name.Validator = func(t string) error {
		if strings.TrimSpace(t) == "" {
			return errRequired
		}
		return nil
	}
	f.database = widget.NewSelect(nil, nil)
	f.database.PlaceHolder = "(choose a database)"
	f.database.SetSelected(set.Database)
	f.port = widget.NewEntry()
	f.port.SetPlaceHolder("0 = automatic")
	f.port.SetText(strconv.Itoa(set.Port))
	f.port.Validator = func(t string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err != nil || n < 0 || n > 65535 {
			return errors.New("a port 0–65535 (0 picks a free one)")
		}
		return nil
	}
	f.iface = widget.NewSelect(append([]string{allInterfaces}, s.u.ws.Interfaces()...), nil)
	f.iface.SetSelected(allInterfaces)
	if set.Interface != "" {
		f.iface.SetSelected(set.Interface)
	}
	f.tls = widget.NewSelect([]string{TLSOff, TLSAnonymous}, nil)
	f.tls.SetSelected(set.TLS)
	f.auth = widget.NewSelect(authLabels, nil)
	f.user = widget.NewEntry()
	f.user.SetPlaceHolder("user name")
	f.password = widget.NewPasswordEntry()
	f.password.SetPlaceHolder("password")
	if len(set.Users) > 0 {
		f.user.SetText(set.Users[0].Name)
		f.password.SetPlaceHolder("unchanged")
	}
	f.clientCA = widget.NewEntry()
	f.clientCA.SetPlaceHolder("PEM file of trusted client-certificate roots")
	f.clientCA.SetText(set.ClientCA)
	browse := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() {
		dialog.ShowFileOpen(func(rc fyne.URIReadCloser, err error) {
			if err == nil && rc != nil {
				f.clientCA.SetText(rc.URI().Path())
				rc.Close()
			}
		}, s.u.win)
	})
	users := container.NewGridWithColumns(2, f.user, f.password)
	roots := container.NewBorder(nil, nil, nil, browse, f.clientCA)
	f.auth.OnChanged = func(l string) {
		v := valueFor(authLabels, authValues, l)
		users.Hidden = v != AuthPassword
		roots.Hidden = v != AuthClientCA
	}
	f.auth.SetSelected(labelFor(authLabels, authValues, set.Auth))
	f.readOnly = widget.NewCheck("Read-only: refuse pushes", nil)
	f.readOnly.SetChecked(set.ReadOnly)
	f.delta = widget.NewCheck("Delta sync", nil)
	f.delta.SetChecked(set.DeltaSync)
	f.announce = widget.NewCheck("Announce on the local network", nil)
	f.announce.SetChecked(set.Announce)

	items := []*widget.FormItem{
		widget.NewFormItem("Name", f.name),
		widget.NewFormItem("Database", f.database),
		widget.NewFormItem("Port", f.port),
		widget.NewFormItem("Interface", f.iface),
		widget.NewFormItem("TLS", f.tls),
		widget.NewFormItem("Authentication", container.NewVBox(f.auth, users, roots)),
		widget.NewFormItem("", f.readOnly),
		widget.NewFormItem("", f.delta),
		widget.NewFormItem("", f.announce),
	}
	title := "New listener"
	if old != "" {
		title = "Edit listener “" + old + "”"
	}
	d := dialog.NewForm(title, "Save", "Cancel", items, func(ok bool) {
		s.form, s.openForm = nil, nil
		if ok {
			s.save(old, f.settings())
		}
	}, s.u.win)
	d.Resize(fyne.NewSize(560, 560))
	d.Show()
	s.form, s.openForm = d, f
	s.u.fillDatabases(f.database)
	s.u.fillIdentities(f.tls, set.TLS)
}

// settings reads the form.
func (f *listenerForm) settings() ListenerSettings {
	port, _ := strconv.Atoi(strings.TrimSpace(f.port.Text))
	set := ListenerSettings{Name: strings.TrimSpace(f.name.Text), Database: f.database.Selected, Port: port,
		TLS: f.tls.Selected, Auth: valueFor(authLabels, authValues, f.auth.Selected),
		ReadOnly: f.readOnly.Checked, DeltaSync: f.delta.Checked, Announce: f.announce.Checked}
	if f.iface.Selected != allInterfaces {
		set.Interface = f.iface.Selected
	}
	switch set.Auth {
	case AuthPassword:
		set.Users = []ListenerUser{{Name: strings.TrimSpace(f.user.Text), Password: f.password.Text}}
	case AuthClientCA:
		set.ClientCA = strings.TrimSpace(f.clientCA.Text)
	}
	return set
}

// save saves the settings in the background and reloads.
func (s *listenersScreen) save(old string, set ListenerSettings) {
	call(s.u.run, func() (struct{}, error) { return struct{}{}, s.u.ws.SaveListener(old, set) }, func(_ struct{}, err error) {
		if err != nil {
			showError(s.u.win, "save listener “"+set.Name+"”", err)
		}
		s.selected = set.Name
		s.reload.trigger()
	})
}
