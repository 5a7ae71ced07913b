package ui

import (
	"fmt"
	"strings"

	"peersync/syncengine"
)

// activityField is one fact of an event, shown in the detail pane.
type activityField struct{ Name, Value string }

// maxDetailDocs bounds the documents the detail pane lists for one event,
// so a large batch costs a bounded amount of memory in the log.
const maxDetailDocs = 20

// fieldList collects an event's facts, leaving out those it lacks.
type fieldList []activityField

func (f *fieldList) add(name, value string) {
	if value != "" {
		*f = append(*f, activityField{name, value})
	}
}

func (f *fieldList) addErr(name string, err error) {
	if err != nil {
		f.add(name, err.Error())
	}
}

// eventFields lists what an event carries, naming listeners and
// replications through name.
func eventFields(ev syncengine.Event, name nameFunc) []activityField {
	var f fieldList
	listener := func(id, database string) {
		f.add("Listener", name(id))
		f.add("Listener ID", id)
		f.add("Database", database)
	}
	replication := func(id string) {
		f.add("Replication", name(id))
		f.add("Replication ID", id)
	}
	switch ev := ev.(type) {
	case syncengine.DocumentsChanged:
		f.add("Database", ev.Database)
		f.add("Changed documents", fmt.Sprint(len(ev.Changes)))
		addChangedDocs(&f, ev.Changes)
	case syncengine.ListenerStarted:
		listener(ev.ID, ev.Database)
		for _, u := range ev.URLs {
			f.add("URL", u)
		}
	case syncengine.ListenerStopped:
		listener(ev.ID, ev.Database)
		f.addErr("Error", ev.Err)
	case syncengine.ConnectionOpened:
		listener(ev.ListenerID, "")
		f.add("Peer address", ev.Remote)
		f.add("User", ev.User)
		f.add("Protocol", ev.Protocol)
	case syncengine.ConnectionClosed:
		listener(ev.ListenerID, "")
		f.add("Peer address", ev.Remote)
		f.addErr("Error", ev.Err)
	case syncengine.ConnectionRefused:
		listener(ev.ListenerID, ev.Database)
		f.add("Peer address", ev.Remote)
		f.add("User", ev.User)
		f.add("Reason", string(ev.Reason))
		f.add("Detail", ev.Detail)
	case syncengine.ReplicatorStatusChanged:
		replication(ev.ID)
		addStatus(&f, ev.Status)
	case syncengine.ConflictResolved:
		r := ev.Resolution
		f.add("Database", ev.Database)
		f.add("Document", docName(r.Collection, r.DocID))
		f.add("Rule", r.Rule)
		f.add("Kept revision", r.Winner)
		f.add("Losing revision", r.Loser)
	case syncengine.KeyringUnavailable:
		f.add("Reason", ev.Reason)
		f.add("Private key files", ev.KeysDir)
		f.add("Password files", ev.SecretsDir)
	case syncengine.DocumentsReplicated:
		replication(ev.ReplicatorID)
		f.add("Documents", fmt.Sprint(len(ev.Documents)))
		addReplicatedDocs(&f, ev.Documents)
	}
	return f
}

func addStatus(f *fieldList, st syncengine.ReplicatorStatus) {
	f.add("State", st.Activity.String())
	if st.Progress.Total > 0 {
		f.add("Progress", fmt.Sprintf("%d of %d", st.Progress.Completed, st.Progress.Total))
	}
	f.add("Pushed", fmt.Sprint(st.Pushed))
	f.add("Pulled", fmt.Sprint(st.Pulled))
	f.add("Protocol", st.Protocol)
	f.addErr("Error", st.Error)
	if !st.NextAttempt.IsZero() {
		f.add("Next attempt", st.NextAttempt.Format(detailTime))
	}
}

func addChangedDocs(f *fieldList, cs []syncengine.Change) {
	for _, c := range cs[:min(len(cs), maxDetailDocs)] {
		what := c.RevID
		switch {
		case c.Purged:
			what = "purged"
		case c.Deleted:
			what = c.RevID + ", deleted"
		case c.Conflicted:
			what = c.RevID + ", in conflict"
		}
		f.add("Document", docName(c.Collection, c.DocID)+" ("+what+")")
	}
	addMore(f, len(cs))
}

func addReplicatedDocs(f *fieldList, docs []syncengine.DocEvent) {
	for _, d := range docs[:min(len(docs), maxDetailDocs)] {
		how := "pulled"
		if d.Pushed {
			how = "pushed"
		}
		if d.Deleted {
			how += ", deleted"
		}
		if d.Err != nil {
			how += ", failed: " + d.Err.Error()
		}
		f.add("Document", docName(d.Collection, d.DocID)+" "+d.RevID+" ("+how+")")
	}
	addMore(f, len(docs))
}

// addMore says how many documents the list above left out.
func addMore(f *fieldList, n int) {
	if n > maxDetailDocs {
		f.add("", fmt.Sprintf("… and %d more", n-maxDetailDocs))
	}
}

// docName names a document, with its collection unless it is the default.
func docName(collection, id string) string {
	if collection == "" || collection == syncengine.DefaultCollection {
		return id
	}
	return collection + "/" + id
}

// detailTime is how the detail pane gives a time: with the date and the
// seconds, which the list leaves out.
const detailTime = "2006-01-02 15:04:05 MST"

// kindName names a kind as the kind filter does.
func kindName(k activityKind) string {
	for _, c := range activityKinds {
		if c.kind == k {
			return c.name
		}
	}
	return "Other"
}

var levelNames = map[activityLevel]string{levelInfo: "Information", levelWarning: "Warning", levelError: "Error"}

// details is the detail pane's text for a line: when, what kind, how
// serious, the whole sentence, then the event's facts one a line.
func (l activityLine) details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s · %s · %s\n%s\n", l.At.Format(detailTime), kindName(l.Kind), levelNames[l.Level], l.Summary)
	for _, f := range l.Fields {
		if f.Name == "" {
			fmt.Fprintf(&b, "\n%s", f.Value)
			continue
		}
		fmt.Fprintf(&b, "\n%s: %s", f.Name, f.Value)
	}
	fmt.Fprintf(&b, "\nEvent: %s", l.Type)
	return b.String()
}
