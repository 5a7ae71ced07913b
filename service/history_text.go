package service

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The sentences below say a run history the same way in `peersync status`
// and in the GUI.

// LastRunText says how the last run went: "never run", "completed 3 min
// ago · 2,000 pushed · 0 pulled", "failed 2 h ago: <error>", "running
// since 14:03 · 120 pushed · 0 pulled".
func (h RunHistory) LastRunText(now time.Time) string {
	r := h.LastRun
	if r == nil {
		return "never run"
	}
	counts := fmt.Sprintf(" · %s pushed · %s pulled", Thousands(r.Pushed), Thousands(r.Pulled))
	if r.DocErrors > 0 {
		counts += " · " + failedDocs(r.DocErrors)
	}
	switch r.Outcome {
	case OutcomeRunning:
		return "running since " + clock(r.Started, now) + counts
	case OutcomeInterrupted:
		return "interrupted (the app ended during it), started " + Ago(r.Started, now) + counts
	}
	text := string(r.Outcome) + " " + Ago(r.Ended, now) + counts
	if r.Error != "" {
		if r.Outcome == OutcomeFailed {
			text += ": " + r.Error
		} else {
			text += " (last error: " + r.Error + ")"
		}
	}
	return text
}

// LastSyncedText is when the replication was last caught up: "never",
// "just now", "3 min ago".
func (h RunHistory) LastSyncedText(now time.Time) string {
	if h.LastSynced.IsZero() {
		return "never"
	}
	return Ago(h.LastSynced, now)
}

// Text lists the counts: "2,000 pushed · 5 pulled · 1 failed document ·
// 1.2 MiB sent · 340 KiB received".
func (c RunCounts) Text() string {
	text := fmt.Sprintf("%s pushed · %s pulled", Thousands(c.Pushed), Thousands(c.Pulled))
	if c.DocErrors > 0 {
		text += " · " + failedDocs(c.DocErrors)
	}
	return text + fmt.Sprintf(" · %s sent · %s received", FormatBytes(c.BytesSent), FormatBytes(c.BytesReceived))
}

// Summary is the one line of a replication that is not running: "Last
// synced 3 min ago · completed · 2,000 pushed · 0 pulled", or "Never run".
func (h RunHistory) Summary(now time.Time) string {
	r := h.LastRun
	if r == nil {
		return "Never run"
	}
	text := "Never synced · " + string(r.Outcome)
	if !h.LastSynced.IsZero() {
		text = "Last synced " + h.LastSyncedText(now) + " · " + string(r.Outcome)
	}
	if r.Outcome == OutcomeFailed && r.Error != "" {
		text += " " + Ago(r.Ended, now) + ": " + r.Error
	}
	return text + fmt.Sprintf(" · %s pushed · %s pulled", Thousands(r.Pushed), Thousands(r.Pulled))
}

func failedDocs(n int64) string {
	if n == 1 {
		return "1 failed document"
	}
	return Thousands(n) + " failed documents"
}

// Ago says how long before now t was, roughly: "just now", "3 min ago",
// "5 h ago", "4 days ago".
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// clock is a time of day, with the date when it is not today.
func clock(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// Thousands writes n with thousands separators: 2,000.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatBytes is a byte count for people, in binary units: 512 B,
// 16.0 KiB, 1.2 MiB. The CLI and the GUI print sizes with it.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
