package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

func TestMetricsAddress(t *testing.T) {
	for in, want := range map[string]string{"": "", "9100": "127.0.0.1:9100", ":9100": "127.0.0.1:9100",
		"0.0.0.0:9100": "0.0.0.0:9100", "[::1]:0": "[::1]:0"} {
		if got, err := metricsListenAddress(in); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"localhost", "host:port", "99999", ":-1"} {
		if _, err := metricsListenAddress(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	path := filepath.Join(t.TempDir(), ConfigFileName)
	writeFile(t, path, "[metrics]\naddress = \"nowhere\"\n")
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), ":2: metrics.address:") {
		t.Errorf("bad [metrics] address: %v", err)
	}
}

// scrape GETs /metrics and parses it as Prometheus does.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// value finds the sample of family name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if have[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

// scrapeUntil scrapes until cond holds: event-fed counters are updated by
// a goroutine of their own, a moment after the event.
func scrapeUntil(t *testing.T, addr, what string, cond func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		fams := scrape(t, addr)
		if cond(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s", what)
		}
		time.Sleep(20 * time.Millisecond) // poll interval while waiting for the metric
	}
}

// TestMetricsAfterReplication runs a listener and a replication through a
// Runner with [metrics] on, replicates for real and checks the scraped
// figures.
func TestMetricsAfterReplication(t *testing.T) {
	dir := t.TempDir()
	e, err := syncengine.New(syncengine.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Identities: tlsid.NewStore(dir+"/ids", tlsid.NewMemoryKeyStore())})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, name := range []string{"notes", "copy"} {
		if _, err := e.CreateDatabase(name); err != nil {
			t.Fatal(err)
		}
	}
	src, _ := e.OpenDatabase("copy")
	for i := range 5 {
		if _, err := src.DefaultCollection().Save(fmt.Sprintf("d%d", i), []byte(`{"n":`+strconv.Itoa(i)+`}`), syncengine.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	hash, _ := HashPassword("s3cret")
	pw := writeFile(t, filepath.Join(dir, "pw"), "s3cret\n")
	rn := NewRunner(e)
	defer rn.Stop()
	cfg := &Config{Metrics: MetricsConfig{Address: ":0"},
		Listeners: []ListenerConfig{{Name: "lan", Database: "notes", Interface: "127.0.0.1", TLS: "off",
			Users: []UserHash{{Name: "alice", PasswordHash: hash}}}}}
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	addr := rn.MetricsAddress()
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Fatalf("metrics on %q, want loopback", addr)
	}
	port := rn.Listener("lan").Port()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	cfg.Replications = []ReplicationConfig{
		{Name: "office", Database: "copy", Target: fmt.Sprintf("ws://127.0.0.1:%d/notes", port), Type: "push",
			AutoStart: true, User: "alice", PasswordFile: pw},
		{Name: "broken", Database: "copy", Target: "ws://" + closed + "/notes", Continuous: true, AutoStart: true},
	}
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := rn.Replicator("office").Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// A wrong password, refused by the listener.
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/notes/", port), nil)
	req.SetBasicAuth("alice", "guess")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	fams := scrapeUntil(t, addr, "the refusal and the retry", func(f map[string]*dto.MetricFamily) bool {
		refused, _ := value(f, "peersync_listener_refused_connections_total", "listener", "lan", "reason", "bad_password")
		retries, _ := value(f, "peersync_replication_retries_total", "replication", "broken")
		return refused == 1 && retries >= 1
	})
	checks := []struct {
		name   string
		labels []string
		ok     func(float64) bool
	}{
		{"peersync_replication_documents_total", []string{"replication", "office", "direction", "push"}, func(v float64) bool { return v == 5 }},
		{"peersync_replication_documents_total", []string{"replication", "office", "direction", "pull"}, func(v float64) bool { return v == 0 }},
		{"peersync_replication_wire_bytes_total", []string{"replication", "office", "direction", "sent"}, func(v float64) bool { return v > 100 }},
		{"peersync_replication_wire_bytes_total", []string{"replication", "office", "direction", "received"}, func(v float64) bool { return v > 0 }},
		{"peersync_replication_delta_bytes_saved_total", []string{"replication", "office"}, func(v float64) bool { return v == 0 }},
		{"peersync_replication_pending_documents", []string{"replication", "office"}, func(v float64) bool { return v == 0 }},
		{"peersync_replication_activity", []string{"replication", "office", "activity", "stopped"}, func(v float64) bool { return v == 1 }},
		{"peersync_replication_lag_seconds", []string{"replication", "office"}, func(v float64) bool { return v >= 0 && v < 3600 }},
		{"peersync_replication_retries_total", []string{"replication", "office"}, func(v float64) bool { return v == 0 }},
		{"peersync_listener_refused_connections_total", []string{"listener", "lan", "reason", "unknown_database"}, func(v float64) bool { return v == 0 }},
		{"peersync_listener_connections", []string{"listener", "lan"}, func(v float64) bool { return v == 0 }},
		{"peersync_database_size_bytes", []string{"database", "notes"}, func(v float64) bool { return v > 0 }},
		{"peersync_database_documents", []string{"database", "notes"}, func(v float64) bool { return v == 5 }},
		{"peersync_database_conflicted_documents", []string{"database", "notes"}, func(v float64) bool { return v == 0 }},
	}
	for _, c := range checks {
		v, found := value(fams, c.name, c.labels...)
		if !found || !c.ok(v) {
			t.Errorf("%s%v = %v (found %v)", c.name, c.labels, v, found)
		}
	}

	// Off again: the address no longer answers.
	cfg.Metrics.Address = ""
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if rn.MetricsAddress() != "" {
		t.Error("metrics still on")
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("metrics still served after being turned off")
	}
}

func TestMetricsConfigRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), ConfigFileName)
	cfg := DefaultConfig()
	cfg.Metrics.Address = "9100"
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil || got.Metrics.Address != "9100" {
		t.Fatalf("loaded %+v, %v", got, err)
	}
}
