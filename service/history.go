package service

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"peersync/syncengine"
)

// Run history: what a configured replication did last, kept in the data
// directory so that a finished one-shot replication does not look like one
// that never ran after a restart. One small JSON file per replication,
// runs/<name>-<hash>.json, replaced atomically (a temporary file, fsync,
// rename, fsync of the directory), mode 0600. A file that is absent or
// cannot be read reads as "never run"; nothing in it is needed to sync.

// RunsDirName is the directory of the data directory that holds the run
// history of configured replications.
const RunsDirName = "runs"

// persistEvery bounds how often a running replication's record is
// rewritten: when it catches up, or on any status change after this long.
const persistEvery = 30 * time.Second

// RunOutcome is how a replication's last run ended.
type RunOutcome string

const (
	OutcomeRunning   RunOutcome = "running"   // it runs now
	OutcomeCompleted RunOutcome = "completed" // a one-shot run that finished
	OutcomeStopped   RunOutcome = "stopped"   // stopped when asked (or a continuous run ended without error)
	OutcomeFailed    RunOutcome = "failed"    // stopped by an error; Error says which
	// OutcomeInterrupted is a run recorded as running that no process runs:
	// the app ended (a crash, a power cut) before the run did.
	OutcomeInterrupted RunOutcome = "interrupted"
)

// RunCounts counts what a replication moved.
type RunCounts struct {
	Pushed        int64 `json:"pushed"`         // revisions delivered to the peer
	Pulled        int64 `json:"pulled"`         // revisions received and saved
	DocErrors     int64 `json:"doc_errors"`     // documents that failed to replicate
	BytesSent     int64 `json:"bytes_sent"`     // on the network (BLIP frames)
	BytesReceived int64 `json:"bytes_received"` // on the network
}

func (c RunCounts) add(o RunCounts) RunCounts {
	return RunCounts{Pushed: c.Pushed + o.Pushed, Pulled: c.Pulled + o.Pulled, DocErrors: c.DocErrors + o.DocErrors,
		BytesSent: c.BytesSent + o.BytesSent, BytesReceived: c.BytesReceived + o.BytesReceived}
}

func (c RunCounts) sub(o RunCounts) RunCounts {
	return c.add(RunCounts{Pushed: -o.Pushed, Pulled: -o.Pulled, DocErrors: -o.DocErrors, BytesSent: -o.BytesSent, BytesReceived: -o.BytesReceived})
}

// WithStatus is h with a running last run's counts taken from st, the
// newer status of the replicator that runs it, and the totals to match.
// Other histories come back as they are.
func (h RunHistory) WithStatus(st syncengine.ReplicatorStatus) RunHistory {
	if h.LastRun == nil || h.LastRun.Outcome != OutcomeRunning {
		return h
	}
	run := *h.LastRun
	live := RunCounts{Pushed: st.Pushed, Pulled: st.Pulled, DocErrors: run.DocErrors, BytesSent: st.WireSent, BytesReceived: st.WireRecv}
	h.Totals = h.Totals.sub(run.RunCounts).add(live)
	run.RunCounts = live
	h.LastRun = &run
	if st.Activity == syncengine.Idle {
		h.LastSynced = time.Now()
	}
	return h
}

// LastRun is one run of a replication and what it moved.
type LastRun struct {
	Outcome RunOutcome `json:"outcome"`
	Error   string     `json:"error,omitempty"` // why it failed, or the last error before it was stopped
	Started time.Time  `json:"started"`
	Ended   time.Time  `json:"ended,omitzero"` // zero while running
	RunCounts
}

// RunHistory is what is known of a configured replication's runs.
type RunHistory struct {
	LastRun *LastRun `json:"last_run,omitempty"` // nil: never run
	// LastSynced is when the replication was last caught up: a one-shot
	// run completed, or a continuous one had nothing left to do. Zero: never.
	LastSynced time.Time `json:"last_synced,omitzero"`
	Totals     RunCounts `json:"totals"` // over every run, the last one included
}

// runFile is a run history file: the name it belongs to guards against a
// hash collision or a file copied from elsewhere.
type runFile struct {
	Version int        `json:"version"`
	Name    string     `json:"name"`
	History RunHistory `json:"history"`
}

// historyMu serializes writes of run history files in this process. Two
// processes never write one replication's file: its database is open in one.
var historyMu sync.Mutex

var unsafeNameChars = strings.NewReplacer("/", "_", `\`, "_", ":", "_", "*", "_", "?", "_", `"`, "_", "<", "_", ">", "_", "|", "_", " ", "_", ".", "_")

// runPath is the file of a replication's run history: a readable part of
// the name and a hash of all of it, so any name makes one valid file name.
func runPath(dataDir, name string) string {
	sum := sha256.Sum256([]byte(name))
	readable := []rune(unsafeNameChars.Replace(name))
	if len(readable) > 32 {
		readable = readable[:32]
	}
	return filepath.Join(dataDir, RunsDirName, string(readable)+"-"+hex.EncodeToString(sum[:8])+".json")
}

// LoadRunHistory reads a replication's run history. An absent file is a
// replication that never ran (no error); a damaged one also reads as never
// run, with an error saying why. A run recorded as running reads as
// interrupted: a running replication's live history comes from its tracker.
func LoadRunHistory(dataDir, name string) (RunHistory, error) {
	data, err := os.ReadFile(runPath(dataDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return RunHistory{}, nil
	}
	if err != nil {
		return RunHistory{}, fmt.Errorf("run history of %q: %w", name, err)
	}
	var f runFile
	if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 || f.Name != name {
		return RunHistory{}, fmt.Errorf("run history of %q is damaged; it reads as never run", name)
	}
	if f.History.LastRun != nil && f.History.LastRun.Outcome == OutcomeRunning {
		f.History.LastRun.Outcome = OutcomeInterrupted
	}
	return f.History, nil
}

// saveRunHistory replaces a replication's run history file atomically: a
// crash leaves the old file or the new one, never a mix.
func saveRunHistory(dataDir, name string, h RunHistory) error {
	historyMu.Lock()
	defer historyMu.Unlock()
	path := runPath(dataDir, name)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(runFile{Version: 1, Name: name, History: h}, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("saving the run history of %q: %w", name, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable where the platform can (not on
// Windows, where opening a directory for sync fails).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// RenameRunHistory moves a replication's history to its new name; one
// that never ran has nothing to move.
func RenameRunHistory(dataDir, old, name string) error {
	if old == name {
		return nil
	}
	h, err := LoadRunHistory(dataDir, old)
	if err != nil || h.LastRun == nil && h.LastSynced.IsZero() {
		return DeleteRunHistory(dataDir, old)
	}
	if err := saveRunHistory(dataDir, name, h); err != nil {
		return err
	}
	return DeleteRunHistory(dataDir, old)
}

// DeleteRunHistory forgets a replication's runs.
func DeleteRunHistory(dataDir, name string) error {
	historyMu.Lock()
	defer historyMu.Unlock()
	err := os.Remove(runPath(dataDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// RunTracker follows one run of a replicator and records it in the run
// history of the replication it belongs to: as running when it starts,
// when it catches up (at most every 30 s otherwise), and how it ended.
type RunTracker struct {
	dataDir, name string
	r             *syncengine.Replicator
	log           *slog.Logger
	sub           *syncengine.Subscription
	stopAsked     atomic.Bool
	finished      chan struct{} // closed once the end is recorded

	mu        sync.Mutex
	base      RunCounts // totals before this run
	hist      RunHistory
	docErrors int64
	idle      bool // the last status seen was caught up
	written   time.Time
}

// StartTracked starts r (reset discards its checkpoints) and records the
// run under the replication's name in dataDir's run history. r must not
// have run before: its counts are taken as this run's.
func StartTracked(dataDir, name string, r *syncengine.Replicator, reset bool, log *slog.Logger) *RunTracker {
	prev, err := LoadRunHistory(dataDir, name)
	if err != nil {
		log.Warn("starting a new run history", "replication", name, "error", err.Error())
	}
	now := time.Now()
	t := &RunTracker{dataDir: dataDir, name: name, r: r, log: log, finished: make(chan struct{}), base: prev.Totals,
		hist: RunHistory{LastRun: &LastRun{Outcome: OutcomeRunning, Started: now}, LastSynced: prev.LastSynced, Totals: prev.Totals}}
	t.persistLocked(now)
	// Subscribed before it starts, so no status of this run is missed.
	t.sub = r.Config().Database.Engine().Subscribe(1024)
	r.Start(reset)
	done := r.Done()
	if done == nil { // it ended already
		closed := make(chan struct{})
		close(closed)
		done = closed
	}
	go t.follow(done)
	return t
}

// Stop asks the replicator to stop, and returns once its end is recorded.
func (t *RunTracker) Stop() {
	t.stopAsked.Store(true)
	t.r.Stop()
	<-t.finished
}

// Done is closed once the run has ended and its end is recorded.
func (t *RunTracker) Done() <-chan struct{} { return t.finished }

// ended tells whether the run has ended and its end is recorded.
func (t *RunTracker) ended() bool {
	select {
	case <-t.finished:
		return true
	default:
		return false
	}
}

// Replicator is the replicator whose run this is.
func (t *RunTracker) Replicator() *syncengine.Replicator { return t.r }

// History is the replication's history with this run as its last run,
// live while it runs.
func (t *RunTracker) History() RunHistory {
	if t.ended() {
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.hist
	}
	st := t.r.Status()
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.historyLocked(st, time.Now(), st.Activity == syncengine.Stopped)
	if st.Activity == syncengine.Idle {
		h.LastSynced = time.Now() // caught up now
	}
	return h
}

func (t *RunTracker) follow(done <-chan struct{}) {
	defer close(t.finished)
	defer t.sub.Close()
	id := t.r.ID()
	for {
		select {
		case <-done:
			st := t.r.Status()
			t.mu.Lock()
			now := time.Now()
			t.hist = t.historyLocked(st, now, true)
			t.persistLocked(now)
			t.mu.Unlock()
			return
		case ev := <-t.sub.C:
			switch ev := ev.(type) {
			case syncengine.ReplicatorStatusChanged:
				if ev.ID == id {
					t.noteStatus(ev.Status)
				}
			case syncengine.DocumentsReplicated:
				if ev.ReplicatorID == id {
					t.mu.Lock()
					for _, d := range ev.Documents {
						if d.Err != nil {
							t.docErrors++
						}
					}
					t.mu.Unlock()
				}
			}
		}
	}
}

// noteStatus records a caught-up moment, and rewrites the record when the
// replication has just caught up or the last write is old.
func (t *RunTracker) noteStatus(st syncengine.ReplicatorStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	caughtUp := st.Activity == syncengine.Idle && !t.idle
	t.idle = st.Activity == syncengine.Idle
	t.hist = t.historyLocked(st, now, false)
	if t.idle {
		t.hist.LastSynced = now
	}
	if (caughtUp && now.Sub(t.written) >= persistEvery/6) || now.Sub(t.written) >= persistEvery {
		t.persistLocked(now)
	}
}

// historyLocked is the history with this run at status st; final says
// the run has ended.
func (t *RunTracker) historyLocked(st syncengine.ReplicatorStatus, now time.Time, final bool) RunHistory {
	h := t.hist
	run := *h.LastRun
	run.RunCounts = RunCounts{Pushed: st.Pushed, Pulled: st.Pulled, DocErrors: t.docErrors, BytesSent: st.WireSent, BytesReceived: st.WireRecv}
	if st.Error != nil {
		run.Error = st.Error.Error()
	}
	if final {
		run.Ended = now
		switch {
		case t.stopAsked.Load():
			run.Outcome = OutcomeStopped
			if t.idle {
				h.LastSynced = now // caught up until it was stopped
			}
		case st.Error != nil:
			run.Outcome = OutcomeFailed
		case t.r.Config().Continuous:
			run.Outcome = OutcomeStopped
		default:
			run.Outcome, run.Error = OutcomeCompleted, ""
			h.LastSynced = now
		}
	}
	h.LastRun = &run
	h.Totals = t.base.add(run.RunCounts)
	return h
}

func (t *RunTracker) persistLocked(now time.Time) {
	t.written = now
	if err := saveRunHistory(t.dataDir, t.name, t.hist); err != nil {
		t.log.Error("the replication's last run is not saved", "replication", t.name, "error", err.Error())
	}
}
