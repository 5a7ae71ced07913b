package service

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"peersync/syncengine"
)

// Runner runs the listeners and replications a Config describes, and
// applies a changed Config by restarting only what changed. The headless
// service and the GUI both use it.
type Runner struct {
	e   *syncengine.Engine
	log *slog.Logger

	mu        sync.Mutex
	listeners map[string]*runningListener
	repls     map[string]*runningRepl
	// configured is every replication of the last Apply, running or not,
	// so that status lists the ones that never ran too.
	configured []ReplicationConfig
	disc       *lanDiscovery
	metrics    *metricsServer // nil when [metrics] is off
}

type runningListener struct {
	cfg ListenerConfig
	l   *syncengine.Listener
}

// runningRepl is a started replication: its current (or last) run.
type runningRepl struct {
	cfg ReplicationConfig
	run *RunTracker
}

func (rr *runningRepl) replicator() *syncengine.Replicator { return rr.run.Replicator() }

// NewRunner returns a runner with nothing running.
func NewRunner(e *syncengine.Engine) *Runner {
	return &Runner{e: e, log: e.Logger(), listeners: map[string]*runningListener{}, repls: map[string]*runningRepl{},
		disc: newLANDiscovery(e.DataDir(), e.Logger())}
}

// Apply makes the running set match cfg: what was removed or changed stops,
// what is new or changed starts, and what is unchanged keeps running.
// Errors starting one item are collected; the others still start.
func (rn *Runner) Apply(cfg *Config) error {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	var errs []error
	// A damaged database is logged once, with why; what uses it does not
	// start, and everything else does.
	damaged := map[string]bool{}
	failed := func(kind, name string, err error) {
		var de *syncengine.DamagedError
		if errors.As(err, &de) {
			if !damaged[de.Database] {
				damaged[de.Database] = true
				rn.log.Error("database is damaged; what uses it does not start", "database", de.Database, "error", OneLine(err))
			}
			err = fmt.Errorf("database %s is damaged", de.Database)
		}
		errs = append(errs, &StartError{Kind: kind, Name: name, Err: err})
	}
	want := map[string]ListenerConfig{}
	for _, l := range cfg.Listeners {
		want[l.Name] = l
	}
	for name, cur := range rn.listeners {
		if w, ok := want[name]; !ok || !reflect.DeepEqual(w, cur.cfg) {
			rn.disc.withdraw(name)
			cur.l.Stop()
			delete(rn.listeners, name)
		}
	}
	for _, lc := range cfg.Listeners {
		if rn.listeners[lc.Name] != nil {
			continue
		}
		l, err := rn.startListener(lc)
		if err != nil {
			failed("listener", lc.Name, err)
			continue
		}
		rn.listeners[lc.Name] = &runningListener{cfg: lc, l: l}
	}
	if err := rn.disc.apply(cfg.Discovery, rn.listeners); err != nil {
		errs = append(errs, err)
	}
	rn.e.SetKeepResolved(cfg.Storage.KeepResolvedConflicts.Duration)
	if err := rn.applyMetrics(cfg.Metrics); err != nil {
		errs = append(errs, err)
	}
	wantR := map[string]ReplicationConfig{}
	for _, r := range cfg.Replications {
		wantR[r.Name] = r
	}
	for name, cur := range rn.repls {
		if w, ok := wantR[name]; !ok || !reflect.DeepEqual(w, cur.cfg) {
			cur.run.Stop()
			delete(rn.repls, name)
		}
	}
	rn.configured = slices.Clone(cfg.Replications)
	for _, rc := range cfg.Replications {
		if rn.repls[rc.Name] != nil || !rc.AutoStart {
			continue
		}
		if err := rn.startReplicationLocked(rc, false); err != nil {
			failed("replication", rc.Name, err)
		}
	}
	return errors.Join(errs...)
}

// StartError says which configured listener or replication did not start,
// so that callers find it with errors.As instead of matching message text.
type StartError struct {
	Kind string // "listener" or "replication"
	Name string
	Err  error
}

func (e *StartError) Error() string { return fmt.Sprintf("%s %q: %v", e.Kind, e.Name, e.Err) }
func (e *StartError) Unwrap() error { return e.Err }

func (rn *Runner) startListener(lc ListenerConfig) (*syncengine.Listener, error) {
	cfg, err := lc.Engine(rn.e)
	if err != nil {
		return nil, err
	}
	l, err := rn.e.NewListener(cfg)
	if err != nil {
		return nil, err
	}
	return l, l.Start()
}

// startReplicationLocked starts a new run of rc with a new replicator,
// so that its counts are this run's, and records it in the run history.
func (rn *Runner) startReplicationLocked(rc ReplicationConfig, reset bool) error {
	r, err := rn.newReplicator(rc)
	if err != nil {
		return err
	}
	rn.repls[rc.Name] = &runningRepl{cfg: rc, run: StartTracked(rn.e.DataDir(), rc.Name, r, reset, rn.log)}
	return nil
}

func (rn *Runner) newReplicator(rc ReplicationConfig) (*syncengine.Replicator, error) {
	cfg, err := rc.Engine(rn.e)
	if err != nil {
		return nil, err
	}
	return rn.e.NewReplicator(cfg)
}

// StartReplication starts a configured replication (of the last Apply)
// that is not running, as a new run; reset discards its checkpoints, and
// restarts it when it runs. A running one is otherwise left alone.
func (rn *Runner) StartReplication(name string, reset bool) error {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	i := slices.IndexFunc(rn.configured, func(rc ReplicationConfig) bool { return rc.Name == name })
	if i < 0 {
		return fmt.Errorf("replication %q is not configured", name)
	}
	if cur := rn.repls[name]; cur != nil {
		if cur.replicator().Done() != nil && !reset {
			return nil
		}
		cur.run.Stop()
		delete(rn.repls, name)
	}
	return rn.startReplicationLocked(rn.configured[i], reset)
}

// StopReplication stops a replication's run (its last status stays) and
// records that it was stopped.
func (rn *Runner) StopReplication(name string) {
	rn.mu.Lock()
	cur := rn.repls[name]
	rn.mu.Unlock()
	if cur != nil {
		cur.run.Stop()
	}
}

// History is a configured replication's run history.
func (rn *Runner) History(name string) RunHistory {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.historyLocked(name)
}

// historyLocked is live while this runner runs the replication, else as
// saved in the data directory, where a later run by a `peersync replicate`
// may have put it; a damaged record reads as never run, unless this runner
// knows the run it recorded last.
func (rn *Runner) historyLocked(name string) RunHistory {
	cur := rn.repls[name]
	if cur != nil && !cur.run.ended() {
		return cur.run.History()
	}
	if h, err := LoadRunHistory(rn.e.DataDir(), name); err == nil && h.LastRun != nil || cur == nil {
		return h
	}
	return cur.run.History()
}

// Engine is the engine the runner drives.
func (rn *Runner) Engine() *syncengine.Engine { return rn.e }

// Stop stops discovery and replications (saving checkpoints), then
// listeners.
func (rn *Runner) Stop() {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.stopMetrics()
	rn.disc.stop()
	clear(rn.disc.outcome)
	for name, r := range rn.repls {
		r.run.Stop()
		delete(rn.repls, name)
	}
	for name, l := range rn.listeners {
		l.l.Stop()
		delete(rn.listeners, name)
	}
}

// StatusReport is what `peersync status` prints.
type StatusReport struct {
	Listeners    []ListenerReport    `json:"listeners"`
	Replications []ReplicationReport `json:"replications"`
}

// ListenerReport describes a running listener.
type ListenerReport struct {
	Name        string   `json:"name"`
	Database    string   `json:"database"`
	URLs        []string `json:"urls"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	Connections int      `json:"connections"`
	Active      int      `json:"active"`
	// Protocols counts the open connections by subprotocol.
	Protocols map[string]int `json:"protocols,omitempty"`
}

// ReplicationReport describes a configured replication: its current (or
// last) run in this instance — progress, pushed and pulled count this run
// — and its run history, which survives restarts.
type ReplicationReport struct {
	Name      string                `json:"name"`
	Database  string                `json:"database"`
	Target    string                `json:"target"`
	Activity  string                `json:"activity"`
	Protocol  string                `json:"protocol,omitempty"` // of the current or last connection
	Completed int64                 `json:"completed"`
	Total     int64                 `json:"total"`
	Pushed    int64                 `json:"pushed"`
	Pulled    int64                 `json:"pulled"`
	Error     string                `json:"error,omitempty"`
	Delta     syncengine.DeltaStats `json:"delta"`
	History   RunHistory            `json:"history"` // last run, last synced, totals over every run
}

// Status reports what runs.
func (rn *Runner) Status() StatusReport {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rep := StatusReport{Listeners: []ListenerReport{}, Replications: []ReplicationReport{}}
	for name, l := range rn.listeners {
		st := l.l.Status()
		lr := ListenerReport{Name: name, Database: l.cfg.Database, URLs: l.l.URLs(), Connections: st.ConnectionCount, Active: st.ActiveConnectionCount, Protocols: st.Protocols}
		if id := l.l.TLSIdentity(); id != nil {
			lr.Fingerprint = id.Fingerprint()
		}
		rep.Listeners = append(rep.Listeners, lr)
	}
	for _, rc := range rn.configured {
		rr := ReplicationReport{Name: rc.Name, Database: rc.Database, Target: rc.Target, Activity: syncengine.Stopped.String()}
		if r := rn.repls[rc.Name]; r != nil {
			st := r.replicator().Status()
			rr.Activity, rr.Protocol = st.Activity.String(), st.Protocol
			rr.Completed, rr.Total, rr.Pushed, rr.Pulled, rr.Delta = st.Progress.Completed, st.Progress.Total, st.Pushed, st.Pulled, st.Delta
			if st.Error != nil {
				rr.Error = st.Error.Error()
			}
		}
		rr.History = rn.historyLocked(rc.Name)
		rep.Replications = append(rep.Replications, rr)
	}
	sort.Slice(rep.Listeners, func(i, j int) bool { return rep.Listeners[i].Name < rep.Listeners[j].Name })
	sort.Slice(rep.Replications, func(i, j int) bool { return rep.Replications[i].Name < rep.Replications[j].Name })
	return rep
}

// Listener returns a running listener by name.
func (rn *Runner) Listener(name string) *syncengine.Listener {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if l := rn.listeners[name]; l != nil {
		return l.l
	}
	return nil
}

// Replicator returns a started replication's replicator by name (it may
// have stopped since), or nil.
func (rn *Runner) Replicator(name string) *syncengine.Replicator {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if r := rn.repls[name]; r != nil {
		return r.replicator()
	}
	return nil
}

// OneLine is an error as the one line the CLI prints; a damaged database
// gets the command that copies out what can be read.
func OneLine(err error) string {
	line := strings.ReplaceAll(err.Error(), "\n", "; ")
	var de *syncengine.DamagedError
	if errors.As(err, &de) {
		line += fmt.Sprintf(`; run "peersync db salvage %s" to copy out what can be read`, de.Database)
	}
	return line
}
