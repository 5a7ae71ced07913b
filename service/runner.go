package service

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
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
	disc      *lanDiscovery
	metrics   *metricsServer // nil when [metrics] is off
}

type runningListener struct {
	cfg ListenerConfig
	l   *syncengine.Listener
}

type runningRepl struct {
	cfg ReplicationConfig
	r   *syncengine.Replicator
}

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
	if err := rn.applyMetrics(cfg.Metrics); err != nil {
		errs = append(errs, err)
	}
	wantR := map[string]ReplicationConfig{}
	for _, r := range cfg.Replications {
		wantR[r.Name] = r
	}
	for name, cur := range rn.repls {
		if w, ok := wantR[name]; !ok || !reflect.DeepEqual(w, cur.cfg) {
			cur.r.Stop()
			delete(rn.repls, name)
		}
	}
	for _, rc := range cfg.Replications {
		if rn.repls[rc.Name] != nil || !rc.AutoStart {
			continue
		}
		r, err := rn.newReplicator(rc)
		if err != nil {
			failed("replication", rc.Name, err)
			continue
		}
		r.Start(false)
		rn.repls[rc.Name] = &runningRepl{cfg: rc, r: r}
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

func (rn *Runner) newReplicator(rc ReplicationConfig) (*syncengine.Replicator, error) {
	cfg, err := rc.Engine(rn.e)
	if err != nil {
		return nil, err
	}
	return rn.e.NewReplicator(cfg)
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
	for name, r := range rn.repls {
		r.r.Stop()
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

// ReplicationReport describes a running replication.
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
	for name, r := range rn.repls {
		st := r.r.Status()
		rr := ReplicationReport{Name: name, Database: r.cfg.Database, Target: r.cfg.Target, Activity: st.Activity.String(), Protocol: st.Protocol,
			Completed: st.Progress.Completed, Total: st.Progress.Total, Pushed: st.Pushed, Pulled: st.Pulled, Delta: st.Delta}
		if st.Error != nil {
			rr.Error = st.Error.Error()
		}
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
		return r.r
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
