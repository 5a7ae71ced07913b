package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// workload is one replication to measure: n documents of about size bytes,
// pushed or pulled, over plain WebSocket or TLS.
type workload struct {
	n    int
	size int
	pull bool
	tls  bool
}

func (w workload) name() string {
	dir := "push"
	if w.pull {
		dir = "pull"
	}
	scheme := "ws"
	if w.tls {
		scheme = "wss"
	}
	return fmt.Sprintf("%s/%dkx%dKB/%s", dir, w.n/1000, w.size>>10, scheme)
}

// workloads are the figures: 1k, 10k and 100k × 1 KB both ways,
// 10 KB and 100 KB documents, and TLS against plain WebSocket.
var workloads = []workload{
	{n: 1_000, size: 1 << 10},
	{n: 1_000, size: 1 << 10, pull: true},
	{n: 10_000, size: 1 << 10},
	{n: 10_000, size: 1 << 10, pull: true},
	{n: 10_000, size: 1 << 10, tls: true},
	{n: 10_000, size: 1 << 10, pull: true, tls: true},
	{n: 100_000, size: 1 << 10},
	{n: 100_000, size: 1 << 10, pull: true},
	{n: 10_000, size: 10 << 10},
	{n: 10_000, size: 10 << 10, pull: true},
	{n: 1_000, size: 100 << 10},
	{n: 1_000, size: 100 << 10, pull: true},
}

// BenchmarkReplication runs each workload between two real peersync
// processes on 127.0.0.1, each with its own data directory on disk: a
// listener (`peersync listen`) and a one-shot replicator (`peersync
// replicate`). The time is the replicator's whole run, start to exit. Per
// process it reports CPU seconds and the peak resident memory, split into
// anonymous memory and file-backed pages (mostly the memory-mapped
// database), sampled from /proc.
//
// When SG_BIN names a Sync Gateway binary, each plain-WebSocket run is
// followed by the same work through Sync Gateway's own replicator, and the
// results add its docs/s and CPU seconds and PeerSync's speed-up over it
// ("x-sg"). Sync Gateway is left out of the TLS workloads, which would need
// a certificate it trusts.
func BenchmarkReplication(b *testing.B) {
	bin := buildPeersync(b)
	sgBin := os.Getenv("SG_BIN")
	for _, w := range workloads {
		b.Run(w.name(), func(b *testing.B) {
			var m metrics
			for b.Loop() {
				m.add(runOnce(b, bin, w))
				if sgBin != "" && !w.tls {
					wall, cpu := runSyncGateway(b, sgBin, w)
					m.sgWall += wall
					m.sgCPU += cpu
				}
			}
			m.report(b, w)
		})
	}
}

// metrics sums what the runs of one workload measured.
type metrics struct {
	runs          int
	wall          time.Duration
	repl, listen  procStats
	sgWall, sgCPU time.Duration // zero unless Sync Gateway ran too
}

func (m *metrics) add(wall time.Duration, repl, listen procStats) {
	m.runs++
	m.wall += wall
	m.repl = m.repl.sum(repl)
	m.listen = m.listen.sum(listen)
}

func (m *metrics) report(b *testing.B, w workload) {
	runs := float64(m.runs)
	secs := m.wall.Seconds() / runs
	b.ReportMetric(float64(w.n)/secs, "docs/s")
	b.ReportMetric(float64(w.n*w.size)/secs/1e6, "MB/s")
	b.ReportMetric((m.repl.cpu+m.listen.cpu).Seconds()/runs, "cpu-s")
	b.ReportMetric(m.repl.cpu.Seconds()/runs, "repl-cpu-s")
	b.ReportMetric(m.listen.cpu.Seconds()/runs, "listen-cpu-s")
	for _, p := range []struct {
		who string
		s   procStats
	}{{"repl", m.repl}, {"listen", m.listen}} {
		b.ReportMetric(float64(p.s.peakRSS)/runs/(1<<20), p.who+"-rss-MB")
		b.ReportMetric(float64(p.s.peakAnon)/runs/(1<<20), p.who+"-anon-MB")
		b.ReportMetric(float64(p.s.peakFile)/runs/(1<<20), p.who+"-file-MB")
	}
	if m.sgWall > 0 {
		sgSecs := m.sgWall.Seconds() / runs
		b.ReportMetric(float64(w.n)/sgSecs, "sg-docs/s")
		b.ReportMetric(m.sgCPU.Seconds()/runs, "sg-cpu-s")
		b.ReportMetric(sgSecs/secs, "x-sg")
	}
	// ns/op is the replicator's wall time alone, without the preparation.
	b.ReportMetric(float64(m.wall.Nanoseconds())/runs, "ns/op")
}

// procStats is what one process used: CPU time (user + system) and the
// peaks of its resident memory as `ps` shows it, of its anonymous part and
// of its file-backed part.
type procStats struct {
	cpu                         time.Duration
	peakRSS, peakAnon, peakFile uint64
}

func (a procStats) sum(b procStats) procStats {
	return procStats{a.cpu + b.cpu, a.peakRSS + b.peakRSS, a.peakAnon + b.peakAnon, a.peakFile + b.peakFile}
}

// runOnce prepares two fresh databases, fills the sending one (not timed),
// and times one replication between two processes.
func runOnce(b *testing.B, bin string, w workload) (time.Duration, procStats, procStats) {
	replDir, listenDir := b.TempDir(), b.TempDir()
	for _, dir := range []string{replDir, listenDir} {
		run(b, bin, dir, "db", "create", "bench")
	}
	source := replDir
	if w.pull {
		source = listenDir
	}
	docs := filepath.Join(b.TempDir(), "docs.jsonl")
	writeDocs(b, docs, w.n, w.size)
	run(b, bin, source, "import", "--db", "bench", docs)

	tlsMode := "off"
	if w.tls {
		tlsMode = "anonymous"
	}
	listen := exec.Command(bin, "--data-dir", listenDir, "listen", "--db", "bench", "--interface", "127.0.0.1", "--tls", tlsMode)
	out, err := listen.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	listen.Stderr = os.Stderr
	if err := listen.Start(); err != nil {
		b.Fatal(err)
	}
	listenMem := sampleMemory(listen.Process.Pid)
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		listen.Process.Kill()
		listen.Wait()
		b.Fatalf("listener printed no URL")
	}
	target := strings.TrimSpace(lines.Text())
	go func() { // keep draining the status lines
		for lines.Scan() {
		}
	}()

	typ := "push"
	if w.pull {
		typ = "pull"
	}
	args := []string{"--data-dir", replDir, "replicate", "--db", "bench", "--target", target, "--type", typ}
	if w.tls {
		args = append(args, "--accept-self-signed")
	}
	repl := exec.Command(bin, args...)
	var replOut bytes.Buffer
	repl.Stdout, repl.Stderr = &replOut, &replOut
	start := time.Now()
	if err := repl.Start(); err != nil {
		b.Fatal(err)
	}
	replMem := sampleMemory(repl.Process.Pid)
	err = repl.Wait()
	wall := time.Since(start)
	replPeak := replMem()
	if err != nil {
		b.Fatalf("replicate: %v\n%s", err, replOut.String())
	}
	listen.Process.Signal(syscall.SIGTERM)
	listenPeak := listenMem()
	if err := listen.Wait(); err != nil {
		b.Fatalf("listener: %v", err)
	}

	dest := listenDir
	if w.pull {
		dest = replDir
	}
	if got := docCount(b, bin, dest); got != w.n {
		b.Fatalf("the receiving database holds %d documents, want %d", got, w.n)
	}
	return wall, withUsage(replPeak, repl.ProcessState), withUsage(listenPeak, listen.ProcessState)
}

func withUsage(s procStats, ps *os.ProcessState) procStats {
	s.cpu = ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		s.peakRSS = max(s.peakRSS, uint64(ru.Maxrss)*1024)
	}
	return s
}

// sampleMemory polls /proc/PID/status until the returned function is
// called (after the process has exited or been signalled) and returns the
// peaks it saw. Polling misses short spikes; the total peak is corrected
// from the kernel's own high-water mark (rusage) in withUsage.
func sampleMemory(pid int) func() procStats {
	done := make(chan struct{})
	var (
		mu   sync.Mutex
		peak procStats
	)
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			anon, file, hwm, ok := readStatus(pid)
			if ok {
				mu.Lock()
				peak.peakAnon = max(peak.peakAnon, anon)
				peak.peakFile = max(peak.peakFile, file)
				peak.peakRSS = max(peak.peakRSS, hwm)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() procStats {
		close(done)
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// readStatus reads RssAnon, RssFile and VmHWM (bytes) of a process.
func readStatus(pid int) (anon, file, hwm uint64, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		var kb uint64
		switch {
		case strings.HasPrefix(line, "RssAnon:"):
			fmt.Sscanf(line[len("RssAnon:"):], "%d", &kb)
			anon = kb << 10
		case strings.HasPrefix(line, "RssFile:"):
			fmt.Sscanf(line[len("RssFile:"):], "%d", &kb)
			file = kb << 10
		case strings.HasPrefix(line, "VmHWM:"):
			fmt.Sscanf(line[len("VmHWM:"):], "%d", &kb)
			hwm = kb << 10
		}
	}
	return anon, file, hwm, true
}

// writeDocs writes n JSON lines of about size bytes each.
func writeDocs(b *testing.B, path string, n, size int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	filler := strings.Repeat("lorem ipsum ", size/12+1)[:max(size-48, 1)]
	for i := range n {
		fmt.Fprintf(w, `{"_id":"doc-%07d","n":%d,"text":%q}`+"\n", i, i, filler)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func docCount(b *testing.B, bin, dir string) int {
	out := run(b, bin, dir, "db", "info", "bench", "--json")
	var info struct{ DocumentCount int }
	if err := json.Unmarshal(out, &info); err != nil {
		b.Fatalf("db info: %v\n%s", err, out)
	}
	return info.DocumentCount
}

func run(b *testing.B, bin, dir string, args ...string) []byte {
	cmd := exec.Command(bin, append([]string{"--data-dir", dir}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("peersync %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildPeersync builds the headless binary (the same engine as the desktop
// app, without cgo) once per test process.
func buildPeersync(b *testing.B) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "peersync-bench-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "peersync")
		cmd := exec.Command("go", "build", "-tags", "headless", "-o", binPath, "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}
