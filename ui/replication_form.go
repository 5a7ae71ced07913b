package ui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/endpoint"
)

// noIdentity is the client-certificate choice for none.
const noIdentity = "(none)"

// Labels of the form's choices, and what they save as.
var (
	typeLabels     = []string{"Push and pull", "Push only", "Pull only"}
	typeValues     = []string{service.TypePushAndPull, service.TypePush, service.TypePull}
	conflictLabels = []string{"Default (a deletion wins, then the newest edit; with revision-tree peers the longer history)", "Local wins", "Remote wins"}
	conflictValues = []string{string(service.ConflictsDefault), string(service.ConflictsLocal), string(service.ConflictsRemote)}
	protocolLabels = []string{"Automatic (version vectors, else revision trees)", "Version vectors only (CBMobile_4)", "Revision trees only (CBMobile_3)"}
	protocolValues = []string{"", "v4", "v3"}
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
	database, typ, conflicts, clientCert      *widget.Select
	protocol                                  *widget.Select
	continuous, acceptSelfSigned, delta, auto *widget.Check
	// Advanced.
	collections, passwordFile, maxAttempts *widget.Entry
	maxAttemptWait, heartbeat, noProgress  *widget.Entry
	advanced                               *advancedSection
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
	f.clientCert = widget.NewSelect([]string{noIdentity}, nil)
	f.clientCert.SetSelected(noIdentity)
	f.pin = widget.NewEntry()
	f.pin.SetPlaceHolder("SHA-256 fingerprint of the server certificate (optional)")
	f.pin.SetText(set.Pin)
	f.acceptSelfSigned = widget.NewCheck("Accept any self-signed certificate", nil)
	f.acceptSelfSigned.SetChecked(set.AcceptSelfSigned)
	f.docIDs = listEntry(set.DocIDs, "document IDs, comma-separated (optional: all)")
	f.conflicts = widget.NewSelect(conflictLabels, nil)
	f.conflicts.SetSelected(labelFor(conflictLabels, conflictValues, string(set.Conflicts)))
	f.protocol = widget.NewSelect(protocolLabels, nil)
	f.protocol.SetSelected(labelFor(protocolLabels, protocolValues, protocolValue(set.Protocol)))
	f.delta = widget.NewCheck("Delta sync", nil)
	f.delta.SetChecked(set.DeltaSync)
	f.auto = widget.NewCheck("Start when PeerSync starts", nil)
	f.auto.SetChecked(set.AutoStart)
	f.collections = listEntry(set.Collections, "scope.collection, comma-separated (default: the default collection)")
	f.passwordFile = widget.NewEntry()
	f.passwordFile.SetPlaceHolder("file holding the password (default: the password above, kept in the keyring)")
	f.passwordFile.SetText(set.PasswordFile)
	f.maxAttempts = countEntry(set.MaxAttempts, "10 one-shot, unlimited continuous")
	f.maxAttemptWait = durationEntry(set.MaxAttemptWait, syncengine.DefaultMaxAttemptWaitTime)
	f.heartbeat = durationEntry(set.Heartbeat, syncengine.DefaultHeartbeat)
	f.noProgress = durationEntry(set.NoProgress, syncengine.DefaultNoProgressTimeout)
	f.advanced = newAdvancedSection(
		widget.NewFormItem("Collections", f.collections),
		widget.NewFormItem("Documents", f.docIDs),
		widget.NewFormItem("Password file", f.passwordFile),
		widget.NewFormItem("Protocol", f.protocol),
		widget.NewFormItem("Max attempts", f.maxAttempts),
		widget.NewFormItem("Max attempt wait", f.maxAttemptWait),
		widget.NewFormItem("Heartbeat", f.heartbeat),
		widget.NewFormItem("No-progress timeout", f.noProgress),
	)

	items := []*widget.FormItem{
		widget.NewFormItem("Name", f.name),
		widget.NewFormItem("Database", f.database),
		widget.NewFormItem("Target", f.target),
		widget.NewFormItem("Type", f.typ),
		widget.NewFormItem("", f.continuous),
		widget.NewFormItem("User", f.user),
		widget.NewFormItem("Password", f.password),
		widget.NewFormItem("Client certificate", f.clientCert),
		widget.NewFormItem("Pin", f.pin),
		widget.NewFormItem("", f.acceptSelfSigned),
		widget.NewFormItem("Conflicts", f.conflicts),
		widget.NewFormItem("", f.delta),
		widget.NewFormItem("", f.auto),
		widget.NewFormItem("", f.advanced),
	}
	title := "New replication"
	if old != "" {
		title = "Edit replication “" + old + "”"
	}
	read := func() (ReplicationSettings, string) { n := f.settings(set); return n, n.Name }
	save := savingTo(s.u.run, &old, read, s.u.ws.SaveReplication, func(n ReplicationSettings, name string) {
		set, s.selected = n, name
		s.reload.trigger()
	})
	s.form = showEditForm(s.u.win, title, fyne.NewSize(560, 660), items, save, func() { s.form, s.openForm = nil, nil })
	s.openForm = f
	s.u.fillDatabases(f.database, set.Database)
	s.u.fillIdentities(f.clientCert, []string{noIdentity}, orDefault(set.ClientCert, noIdentity))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// settings applies the form to set, the replication it opened with, so
// that what the form does not show is kept.
func (f *replicationForm) settings(set ReplicationSettings) ReplicationSettings {
	rc := &set.ReplicationConfig
	rc.Name, rc.Database, rc.Target = strings.TrimSpace(f.name.Text), f.database.Selected, strings.TrimSpace(f.target.Text)
	rc.Type, rc.Continuous = valueFor(typeLabels, typeValues, f.typ.Selected), f.continuous.Checked
	rc.User, set.Password = strings.TrimSpace(f.user.Text), f.password.Text
	rc.ClientCert = ""
	if c := f.clientCert.Selected; c != noIdentity {
		rc.ClientCert = c
	}
	rc.Pin, rc.AcceptSelfSigned, rc.DocIDs = strings.TrimSpace(f.pin.Text), f.acceptSelfSigned.Checked, readList(f.docIDs)
	rc.Conflicts = service.ConflictPolicy(valueFor(conflictLabels, conflictValues, f.conflicts.Selected))
	rc.Protocol = valueFor(protocolLabels, protocolValues, f.protocol.Selected)
	rc.DeltaSync, rc.AutoStart = f.delta.Checked, f.auto.Checked
	rc.Collections, rc.PasswordFile = readList(f.collections), strings.TrimSpace(f.passwordFile.Text)
	rc.MaxAttempts, rc.MaxAttemptWait = readCount(f.maxAttempts), readDuration(f.maxAttemptWait)
	rc.Heartbeat, rc.NoProgress = readDuration(f.heartbeat), readDuration(f.noProgress)
	return set
}

// protocolValue reads a saved protocol as the form's values name it
// ("auto" is the default, "").
func protocolValue(p string) string {
	if p == "auto" {
		return ""
	}
	return p
}
