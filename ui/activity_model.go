package ui

import (
	"fmt"
	"strings"
	"time"

	"peersync/syncengine"
)

// maxActivity bounds the activity log.
const maxActivity = 1000

// activityLine is one logged event.
type activityLine struct {
	At      time.Time
	Kind    string // the event's Go type, e.g. syncengine.DocumentsChanged
	Summary string
}

func (l activityLine) String() string {
	return l.At.Format("15:04:05") + "  " + l.Kind + "  " + l.Summary
}

// describeEvent names an event's type and summarises it in a line.
func describeEvent(ev syncengine.Event) activityLine {
	line := activityLine{Kind: fmt.Sprintf("%T", ev)}
	switch ev := ev.(type) {
	case syncengine.DatabasesChanged:
		line.Summary = "a database was created or deleted"
	case syncengine.DocumentsChanged:
		line.Summary = ev.Database + ": " + describeChanges(ev.Changes)
	case syncengine.ConnectionRefused:
		line.Summary = fmt.Sprintf("%s: refused a connection from %s (%s)", ev.Database, ev.Remote, strings.ReplaceAll(string(ev.Reason), "_", " "))
		if ev.User != "" {
			line.Summary += ", user " + ev.User
		}
	default:
		line.Summary = fmt.Sprintf("%+v", ev)
	}
	const maxSummary = 300
	if len(line.Summary) > maxSummary {
		line.Summary = line.Summary[:maxSummary] + "…"
	}
	return line
}

// describeChanges lists the first few changed documents and what happened.
func describeChanges(cs []syncengine.Change) string {
	const shown = 3
	parts := make([]string, 0, shown)
	for _, c := range cs[:min(len(cs), shown)] {
		what := c.RevID
		switch {
		case c.Purged:
			what = "purged"
		case c.Deleted:
			what = "deleted " + c.RevID
		case c.Conflicted:
			what = c.RevID + ", in conflict"
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", c.DocID, what))
	}
	s := fmt.Sprintf("%d changed: %s", len(cs), strings.Join(parts, ", "))
	if len(cs) > shown {
		s += ", …"
	}
	return s
}

// activityLog keeps the last max lines in a ring, each with its text
// lower-cased once so filtering on every event batch stays cheap.
type activityLog struct {
	max   int
	lines []activityLine
	lower []string // lower[i] is lines[i] as filtered
	next  int      // where the next line goes once the ring is full
}

func newActivityLog(max int) *activityLog { return &activityLog{max: max} }

func (a *activityLog) add(l activityLine) {
	lower := strings.ToLower(l.String())
	if len(a.lines) < a.max {
		a.lines = append(a.lines, l)
		a.lower = append(a.lower, lower)
		return
	}
	a.lines[a.next], a.lower[a.next] = l, lower
	a.next = (a.next + 1) % a.max
}

func (a *activityLog) len() int { return len(a.lines) }

func (a *activityLog) clear() { a.lines, a.lower, a.next = nil, nil, 0 }

// newestFirst returns the lines containing filter (case-insensitive; ""
// matches all), newest first.
func (a *activityLog) newestFirst(filter string) []activityLine {
	filter = strings.ToLower(filter)
	out := make([]activityLine, 0, len(a.lines))
	n := len(a.lines)
	for i := range n {
		j := (a.next - 1 - i + 2*n) % n // walk back from the newest line
		if filter == "" || strings.Contains(a.lower[j], filter) {
			out = append(out, a.lines[j])
		}
	}
	return out
}
