package ui

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"peersync/service"
)

// Fields the forms share. Each is typed as the configuration file spells
// it, checked as it is typed with the configuration's own rules (and
// words), and left empty for the default, which its placeholder shows.

// durationEntry is an entry for a duration ("30s", "5m"); def is what
// empty means.
func durationEntry(current service.Duration, def time.Duration) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder("default " + formatDuration(def))
	if current.Duration != 0 {
		e.SetText(formatDuration(current.Duration))
	}
	e.Validator = func(t string) error { _, err := parseDuration(t); return err }
	return e
}

// parseDuration reads a duration entry as the configuration file does;
// empty is zero, the default.
func parseDuration(t string) (service.Duration, error) {
	var d service.Duration
	if t = strings.TrimSpace(t); t == "" {
		return d, nil
	}
	err := d.UnmarshalText([]byte(t))
	return d, err
}

// readDuration is a valid duration entry's value.
func readDuration(e *widget.Entry) service.Duration {
	d, _ := parseDuration(e.Text)
	return d
}

// formatDuration writes d without zero tails: "5m", not "5m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// countEntry is an entry for a count that must not be negative; empty
// (or 0) is the default, described by def.
func countEntry(current int, def string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder("default " + def)
	if current != 0 {
		e.SetText(strconv.Itoa(current))
	}
	e.Validator = func(t string) error { _, err := parseCount(t); return err }
	return e
}

func parseCount(t string) (int, error) {
	if t = strings.TrimSpace(t); t == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(t)
	switch {
	case err != nil:
		return 0, errors.New("a whole number, like 5")
	case n < 0:
		return 0, errors.New("must not be negative") // as the configuration says
	}
	return n, nil
}

// readCount is a valid count entry's value.
func readCount(e *widget.Entry) int {
	n, _ := parseCount(e.Text)
	return n
}

// listEntry is an entry for a list of names, comma-separated.
func listEntry(values []string, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.SetText(strings.Join(values, ", "))
	return e
}

// readList is a list entry's names, without blanks (nil for none).
func readList(e *widget.Entry) []string {
	var out []string
	for _, v := range strings.Split(e.Text, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// advancedSection is a form's rarely used fields, folded away under
// "Advanced". The enclosing form checks them as its own: an invalid one
// disables Save and shows its error under it.
type advancedSection struct {
	widget.BaseWidget
	acc  *widget.Accordion
	form *widget.Form
}

var _ fyne.Validatable = (*advancedSection)(nil)

func newAdvancedSection(items ...*widget.FormItem) *advancedSection {
	a := &advancedSection{form: widget.NewForm(items...)}
	a.acc = widget.NewAccordion(widget.NewAccordionItem("Advanced", a.form))
	a.ExtendBaseWidget(a)
	return a
}

func (a *advancedSection) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(a.acc)
}

// Validate is the first invalid field's error.
func (a *advancedSection) Validate() error { return a.form.Validate() }

// SetOnValidationChanged is how the enclosing form follows the fields.
func (a *advancedSection) SetOnValidationChanged(fn func(error)) { a.form.SetOnValidationChanged(fn) }
