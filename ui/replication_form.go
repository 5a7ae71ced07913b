package ui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"peersync/syncengine/endpoint"
)

// Labels of the form's choices, and what they save as.
var (
	typeLabels     = []string{"Push and pull", "Push only", "Pull only"}
	typeValues     = []string{TypePushAndPull, TypePush, TypePull}
	conflictLabels = []string{"Default (a deletion wins, then the longer history)", "Local wins", "Remote wins"}
	conflictValues = []string{ConflictsDefault, ConflictsLocal, ConflictsRemote}
	errRequired    = errors.New("required")
)

func labelFor(labels, values []string, v string) string {
	for i := range values {
		if values[i] == v {
			return labels[i]
		}
	}
	return labels[0]
}

func valueFor(labels, values []string, l string) string {
	for i := range labels {
		if labels[i] == l {
			return values[i]
		}
	}
	return values[0]
}

// replicationForm holds the fields, so tests can fill them in.
type replicationForm struct {
	name, target, user, password, pin, docIDs *widget.Entry
	database, typ, conflicts                  *widget.Select
	continuous, acceptSelfSigned, delta, auto *widget.Check
}

// showForm opens the form for a new replication (old == "") or for the
// one named old, filled in from set.
func (s *replicationsScreen) showForm(old string, set ReplicationSettings) {
	f := &replicationForm{}
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder("e.g. laptop-to-desk")
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
	f.target = widget.NewEntry()
	f.target.SetPlaceHolder("wss://host:port/database")
	f.target.SetText(set.Target)
	f.target.Validator = func(t string) error {
		if _, err := endpoint.Parse(t); err != nil {
			var bad *endpoint.BadURLError
			if errors.As(err, &bad) {
				return errors.New(bad.Reason)
			}
			return err
		}
		return nil
	}
	f.typ = widget.NewSelect(typeLabels, nil)
	f.typ.SetSelected(labelFor(typeLabels, typeValues, set.Type))
	f.continuous = widget.NewCheck("Keep running and sync changes as they happen", nil)
	f.continuous.SetChecked(set.Continuous)
	f.user = widget.NewEntry()
	f.user.SetPlaceHolder("user (optional)")
	f.user.SetText(set.User)
	f.password = widget.NewPasswordEntry()
	f.password.SetPlaceHolder("password")
	if old != "" && set.User != "" {
		f.password.SetPlaceHolder("unchanged")
	}
	f.pin = widget.NewEntry()
	f.pin.SetPlaceHolder("SHA-256 fingerprint of the server certificate (optional)")
	f.pin.SetText(set.Pin)
	f.acceptSelfSigned = widget.NewCheck("Accept any self-signed certificate", nil)
	f.acceptSelfSigned.SetChecked(set.AcceptSelfSigned)
	f.docIDs = widget.NewEntry()
	f.docIDs.SetPlaceHolder("document IDs, comma-separated (optional: all)")
	f.docIDs.SetText(strings.Join(set.DocIDs, ", "))
	f.conflicts = widget.NewSelect(conflictLabels, nil)
	f.conflicts.SetSelected(labelFor(conflictLabels, conflictValues, set.Conflicts))
	f.delta = widget.NewCheck("Delta sync", nil)
	f.delta.SetChecked(set.DeltaSync)
	f.auto = widget.NewCheck("Start when PeerSync starts", nil)
	f.auto.SetChecked(set.AutoStart)

	items := []*widget.FormItem{
		widget.NewFormItem("Name", f.name),
		widget.NewFormItem("Database", f.database),
		widget.NewFormItem("Target", f.target),
		widget.NewFormItem("Type", f.typ),
		widget.NewFormItem("", f.continuous),
		widget.NewFormItem("User", f.user),
		widget.NewFormItem("Password", f.password),
		widget.NewFormItem("Pin", f.pin),
		widget.NewFormItem("", f.acceptSelfSigned),
		widget.NewFormItem("Documents", f.docIDs),
		widget.NewFormItem("Conflicts", f.conflicts),
		widget.NewFormItem("", f.delta),
		widget.NewFormItem("", f.auto),
	}
	title := "New replication"
	if old != "" {
		title = "Edit replication “" + old + "”"
	}
	d := dialog.NewForm(title, "Save", "Cancel", items, func(ok bool) {
		s.form, s.openForm = nil, nil
		if ok {
			s.save(old, f.settings())
		}
	}, s.u.win)
	d.Resize(fyne.NewSize(560, 620))
	d.Show()
	s.form, s.openForm = d, f
	s.u.fillDatabases(f.database)
}

// settings reads the form.
func (f *replicationForm) settings() ReplicationSettings {
	var ids []string
	for _, id := range strings.Split(f.docIDs.Text, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ReplicationSettings{
		Name: strings.TrimSpace(f.name.Text), Database: f.database.Selected, Target: strings.TrimSpace(f.target.Text),
		Type: valueFor(typeLabels, typeValues, f.typ.Selected), Continuous: f.continuous.Checked,
		User: strings.TrimSpace(f.user.Text), Password: f.password.Text, Pin: strings.TrimSpace(f.pin.Text),
		AcceptSelfSigned: f.acceptSelfSigned.Checked, DocIDs: ids,
		Conflicts: valueFor(conflictLabels, conflictValues, f.conflicts.Selected), DeltaSync: f.delta.Checked, AutoStart: f.auto.Checked,
	}
}
