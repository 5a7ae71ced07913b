package ui

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// testWorkspace keeps listeners and replications in memory and runs them
// on a real engine, as the app's configuration-backed workspace does: each
// start is a new replicator whose run is recorded in the run history.
type testWorkspace struct {
	e       *syncengine.Engine
	browser PeerBrowser

	mu        sync.Mutex
	listeners []ListenerSettings
	running   map[string]*syncengine.Listener
	repls     []ReplicationSettings
	repl      map[string]*service.RunTracker // the last run of each replication
	settings  AppSettings
}

func newTestWorkspace(e *syncengine.Engine) *testWorkspace {
	def := service.DefaultConfig()
	return &testWorkspace{e: e, running: map[string]*syncengine.Listener{}, repl: map[string]*service.RunTracker{},
		settings: AppSettings{Discovery: def.Discovery, Log: def.Log, Metrics: def.Metrics}}
}

func (w *testWorkspace) stopAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.repl {
		r.Stop()
	}
	for _, l := range w.running {
		l.Stop()
	}
}

func (w *testWorkspace) Listeners() ([]ListenerState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []ListenerState
	for _, s := range w.listeners {
		st := ListenerState{Settings: s}
		if l := w.running[s.Name]; l != nil && !l.Running() {
			if err := l.Err(); err != nil {
				st.Error = "stopped: " + err.Error()
			}
		} else if l != nil {
			ls := l.Status()
			st.Running, st.ID, st.URLs, st.Connections, st.Active = true, l.ID(), l.URLs(), ls.ConnectionCount, ls.ActiveConnectionCount
			if id := l.TLSIdentity(); id != nil {
				st.Fingerprint = id.Fingerprint()
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func (w *testWorkspace) SaveListener(old string, s ListenerSettings) error {
	if s.Name == "" {
		return errors.New("a listener needs a name")
	}
	w.mu.Lock()
	w.listeners = slices.DeleteFunc(w.listeners, func(x ListenerSettings) bool { return x.Name == old })
	w.listeners = append(w.listeners, s)
	w.mu.Unlock()
	w.StopListener(old)
	if err := w.StartListener(s.Name); err != nil {
		return &NotStartedError{Reason: err.Error()}
	}
	return nil
}

func (w *testWorkspace) DeleteListener(name string) error {
	w.StopListener(name)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.listeners = slices.DeleteFunc(w.listeners, func(x ListenerSettings) bool { return x.Name == name })
	return nil
}

func (w *testWorkspace) StartListener(name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := slices.IndexFunc(w.listeners, func(x ListenerSettings) bool { return x.Name == name })
	if i < 0 || w.running[name] != nil {
		return nil
	}
	s := w.listeners[i]
	cfg, err := s.ListenerConfig.Engine(w.e)
	if err != nil {
		return err
	}
	l, err := w.e.NewListener(cfg)
	if err != nil {
		return err
	}
	if err := l.Start(); err != nil {
		return err
	}
	w.running[name] = l
	return nil
}

func (w *testWorkspace) StopListener(name string) error {
	w.mu.Lock()
	l := w.running[name]
	delete(w.running, name)
	w.mu.Unlock()
	if l != nil {
		l.Stop()
	}
	return nil
}

func (w *testWorkspace) Replications() ([]ReplicationState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []ReplicationState
	for _, s := range w.repls {
		st := ReplicationState{Settings: s}
		st.History, _ = service.LoadRunHistory(w.e.DataDir(), s.Name)
		if run := w.repl[s.Name]; run != nil {
			r := run.Replicator()
			st.ID, st.Status, st.Running, st.History = r.ID(), r.Status(), r.Done() != nil, run.History()
			if c := r.ServerCertificate(); c != nil {
				st.ServerFingerprint = tlsid.Fingerprint(c)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func (w *testWorkspace) SaveReplication(old string, s ReplicationSettings) error {
	if s.Name == "" {
		return errors.New("a replication needs a name")
	}
	w.mu.Lock()
	w.repls = slices.DeleteFunc(w.repls, func(x ReplicationSettings) bool { return x.Name == old })
	w.repls = append(w.repls, s)
	r := w.repl[old]
	delete(w.repl, old)
	w.mu.Unlock()
	if r != nil {
		r.Stop()
	}
	if s.AutoStart {
		if err := w.StartReplication(s.Name, false); err != nil {
			return &NotStartedError{Reason: err.Error()}
		}
	}
	return nil
}

func (w *testWorkspace) DeleteReplication(name string) error {
	w.StopReplication(name)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.repls = slices.DeleteFunc(w.repls, func(x ReplicationSettings) bool { return x.Name == name })
	delete(w.repl, name)
	return nil
}

func (w *testWorkspace) StartReplication(name string, reset bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if run := w.repl[name]; run != nil {
		if run.Replicator().Done() != nil && !reset {
			return nil
		}
		run.Stop()
	}
	i := slices.IndexFunc(w.repls, func(x ReplicationSettings) bool { return x.Name == name })
	if i < 0 {
		return fmt.Errorf("no replication %q", name)
	}
	cfg, err := w.repls[i].ReplicationConfig.Engine(w.e)
	if err != nil {
		return err
	}
	r, err := w.e.NewReplicator(cfg)
	if err != nil {
		return err
	}
	w.repl[name] = service.StartTracked(w.e.DataDir(), name, r, reset, w.e.Logger())
	return nil
}

func (w *testWorkspace) StopReplication(name string) error {
	w.mu.Lock()
	r := w.repl[name]
	w.mu.Unlock()
	if r != nil {
		r.Stop()
	}
	return nil
}

func (w *testWorkspace) RetryReplication(name string) error {
	w.mu.Lock()
	run := w.repl[name]
	w.mu.Unlock()
	if run != nil {
		run.Replicator().RetryNow()
	}
	return nil
}

func (w *testWorkspace) Interfaces() []string { return []string{"lo"} }

func (w *testWorkspace) Peers() PeerBrowser { return w.browser }

func (w *testWorkspace) Settings() (AppSettings, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.settings, nil
}

// SaveSettings refuses what the configuration refuses, as the app does.
func (w *testWorkspace) SaveSettings(s AppSettings) error {
	c := service.Config{Discovery: s.Discovery, Log: s.Log, Metrics: s.Metrics}
	if err := c.Validate(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	s.Discovery.Peers = w.settings.Discovery.Peers
	w.settings = s
	return nil
}
