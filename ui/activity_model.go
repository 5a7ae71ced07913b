package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"peersync/syncengine"
)

// maxActivity bounds the activity log.
const maxActivity = 1000

// activityLine is one logged event.
type activityLine struct {
	At      time.Time
	Type    string // the event's Go type, e.g. syncengine.DocumentsChanged
	Kind    activityKind
	Level   activityLevel
	Summary string          // the whole sentence; the list cuts it short
	Fields  []activityField // the event's facts, for the detail pane

	seq uint64 // numbers the line in its log, so a selection can follow it

	// ev is kept while the line names a listener or replication by engine
	// ID only (unnamed), so it can be told again once the name is known.
	ev      syncengine.Event
	unnamed bool
}

// maxListed bounds the sentence in the list line, and so what the text
// filter reads; the detail pane shows it whole.
const maxListed = 300

// String is the line as the text filter reads it: with the event's type,
// so a filter can name one.
func (l activityLine) String() string {
	return l.At.Format("15:04:05") + "  " + l.Type + "  " + cutText(l.Summary, maxListed)
}

// listText is the line as the list shows it: the time and the sentence,
// which a Go type name in between would push out of sight (the detail
// pane gives the type).
func (l activityLine) listText() string {
	return l.At.Format("15:04:05") + "  " + cutText(l.Summary, maxListed)
}

// cutText cuts s to at most n characters, marking the cut with an ellipsis.
func cutText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// activityKind is what an event is about, for the kind filter.
type activityKind int

const (
	kindAll   activityKind = iota // in a filter: any kind; no line has it
	kindOther                     // events the screen has no sentence for
	kindReplications
	kindListeners // listeners and the connections they take
	kindDocuments // databases and their documents
	kindSecurity  // refused logins and certificates, where keys are kept
)

// activityKinds name the kinds in the order the filter offers them.
var activityKinds = []struct {
	kind activityKind
	name string
}{
	{kindReplications, "Replications"},
	{kindListeners, "Listeners & connections"},
	{kindDocuments, "Databases & documents"},
	{kindSecurity, "Security"},
}

// activityLevel is how much an event asks for attention; levels are
// ordered, so a filter keeps those at or above a level.
type activityLevel int

const (
	levelInfo activityLevel = iota
	levelWarning
	levelError
)

// activityFilter picks the lines to show: those containing Text
// (case-insensitive), of Kind (kindAll for any) and at least MinLevel.
// The zero filter keeps every line.
type activityFilter struct {
	Text     string
	Kind     activityKind
	MinLevel activityLevel
}

func (f activityFilter) keeps(l activityLine, lower string) bool {
	return (f.Kind == kindAll || l.Kind == f.Kind) && l.Level >= f.MinLevel &&
		(f.Text == "" || strings.Contains(lower, f.Text))
}

// securityRefusals are the refusals about who may connect (credentials,
// certificates, TLS, brute force), as opposed to what a peer asked for.
var securityRefusals = map[syncengine.RefusalReason]bool{
	syncengine.RefusedBadPassword: true, syncengine.RefusedUnknownUser: true, syncengine.RefusedNoCredentials: true,
	syncengine.RefusedNoClientCert: true, syncengine.RefusedClientCertUntrusted: true, syncengine.RefusedServerCertRejected: true,
	syncengine.RefusedTLSVersion: true, syncengine.RefusedTLSHandshake: true, syncengine.RefusedRateLimited: true,
}

// classify gives every event its kind and level, in this one place:
// what failed (a refused connection, a stopped listener or replication, a
// document that did not replicate) is an error, what will be retried or
// was cut off is a warning, the rest is information.
func classify(ev syncengine.Event) (activityKind, activityLevel) {
	switch ev := ev.(type) {
	case syncengine.DatabasesChanged, syncengine.DocumentsChanged, syncengine.ConflictResolved:
		return kindDocuments, levelInfo
	case syncengine.ListenerStarted, syncengine.ConnectionOpened:
		return kindListeners, levelInfo
	case syncengine.ListenerStopped:
		return kindListeners, levelIf(ev.Err != nil, levelError)
	case syncengine.ConnectionClosed:
		return kindListeners, levelIf(ev.Err != nil, levelWarning)
	case syncengine.ConnectionRefused:
		if securityRefusals[ev.Reason] {
			return kindSecurity, levelError
		}
		return kindListeners, levelError
	case syncengine.ReplicatorStatusChanged:
		switch {
		case ev.Status.Activity == syncengine.Stopped:
			return kindReplications, levelIf(ev.Status.Error != nil, levelError)
		case ev.Status.Activity == syncengine.Offline:
			return kindReplications, levelWarning
		}
		return kindReplications, levelInfo
	case syncengine.KeyringUnavailable:
		return kindSecurity, levelWarning
	case syncengine.DocumentsReplicated:
		failed := slices.ContainsFunc(ev.Documents, func(d syncengine.DocEvent) bool { return d.Err != nil })
		return kindReplications, levelIf(failed, levelError)
	}
	return kindOther, levelInfo
}

// levelIf is level when cond holds, else information.
func levelIf(cond bool, level activityLevel) activityLevel {
	if cond {
		return level
	}
	return levelInfo
}

// nameFunc returns the name of the listener or replication whose engine ID
// is id, or "" when the screens do not know it (yet).
type nameFunc func(id string) string

// describeEvent names an event's type and says in a sentence what
// happened, naming listeners and replications through name.
func describeEvent(ev syncengine.Event, name nameFunc) activityLine {
	if name == nil {
		name = func(string) string { return "" }
	}
	line := activityLine{Type: fmt.Sprintf("%T", ev), Fields: eventFields(ev, name)}
	line.Kind, line.Level = classify(ev)
	switch ev := ev.(type) {
	case syncengine.DatabasesChanged:
		line.Summary = "a database was created or deleted"
	case syncengine.DocumentsChanged:
		line.Summary = ev.Database + ": " + describeChanges(ev.Changes)
	case syncengine.ConflictResolved:
		r := ev.Resolution
		line.Summary = fmt.Sprintf("%s: a conflict in “%s” was resolved automatically (%s); the losing revision %s is kept under Conflicts › Resolved",
			ev.Database, r.DocID, r.Rule, r.Loser)
	case syncengine.ListenerStarted:
		line.Summary = listenerName(name(ev.ID), ev.ID, ev.Database) + " started"
		if len(ev.URLs) > 0 {
			line.Summary += " on " + strings.Join(ev.URLs, ", ")
		}
	case syncengine.ListenerStopped:
		line.Summary = listenerName(name(ev.ID), ev.ID, ev.Database) + " stopped" + because(ev.Err)
	case syncengine.ConnectionOpened:
		line.Summary = listenerName(name(ev.ListenerID), ev.ListenerID, "") + ": " + ev.Remote + " connected"
		if ev.User != "" {
			line.Summary += fmt.Sprintf(" as user %q", ev.User)
		}
		if ev.Protocol != "" {
			line.Summary += " over " + protocolText(ev.Protocol)
		}
	case syncengine.ConnectionClosed:
		line.Summary = listenerName(name(ev.ListenerID), ev.ListenerID, "") + ": " + ev.Remote + " disconnected" + because(ev.Err)
	case syncengine.ConnectionRefused:
		line.Summary = listenerName(name(ev.ListenerID), ev.ListenerID, ev.Database) + " " + describeRefusal(ev)
	case syncengine.ReplicatorStatusChanged:
		line.Summary = replicationName(name(ev.ID), ev.ID) + describeStatus(ev.Status)
	case syncengine.DocumentsReplicated:
		line.Summary = replicationName(name(ev.ReplicatorID), ev.ReplicatorID) + ": " + describeReplicated(ev.Documents)
	case syncengine.KeyringUnavailable:
		// The reason last: it is long and technical, the rest is what matters.
		line.Summary = "the OS keyring is unavailable, so TLS private keys and replication passwords " +
			"are kept in files under the data directory, readable only by you (" + ev.Reason + ")"
	default:
		line.Summary = fmt.Sprintf("%+v", ev)
	}
	return line
}

// listenerName is how a sentence names a listener: by its name, else by
// its database, else by its engine ID.
func listenerName(name, id, database string) string {
	switch {
	case name != "":
		return fmt.Sprintf("listener %q", name)
	case database != "":
		return fmt.Sprintf("listener of %q", database)
	}
	return "listener " + id
}

// replicationName is how a sentence names a replication.
func replicationName(name, id string) string {
	if name != "" {
		return fmt.Sprintf("replication %q", name)
	}
	return "replication " + id
}

// because is ": why" for an error, and nothing without one.
func because(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// refusalReasons say why a listener turned a connection away, after
// "refused a login/connection from REMOTE: ".
var refusalReasons = map[syncengine.RefusalReason]string{
	syncengine.RefusedBadPassword:         "wrong password",
	syncengine.RefusedUnknownUser:         "unknown user",
	syncengine.RefusedNoCredentials:       "no user name and password given",
	syncengine.RefusedNoClientCert:        "no client certificate",
	syncengine.RefusedClientCertUntrusted: "its client certificate is not trusted",
	syncengine.RefusedServerCertRejected:  "it did not trust this listener's certificate",
	syncengine.RefusedUnknownDatabase:     "it asked for a database this listener does not serve",
	syncengine.RefusedTLSVersion:          "its TLS version is not supported",
	syncengine.RefusedTLSHandshake:        "the TLS handshake failed",
	syncengine.RefusedRateLimited:         "too many failed attempts from there, try again later",
	syncengine.RefusedTooManyConnections:  "too many connections",
	syncengine.RefusedProtocol:            "it does not speak the replication protocol",
}

// describeRefusal says what a listener refused and why.
func describeRefusal(ev syncengine.ConnectionRefused) string {
	what := "a connection"
	switch ev.Reason {
	case syncengine.RefusedBadPassword, syncengine.RefusedUnknownUser, syncengine.RefusedNoCredentials:
		what = "a login"
	}
	s := "refused " + what
	if ev.User != "" {
		s += fmt.Sprintf(" as user %q", ev.User)
	}
	s += " from " + ev.Remote + ": "
	if why, ok := refusalReasons[ev.Reason]; ok {
		s += why
	} else {
		s += strings.ReplaceAll(string(ev.Reason), "_", " ")
	}
	if ev.Detail != "" {
		s += " (" + ev.Detail + ")"
	}
	return s
}

// describeStatus is the rest of a sentence that starts with a
// replication's name.
func describeStatus(st syncengine.ReplicatorStatus) string {
	counts := fmt.Sprintf("pushed %d, pulled %d documents", st.Pushed, st.Pulled)
	switch st.Activity {
	case syncengine.Stopped:
		if st.Error != nil {
			return " stopped: " + st.Error.Error()
		}
		return " stopped, " + counts
	case syncengine.Offline:
		s := " is offline" + because(st.Error)
		if !st.NextAttempt.IsZero() {
			s += "; retrying at " + st.NextAttempt.Format("15:04:05")
		}
		return s
	case syncengine.Connecting:
		return " is connecting"
	case syncengine.Idle:
		return " is up to date, " + counts
	}
	p := st.Progress
	switch {
	case p.Total <= 0:
		return ": " + counts
	case st.Pushed == 0 && st.Pulled > 0:
		return fmt.Sprintf(": pulled %d of %d documents", p.Completed, p.Total)
	case st.Pulled == 0 && st.Pushed > 0:
		return fmt.Sprintf(": pushed %d of %d documents", p.Completed, p.Total)
	case st.Pushed == 0 && st.Pulled == 0:
		// Nothing moved yet, so which way is not known.
		return fmt.Sprintf(": %d of %d documents done", p.Completed, p.Total)
	}
	return fmt.Sprintf(": %d of %d documents done, %s", p.Completed, p.Total, counts)
}

// describeReplicated counts the documents a batch pushed, pulled and
// failed, and names the first few.
func describeReplicated(docs []syncengine.DocEvent) string {
	const shown = 3
	var pushed, pulled, failed int
	names := make([]string, 0, shown)
	for _, d := range docs {
		how := "pulled"
		if d.Pushed {
			how = "pushed"
			pushed++
		} else {
			pulled++
		}
		if d.Deleted {
			how += ", deleted"
		}
		if d.Err != nil {
			failed++
			how = "failed: " + d.Err.Error()
		}
		if len(names) < shown {
			names = append(names, fmt.Sprintf("%s (%s)", d.DocID, how))
		}
	}
	var parts []string
	if pushed > 0 {
		parts = append(parts, fmt.Sprintf("pushed %d", pushed))
	}
	if pulled > 0 {
		parts = append(parts, fmt.Sprintf("pulled %d", pulled))
	}
	if len(docs) == 0 {
		return "no documents"
	}
	noun := "documents"
	if len(docs) == 1 {
		noun = "document"
	}
	s := strings.Join(parts, " and ") + " " + noun
	if failed > 0 {
		s += fmt.Sprintf(", %d failed", failed)
	}
	s += ": " + strings.Join(names, ", ")
	if len(docs) > shown {
		s += ", …"
	}
	return s
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
	seq   uint64   // the last line's number
}

func newActivityLog(max int) *activityLog { return &activityLog{max: max} }

func (a *activityLog) add(l activityLine) {
	a.seq++
	l.seq = a.seq
	lower := strings.ToLower(l.String())
	if len(a.lines) < a.max {
		a.lines = append(a.lines, l)
		a.lower = append(a.lower, lower)
		return
	}
	a.lines[a.next], a.lower[a.next] = l, lower
	a.next = (a.next + 1) % a.max
}

// rename tells again, through describe, the lines that named a listener
// or replication by its engine ID only.
func (a *activityLog) rename(describe func(activityLine) activityLine) {
	for i, l := range a.lines {
		if l.unnamed {
			a.lines[i] = describe(l)
			a.lower[i] = strings.ToLower(a.lines[i].String())
		}
	}
}

func (a *activityLog) len() int { return len(a.lines) }

func (a *activityLog) clear() { a.lines, a.lower, a.next = nil, nil, 0 }

// newestFirst returns the lines f keeps, newest first.
func (a *activityLog) newestFirst(f activityFilter) []activityLine {
	f.Text = strings.ToLower(f.Text)
	out := make([]activityLine, 0, len(a.lines))
	n := len(a.lines)
	for i := range n {
		j := (a.next - 1 - i + 2*n) % n // walk back from the newest line
		if f.keeps(a.lines[j], a.lower[j]) {
			out = append(out, a.lines[j])
		}
	}
	return out
}
