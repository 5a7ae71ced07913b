package service

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"peersync/syncengine"
)

// historyPeer serves a new database "desk" of a second engine on 127.0.0.1
// without TLS until the test ends, and returns its URL.
func historyPeer(t *testing.T) string {
	t.Helper()
	peer, err := syncengine.New(syncengine.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	db, err := peer.CreateDatabase("desk")
	if err != nil {
		t.Fatal(err)
	}
	l, err := peer.NewListener(syncengine.ListenerConfig{Database: db, DisableTLS: true, NetworkInterface: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l.URLs()[0]
}

// openRunner opens an engine over dir and a runner on it; stop closes both,
// as an app that quits does.
func openRunner(t *testing.T, dir string) (rn *Runner, stop func()) {
	t.Helper()
	e, err := syncengine.New(syncengine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rn = NewRunner(e)
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			rn.Stop()
			e.Close()
		}
	}
	t.Cleanup(stop)
	return rn, stop
}

func saveDocs(t *testing.T, e *syncengine.Engine, db string, from, n int) {
	t.Helper()
	d, err := e.OpenDatabase(db)
	if err != nil {
		d, err = e.CreateDatabase(db)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		if _, err := d.DefaultCollection().Save(fmt.Sprintf("doc-%04d", i), []byte(fmt.Sprintf(`{"n":%d}`, i)), syncengine.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitRun waits until the run the runner started last of name has ended
// and its end is recorded.
func waitRun(t *testing.T, rn *Runner, name string) {
	t.Helper()
	rn.mu.Lock()
	cur := rn.repls[name]
	rn.mu.Unlock()
	if cur == nil {
		t.Fatalf("replication %q has not started", name)
	}
	select {
	case <-cur.run.Done():
	case <-time.After(2 * time.Minute): // only stops a hung test
		t.Fatalf("replication %q did not end", name)
	}
}

func reportOf(t *testing.T, rn *Runner, name string) ReplicationReport {
	t.Helper()
	for _, r := range rn.Status().Replications {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("status lists no replication %q: %+v", name, rn.Status().Replications)
	return ReplicationReport{}
}

// A one-shot replication that completed still shows as completed, with its
// time and totals, after the runner and engine are replaced by new ones
// over the same data directory; before its first run it shows never run,
// and a second run adds to the totals.
func TestLastRunSurvivesARestart(t *testing.T) {
	target := historyPeer(t)
	dir := t.TempDir()
	cfg := &Config{Replications: []ReplicationConfig{{Name: "to-desk", Database: "notes", Target: target, Type: TypePush}}}

	rn, stop := openRunner(t, dir)
	saveDocs(t, rn.Engine(), "notes", 0, 120)
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	before := reportOf(t, rn, "to-desk")
	if before.History.LastRun != nil || before.Activity != "stopped" || before.History.Summary(time.Now()) != "Never run" {
		t.Errorf("before any run: %+v, summary %q; want never run", before, before.History.Summary(time.Now()))
	}
	start := time.Now()
	if err := rn.StartReplication("to-desk", false); err != nil {
		t.Fatal(err)
	}
	waitRun(t, rn, "to-desk")
	stop()

	rn, stop = openRunner(t, dir)
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	got := reportOf(t, rn, "to-desk")
	h := got.History
	if h.LastRun == nil || h.LastRun.Outcome != OutcomeCompleted || h.LastRun.Pushed != 120 || h.LastRun.Error != "" {
		t.Fatalf("after a restart the last run is %+v, want completed with 120 pushed", h.LastRun)
	}
	if h.LastRun.Ended.Before(start) || h.LastRun.Ended.After(time.Now()) || !h.LastSynced.Equal(h.LastRun.Ended) {
		t.Errorf("ended %v, last synced %v: want the time it completed, after %v", h.LastRun.Ended, h.LastSynced, start)
	}
	if h.Totals.Pushed != 120 || h.Totals.BytesSent == 0 {
		t.Errorf("totals %+v, want 120 pushed and some bytes sent", h.Totals)
	}
	if s := h.Summary(h.LastRun.Ended.Add(3 * time.Minute)); s != "Last synced 3 min ago · completed · 120 pushed · 0 pulled" {
		t.Errorf("summary %q", s)
	}

	// A second run counts its own documents and adds them to the totals.
	saveDocs(t, rn.Engine(), "notes", 120, 30)
	if err := rn.StartReplication("to-desk", false); err != nil {
		t.Fatal(err)
	}
	waitRun(t, rn, "to-desk")
	stop()
	h, err := LoadRunHistory(dir, "to-desk")
	if err != nil || h.LastRun.Outcome != OutcomeCompleted || h.LastRun.Pushed != 30 || h.Totals.Pushed != 150 {
		t.Errorf("after a second run: %+v, totals %+v (%v); want 30 pushed this run, 150 in all", h.LastRun, h.Totals, err)
	}
}

// A run that fails keeps its error across a restart; a continuous one
// stopped by hand reads as stopped, caught up until then.
func TestFailedAndStoppedRunsSurviveARestart(t *testing.T) {
	target := historyPeer(t)
	nowhere := strings.TrimSuffix(target, "desk") + "nowhere" // a database the peer does not have
	dir := t.TempDir()
	cfg := &Config{Replications: []ReplicationConfig{
		{Name: "lost", Database: "notes", Target: nowhere, Type: TypePush, AutoStart: true},
		{Name: "live", Database: "notes", Target: target, Type: TypePush, Continuous: true, AutoStart: true},
	}}
	rn, stop := openRunner(t, dir)
	saveDocs(t, rn.Engine(), "notes", 0, 5)
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	waitRun(t, rn, "lost")
	live := rn.Replicator("live")
	sub := rn.Engine().Subscribe(1024)
	defer sub.Close()
	for st := live.Status(); st.Activity != syncengine.Idle || st.Pushed < 5; {
		if ev, ok := (<-sub.C).(syncengine.ReplicatorStatusChanged); ok && ev.ID == live.ID() {
			st = ev.Status
		}
	}
	rn.StopReplication("live")
	stop()

	rn, _ = openRunner(t, dir)
	cfg.Replications[0].AutoStart, cfg.Replications[1].AutoStart = false, false
	if err := rn.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	lost := reportOf(t, rn, "lost").History
	if lost.LastRun == nil || lost.LastRun.Outcome != OutcomeFailed || lost.LastRun.Error == "" || !lost.LastSynced.IsZero() {
		t.Errorf("failed run after a restart: %+v, last synced %v; want failed with its error, never synced", lost.LastRun, lost.LastSynced)
	} else if s := lost.LastRunText(lost.LastRun.Ended); !strings.HasPrefix(s, "failed just now · 0 pushed · 0 pulled: ") {
		t.Errorf("failed run reads %q", s)
	}
	h := reportOf(t, rn, "live").History
	if h.LastRun == nil || h.LastRun.Outcome != OutcomeStopped || h.LastRun.Pushed != 5 || h.LastSynced.IsZero() {
		t.Errorf("stopped continuous run after a restart: %+v, last synced %v; want stopped, 5 pushed, synced", h.LastRun, h.LastSynced)
	}
}

// A missing, damaged or half-written record reads as never run, without a
// crash; a run a crash cut short reads as interrupted.
func TestDamagedRunHistoryReadsAsNeverRun(t *testing.T) {
	dir := t.TempDir()
	if h, err := LoadRunHistory(dir, "x"); err != nil || h.LastRun != nil {
		t.Errorf("absent: %+v, %v", h, err)
	}
	path := runPath(dir, "x")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "{", `{"version":1,"name":"y","history":{"last_run":{"outcome":"completed"}}}`, "\x00\x01garbage"} {
		os.WriteFile(path, []byte(bad), 0o600)
		if h, err := LoadRunHistory(dir, "x"); err == nil || h.LastRun != nil {
			t.Errorf("damaged %q: %+v, %v; want never run and an error", bad, h, err)
		}
	}
	started := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := saveRunHistory(dir, "x", RunHistory{LastRun: &LastRun{Outcome: OutcomeRunning, Started: started}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path+".tmp", []byte(`{"version":1,"na`), 0o600) // a write a crash cut short
	h, err := LoadRunHistory(dir, "x")
	if err != nil || h.LastRun == nil || h.LastRun.Outcome != OutcomeInterrupted || !h.LastRun.Started.Equal(started) {
		t.Errorf("a run recorded as running: %+v, %v; want interrupted", h.LastRun, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("record mode: %v, %v; want 0600", fi.Mode(), err)
	}
	if err := RenameRunHistory(dir, "x", "z/y"); err != nil {
		t.Fatal(err)
	}
	if h, _ := LoadRunHistory(dir, "x"); h.LastRun != nil {
		t.Error("the old name still has a history after a rename")
	}
	if h, _ := LoadRunHistory(dir, "z/y"); h.LastRun == nil {
		t.Error("the new name has no history after a rename")
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 16384: "16.0 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestThousandsAndAgo(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 2000: "2,000", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
	now := time.Now()
	for d, want := range map[time.Duration]string{10 * time.Second: "just now", 3 * time.Minute: "3 min ago", 5 * time.Hour: "5 h ago", 96 * time.Hour: "4 days ago"} {
		if got := Ago(now.Add(-d), now); got != want {
			t.Errorf("Ago(%v) = %q, want %q", d, got, want)
		}
	}
}
