package service

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"peersync/syncengine"
)

// MetricsConfig is [metrics]: where to serve Prometheus metrics.
type MetricsConfig struct {
	// Address is host:port, or just a port (":9100" or "9100") for
	// loopback. Empty turns metrics off.
	Address string `toml:"address,omitempty"`
}

// metricsListenAddress turns the configured address into one to listen on:
// without a host it is loopback, never every interface by accident.
func metricsListenAddress(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = "", s // a bare port
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%q is not host:port or a port", s)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// metrics collects the service's figures for Prometheus: counts the
// replicators and listeners keep are read when scraped, and what only
// events tell (refusals, retries, failed documents, when a replication
// last caught up) is counted from the engine's event stream. Both are
// keyed by the engine's listener and replicator IDs and named when
// scraped, so following events never waits for the runner.
type metrics struct {
	rn  *Runner
	reg *prometheus.Registry

	mu        sync.Mutex
	refused   map[string]map[syncengine.RefusalReason]int64 // listener ID → reason → count
	retries   map[string]int64                              // replicator ID → times gone offline
	offline   map[string]bool                               // replicator ID → last status was offline
	docErrs   map[string]map[string]int64                   // replicator ID → direction → count
	caughtUp  map[string]time.Time                          // replicator ID → last time caught up
	startedAt map[string]time.Time                          // replicator ID → first status seen

	sub  *syncengine.Subscription
	done chan struct{}
}

var (
	descDocs       = prometheus.NewDesc("peersync_replication_documents_total", "Documents replicated, by direction (push, pull), since the replication started.", []string{"replication", "direction"}, nil)
	descBytes      = prometheus.NewDesc("peersync_replication_wire_bytes_total", "Bytes on the network (BLIP frames), by direction (sent, received), since the replication started.", []string{"replication", "direction"}, nil)
	descDeltaSaved = prometheus.NewDesc("peersync_replication_delta_bytes_saved_total", "Body bytes delta sync did not send: full size minus delta size, summed over revisions sent as deltas.", []string{"replication"}, nil)
	descDeltaRevs  = prometheus.NewDesc("peersync_replication_delta_revisions_total", "Revisions sent and received as deltas (as=delta) or in full (as=full).", []string{"replication", "direction", "as"}, nil)
	descRetries    = prometheus.NewDesc("peersync_replication_retries_total", "Times the replication went offline to retry after a transient error.", []string{"replication"}, nil)
	descDocErrs    = prometheus.NewDesc("peersync_replication_document_errors_total", "Documents that failed to replicate, by direction (push, pull).", []string{"replication", "direction"}, nil)
	descActivity   = prometheus.NewDesc("peersync_replication_activity", "1 for the replication's current activity (stopped, offline, connecting, idle, busy), 0 for the others.", []string{"replication", "activity"}, nil)
	descLag        = prometheus.NewDesc("peersync_replication_lag_seconds", "Seconds since the replication was last caught up (0 while idle); since it started when it never was.", []string{"replication"}, nil)
	descPending    = prometheus.NewDesc("peersync_replication_pending_documents", "Documents not yet pushed, per the last push checkpoint (push replications).", []string{"replication"}, nil)
	descConns      = prometheus.NewDesc("peersync_listener_connections", "Open replication connections.", []string{"listener"}, nil)
	descActive     = prometheus.NewDesc("peersync_listener_active_connections", "Open replication connections transferring documents now.", []string{"listener"}, nil)
	descRefused    = prometheus.NewDesc("peersync_listener_refused_connections_total", "Connections the listener turned away, by reason.", []string{"listener", "reason"}, nil)
	descSize       = prometheus.NewDesc("peersync_database_size_bytes", "Size of the database file.", []string{"database"}, nil)
	descDocCount   = prometheus.NewDesc("peersync_database_documents", "Live documents in the database, all collections.", []string{"database"}, nil)
	descConflicts  = prometheus.NewDesc("peersync_database_conflicted_documents", "Documents with unresolved conflicts, all collections.", []string{"database"}, nil)
)

func newMetrics(rn *Runner) *metrics {
	m := &metrics{rn: rn, reg: prometheus.NewRegistry(),
		refused: map[string]map[syncengine.RefusalReason]int64{}, retries: map[string]int64{}, offline: map[string]bool{},
		docErrs: map[string]map[string]int64{}, caughtUp: map[string]time.Time{}, startedAt: map[string]time.Time{},
		done: make(chan struct{}),
	}
	m.reg.MustRegister(m)
	m.sub = rn.e.Subscribe(4096)
	go m.follow()
	return m
}

func (m *metrics) stop() {
	m.sub.Close()
	<-m.done
}

// follow counts what only events tell.
func (m *metrics) follow() {
	defer close(m.done)
	for ev := range m.sub.C {
		m.mu.Lock()
		switch ev := ev.(type) {
		case syncengine.ConnectionRefused:
			if m.refused[ev.ListenerID] == nil {
				m.refused[ev.ListenerID] = map[syncengine.RefusalReason]int64{}
			}
			m.refused[ev.ListenerID][ev.Reason]++
		case syncengine.ReplicatorStatusChanged:
			m.noteStatusLocked(ev.ID, ev.Status)
			off := ev.Status.Activity == syncengine.Offline
			if off && !m.offline[ev.ID] {
				m.retries[ev.ID]++
			}
			m.offline[ev.ID] = off
		case syncengine.DocumentsReplicated:
			for _, d := range ev.Documents {
				if d.Err != nil {
					if m.docErrs[ev.ReplicatorID] == nil {
						m.docErrs[ev.ReplicatorID] = map[string]int64{}
					}
					m.docErrs[ev.ReplicatorID][direction(d.Pushed)]++
				}
			}
		}
		m.mu.Unlock()
	}
}

func direction(pushed bool) string {
	if pushed {
		return "push"
	}
	return "pull"
}

// noteStatusLocked remembers when a replication was caught up: idle, or a
// one-shot replication that finished without error.
func (m *metrics) noteStatusLocked(id string, st syncengine.ReplicatorStatus) {
	now := time.Now()
	if _, ok := m.startedAt[id]; !ok {
		m.startedAt[id] = now
	}
	if st.Activity == syncengine.Idle || (st.Activity == syncengine.Stopped && st.Error == nil) {
		m.caughtUp[id] = now
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDocs, descBytes, descDeltaSaved, descDeltaRevs, descRetries, descDocErrs,
		descActivity, descLag, descPending, descConns, descActive, descRefused, descSize, descDocCount, descConflicts} {
		ch <- d
	}
}

// Collect reads the running replications, listeners and their databases.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	reps, listeners := m.rn.metricsSnapshot()
	dbs := map[string]*syncengine.Database{}
	for _, r := range reps {
		st, name, id := r.replicator().Status(), r.cfg.Name, r.replicator().ID()
		counter(descDocs, st.Pushed, name, "push")
		counter(descDocs, st.Pulled, name, "pull")
		counter(descBytes, st.WireSent, name, "sent")
		counter(descBytes, st.WireRecv, name, "received")
		counter(descDeltaSaved, st.Delta.BytesSaved, name)
		counter(descDeltaRevs, st.Delta.SentAsDelta, name, "sent", "delta")
		counter(descDeltaRevs, st.Delta.SentFull, name, "sent", "full")
		counter(descDeltaRevs, st.Delta.ReceivedAsDelta, name, "received", "delta")
		counter(descDeltaRevs, st.Delta.ReceivedFull, name, "received", "full")
		for a := syncengine.Stopped; a <= syncengine.Busy; a++ {
			v := 0.0
			if st.Activity == a {
				v = 1
			}
			gauge(descActivity, v, name, a.String())
		}
		m.mu.Lock()
		m.noteStatusLocked(id, st)
		counter(descRetries, m.retries[id], name)
		counter(descDocErrs, m.docErrs[id]["push"], name, "push")
		counter(descDocErrs, m.docErrs[id]["pull"], name, "pull")
		since, ok := m.caughtUp[id]
		if !ok {
			since = m.startedAt[id]
		}
		m.mu.Unlock()
		lag := time.Since(since).Seconds()
		if st.Activity == syncengine.Idle {
			lag = 0
		}
		gauge(descLag, lag, name)
		if r.replicator().Config().Type != syncengine.Pull {
			if ids, err := r.replicator().PendingDocumentIDs(); err == nil {
				gauge(descPending, float64(len(ids)), name)
			}
		}
		dbs[r.cfg.Database] = r.replicator().Config().Database
	}
	for _, l := range listeners {
		st := l.l.Status()
		gauge(descConns, float64(st.ConnectionCount), l.cfg.Name)
		gauge(descActive, float64(st.ActiveConnectionCount), l.cfg.Name)
		m.mu.Lock()
		for _, reason := range syncengine.RefusalReasons { // every reason shows, from 0
			counter(descRefused, m.refused[l.l.ID()][reason], l.cfg.Name, string(reason))
		}
		m.mu.Unlock()
		dbs[l.cfg.Database] = l.l.Config().Database
	}
	for name, db := range dbs {
		info, err := db.Info()
		if err != nil {
			continue
		}
		gauge(descSize, float64(info.Size), name)
		gauge(descDocCount, float64(info.DocumentCount), name)
		conflicted := 0
		for _, cn := range info.Collections {
			if c, err := db.Collection(cn); err == nil {
				ids, _ := c.Conflicts()
				conflicted += len(ids)
			}
		}
		gauge(descConflicts, float64(conflicted), name)
	}
}

// metricsServer serves /metrics on the configured address.
type metricsServer struct {
	addr string // as configured, to notice changes
	m    *metrics
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

func startMetricsServer(rn *Runner, configured string) (*metricsServer, error) {
	addr, err := metricsListenAddress(configured)
	if err != nil {
		return nil, fmt.Errorf("metrics.address: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	m := newMetrics(rn)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	s := &metricsServer{addr: configured, m: m, ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			rn.log.Error("metrics server stopped", "error", err.Error())
		}
	}()
	rn.log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return s, nil
}

func (s *metricsServer) stop() {
	// Close, not Shutdown: a scrape may wait for the runner, whose lock
	// the caller holds.
	s.srv.Close()
	<-s.done
	s.m.stop()
}

// applyMetrics starts, moves or stops the metrics server; rn.mu is held.
func (rn *Runner) applyMetrics(cfg MetricsConfig) error {
	if rn.metrics != nil && rn.metrics.addr == cfg.Address {
		return nil
	}
	rn.stopMetrics()
	if cfg.Address == "" {
		return nil
	}
	s, err := startMetricsServer(rn, cfg.Address)
	if err != nil {
		return err
	}
	rn.metrics = s
	return nil
}

func (rn *Runner) stopMetrics() {
	if rn.metrics != nil {
		rn.metrics.stop()
		rn.metrics = nil
	}
}

// MetricsAddress is where metrics are served ("" when off).
func (rn *Runner) MetricsAddress() string {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.metrics == nil {
		return ""
	}
	return rn.metrics.ln.Addr().String()
}

// metricsSnapshot copies what runs, so scrapes do not hold the runner.
func (rn *Runner) metricsSnapshot() ([]runningRepl, []runningListener) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	reps := make([]runningRepl, 0, len(rn.repls))
	for _, r := range rn.repls {
		reps = append(reps, *r)
	}
	ls := make([]runningListener, 0, len(rn.listeners))
	for _, l := range rn.listeners {
		ls = append(ls, *l)
	}
	return reps, ls
}
