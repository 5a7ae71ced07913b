package ui

import "peersync/syncengine"

// maxDocLog is how many replicated documents each replication remembers.
const maxDocLog = 200

// docLog is a ring of the last documents one replicator moved, newest last.
type docLog struct {
	entries []syncengine.DocEvent
	next    int // where the next entry goes once the ring is full
}

func (l *docLog) add(evs []syncengine.DocEvent) {
	if len(evs) > maxDocLog {
		evs = evs[len(evs)-maxDocLog:]
	}
	for _, ev := range evs {
		if len(l.entries) < maxDocLog {
			l.entries = append(l.entries, ev)
			continue
		}
		l.entries[l.next] = ev
		l.next = (l.next + 1) % maxDocLog
	}
}

// newestFirst returns the entries, the latest first.
func (l *docLog) newestFirst() []syncengine.DocEvent {
	out := make([]syncengine.DocEvent, 0, len(l.entries))
	for i := len(l.entries) - 1; i >= 0; i-- {
		out = append(out, l.entries[(l.next+i)%len(l.entries)])
	}
	return out
}

// describeDoc is one line of the log.
func describeDoc(ev syncengine.DocEvent) string {
	dir := "pulled"
	if ev.Pushed {
		dir = "pushed"
	}
	line := dir + " " + ev.DocID + " " + ev.RevID
	if ev.Deleted {
		line += " (deleted)"
	}
	if ev.Collection != "" && ev.Collection != "_default._default" {
		line = ev.Collection + ": " + line
	}
	if ev.Err != nil {
		line += " — failed: " + ev.Err.Error()
	}
	return line
}
