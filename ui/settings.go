package ui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"peersync/discovery"
	"peersync/service"
)

// What the Settings dialog's choices save as ("" reads as the first).
var (
	logFormats = []string{"text", "json"}
	logLevels  = []string{"info", "debug", "warn", "error"}
)

// settingsNote says when the settings take effect, as the runner applies
// them: discovery and metrics at once, but the Peers screen keeps the
// browser it started with, and the log settings are read by --headless
// when it starts.
const settingsNote = "Announcing, the name and metrics change at once. Looking for peers changes on the " +
	"Peers screen after a restart. Logging is for --headless and takes effect when it next starts."

// settingsForm holds the Settings dialog's fields, so tests can fill them in.
type settingsForm struct {
	name, metrics       *widget.Entry
	announce, browse    *widget.Check
	logFormat, logLevel *widget.Select
}

// showSettings opens the Settings dialog with the saved settings.
func (u *mainUI) showSettings() {
	if u.settingsDlg != nil {
		return
	}
	call(u.run, u.ws.Settings, func(set AppSettings, err error) {
		if err != nil {
			showError(u.win, "Could not read the settings", err)
			return
		}
		if u.settingsDlg == nil {
			u.openSettings(set)
		}
	})
}

func (u *mainUI) openSettings(set AppSettings) {
	f := &settingsForm{}
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder("default " + discovery.DefaultName())
	f.name.SetText(set.Discovery.Name)
	f.announce = widget.NewCheck("Announce listeners on the local network", nil)
	f.announce.SetChecked(set.Discovery.Announce)
	f.browse = widget.NewCheck("Look for peers on the local network", nil)
	f.browse.SetChecked(set.Discovery.Browse)
	f.metrics = widget.NewEntry()
	f.metrics.SetPlaceHolder("off; 9100 serves them on 127.0.0.1:9100")
	f.metrics.SetText(set.Metrics.Address)
	f.metrics.Validator = metricsAddressProblem
	f.logFormat = widget.NewSelect(logFormats, nil)
	f.logFormat.SetSelected(orDefault(set.Log.Format, logFormats[0]))
	f.logLevel = widget.NewSelect(logLevels, nil)
	f.logLevel.SetSelected(orDefault(set.Log.Level, logLevels[0]))
	note := widget.NewLabel(settingsNote)
	note.Wrapping = fyne.TextWrapWord

	items := []*widget.FormItem{
		widget.NewFormItem("", note),
		widget.NewFormItem("Name on the network", f.name),
		widget.NewFormItem("", f.announce),
		widget.NewFormItem("", f.browse),
		widget.NewFormItem("Metrics address", f.metrics),
		widget.NewFormItem("Log format", f.logFormat),
		widget.NewFormItem("Log level", f.logLevel),
	}
	var old string // settings have no name: savingTo's "old" is unused
	read := func() (AppSettings, string) { return f.settings(set), "" }
	store := func(_ string, s AppSettings) error { return u.ws.SaveSettings(s) }
	save := savingTo(u.run, &old, read, store, func(n AppSettings, _ string) { set = n })
	u.settingsDlg = showEditForm(u.win, "Settings", fyne.NewSize(520, 460), items, save,
		func() { u.settingsDlg, u.settingsForm = nil, nil })
	u.settingsForm = f
}

// settings applies the dialog to set, what it opened with.
func (f *settingsForm) settings(set AppSettings) AppSettings {
	set.Discovery.Name = strings.TrimSpace(f.name.Text)
	set.Discovery.Announce, set.Discovery.Browse = f.announce.Checked, f.browse.Checked
	set.Metrics.Address = strings.TrimSpace(f.metrics.Text)
	set.Log.Format, set.Log.Level = f.logFormat.Selected, f.logLevel.Selected
	return set
}

// metricsAddressProblem checks a metrics address as the configuration
// does, in its words.
func metricsAddressProblem(addr string) error {
	c := service.Config{Metrics: service.MetricsConfig{Address: strings.TrimSpace(addr)}}
	err := c.Validate()
	var ce *service.ConfigError
	if errors.As(err, &ce) {
		return errors.New(ce.Msg)
	}
	return err
}
