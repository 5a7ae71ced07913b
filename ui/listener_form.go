package ui

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"peersync/service"
	"peersync/syncengine"
)

// Labels of the listener form's choices.
const allInterfaces = "all"

var (
	authLabels = []string{"None", "Users and passwords", "Client certificates (PEM roots)"}
	authValues = []string{AuthNone, AuthPassword, AuthClientCA}
)

// interfaceLabel shows an interface with its addresses, so the user can
// tell which network it is: "eth0 (192.168.1.20, fe80::1)".
func interfaceLabel(name string) string {
	i, err := net.InterfaceByName(name)
	if err != nil {
		return name // "all", an address, or an interface that is gone
	}
	addrs, err := i.Addrs()
	if err != nil || len(addrs) == 0 {
		return name
	}
	var ips []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ips = append(ips, n.IP.String())
		}
	}
	return name + " (" + strings.Join(ips, ", ") + ")"
}

// listenerForm holds the fields, so tests can fill them in.
type listenerForm struct {
	name, port, clientCA       *widget.Entry
	database, iface, tls, auth *widget.Select
	ifaceNames                 map[string]string // the interface choice's labels → names
	readOnly, delta, announce  *widget.Check
	logins                     []*loginRow
	loginBox                   *fyne.Container
	edited                     bool // editing a saved listener: empty passwords keep the old
	// Advanced.
	collections, maxConnections *widget.Entry
	idle, handshake, start      *widget.Entry
	advanced                    *advancedSection
}

// loginRow is one user of a listener with password authentication.
type loginRow struct {
	name, password *widget.Entry
	row            fyne.CanvasObject
}

// addLogin adds a row for a user (name "" for a new one).
func (f *listenerForm) addLogin(name string) {
	r := &loginRow{name: widget.NewEntry(), password: widget.NewPasswordEntry()}
	r.name.SetPlaceHolder("user name")
	r.name.SetText(name)
	r.password.SetPlaceHolder("password")
	if name != "" && f.edited {
		r.password.SetPlaceHolder("unchanged")
	}
	remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
		f.loginBox.Remove(r.row)
		f.logins = slices.DeleteFunc(f.logins, func(o *loginRow) bool { return o == r })
	})
	r.row = container.NewBorder(nil, nil, nil, remove, container.NewGridWithColumns(2, r.name, r.password))
	f.logins = append(f.logins, r)
	f.loginBox.Add(r.row)
}

// showForm opens the form for a new listener (old == "") or the one named
// old, filled in from set.
func (s *listenersScreen) showForm(old string, set ListenerSettings) {
	f := &listenerForm{edited: old != ""}
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
	f.port = widget.NewEntry()
	f.port.SetPlaceHolder("0 = automatic")
	f.port.SetText(strconv.Itoa(set.Port))
	f.port.Validator = func(t string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err != nil || n < 0 || n > 65535 {
			return errors.New("a port 0–65535 (0 picks a free one)")
		}
		return nil
	}
	names := append([]string{allInterfaces}, s.u.ws.Interfaces()...)
	if set.Interface != "" && !slices.Contains(names, set.Interface) {
		names = append(names, set.Interface) // an address, or an interface that is down
	}
	f.ifaceNames = map[string]string{}
	var labels []string
	for _, n := range names {
		l := interfaceLabel(n)
		f.ifaceNames[l] = n
		labels = append(labels, l)
	}
	f.iface = widget.NewSelect(labels, nil)
	f.iface.SetSelected(interfaceLabel(orDefault(set.Interface, allInterfaces)))
	f.tls = widget.NewSelect([]string{service.TLSOff, service.TLSAnonymous}, nil)
	f.tls.SetSelected(orDefault(set.TLS, service.TLSAnonymous))
	f.auth = widget.NewSelect(authLabels, nil)
	f.loginBox = container.NewVBox()
	for _, u := range set.Logins {
		f.addLogin(u.Name)
	}
	if len(f.logins) == 0 {
		f.addLogin("")
	}
	addUser := widget.NewButtonWithIcon("Add user", theme.ContentAddIcon(), func() { f.addLogin("") })
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
	users := container.NewVBox(f.loginBox, container.NewHBox(addUser))
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
	f.collections = listEntry(set.Collections, "scope.collection, comma-separated (default: the default collection)")
	f.maxConnections = countEntry(set.MaxConnections, strconv.Itoa(syncengine.DefaultMaxConnections))
	f.idle = durationEntry(set.IdleTimeout, syncengine.DefaultIdleTimeout)
	f.handshake = durationEntry(set.HandshakeTimeout, syncengine.DefaultHandshakeTimeout)
	f.start = durationEntry(set.StartTimeout, syncengine.DefaultStartTimeout)
	f.advanced = newAdvancedSection(
		widget.NewFormItem("Collections", f.collections),
		widget.NewFormItem("Max connections", f.maxConnections),
		widget.NewFormItem("Idle timeout", f.idle),
		widget.NewFormItem("Handshake timeout", f.handshake),
		widget.NewFormItem("Start timeout", f.start),
	)

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
		widget.NewFormItem("", f.advanced),
	}
	title := "New listener"
	if old != "" {
		title = "Edit listener “" + old + "”"
	}
	read := func() (ListenerSettings, string) { n := f.settings(set); return n, n.Name }
	save := savingTo(s.u.run, &old, read, s.u.ws.SaveListener, func(n ListenerSettings, name string) {
		set, s.selected = n, name
		s.reload.trigger()
	})
	s.form = showEditForm(s.u.win, title, fyne.NewSize(560, 600), items, save, func() { s.form, s.openForm = nil, nil })
	s.openForm = f
	s.u.fillDatabases(f.database, set.Database)
	s.u.fillIdentities(f.tls, []string{service.TLSOff, service.TLSAnonymous}, orDefault(set.TLS, service.TLSAnonymous))
}

// settings applies the form to set, the listener it opened with, so that
// what the form does not show is kept.
func (f *listenerForm) settings(set ListenerSettings) ListenerSettings {
	lc := &set.ListenerConfig
	lc.Port, _ = strconv.Atoi(strings.TrimSpace(f.port.Text))
	lc.Name, lc.Database, lc.TLS = strings.TrimSpace(f.name.Text), f.database.Selected, f.tls.Selected
	lc.ReadOnly, lc.DeltaSync, lc.Announce = f.readOnly.Checked, f.delta.Checked, f.announce.Checked
	lc.Collections, lc.MaxConnections = readList(f.collections), readCount(f.maxConnections)
	lc.IdleTimeout, lc.HandshakeTimeout, lc.StartTimeout = readDuration(f.idle), readDuration(f.handshake), readDuration(f.start)
	lc.Interface = ""
	if n := f.ifaceNames[f.iface.Selected]; n != allInterfaces {
		lc.Interface = n
	}
	set.Auth, set.Logins, lc.ClientCA = valueFor(authLabels, authValues, f.auth.Selected), nil, ""
	switch set.Auth {
	case AuthPassword:
		for _, r := range f.logins {
			if name := strings.TrimSpace(r.name.Text); name != "" || r.password.Text != "" {
				set.Logins = append(set.Logins, ListenerUser{Name: name, Password: r.password.Text})
			}
		}
	case AuthClientCA:
		lc.ClientCA = strings.TrimSpace(f.clientCA.Text)
	}
	return set
}
