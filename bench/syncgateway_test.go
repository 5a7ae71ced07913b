package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runSyncGateway does workload w through Sync Gateway's own replicator
// (ISGR) between two databases of one Sync Gateway process bound to
// 127.0.0.1, its buckets in memory (walrus), and returns the
// replication's wall time and the CPU time Sync Gateway spent on it. bin is
// a Sync Gateway binary built elsewhere (SG_BIN): nothing here builds or
// fetches one.
func runSyncGateway(b *testing.B, bin string, w workload) (time.Duration, time.Duration) {
	sg := startSyncGateway(b, bin)
	defer sg.stop()
	sg.fill(b, "src", w.n, w.size)
	wall, cpu := sg.replicate(b, w)
	if got := sg.docCount(b, "dst"); got != w.n {
		b.Fatalf("Sync Gateway's destination holds %d documents, want %d", got, w.n)
	}
	return wall, cpu
}

type syncGateway struct {
	cmd           *exec.Cmd
	public, admin string
	log           bytes.Buffer
	client        *http.Client
}

func freePort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startSyncGateway(b *testing.B, bin string) *syncGateway {
	dir := b.TempDir()
	pub, adm, met := freePort(b), freePort(b), freePort(b)
	db := func(name string) map[string]any {
		return map[string]any{
			"server": "walrus:", "bucket": name, "enable_shared_bucket_access": true,
			"users": map[string]any{"bench": map[string]any{"password": "bench-pass", "admin_channels": []string{"*"}}},
		}
	}
	cfg, _ := json.Marshal(map[string]any{
		"disable_persistent_config": true,
		"interface":                 fmt.Sprintf("127.0.0.1:%d", pub),
		"adminInterface":            fmt.Sprintf("127.0.0.1:%d", adm),
		"metricsInterface":          fmt.Sprintf("127.0.0.1:%d", met),
		// Sync Gateway 4 asks for credentials on its admin API by default,
		// and walrus buckets have no users to check them against.
		"admin_interface_authentication":   false,
		"metrics_interface_authentication": false,
		"logging":                          map[string]any{"console": map[string]any{"log_level": "warn"}},
		"databases":                        map[string]any{"src": db("src"), "dst": db("dst")},
	})
	path := filepath.Join(dir, "sg.json")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	sg := &syncGateway{
		public: fmt.Sprintf("http://127.0.0.1:%d", pub),
		admin:  fmt.Sprintf("http://127.0.0.1:%d", adm),
		client: &http.Client{Timeout: time.Minute},
	}
	sg.cmd = exec.Command(bin, path)
	sg.cmd.Stdout, sg.cmd.Stderr = &sg.log, &sg.log
	if err := sg.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// Ready when both databases answer on the admin port.
	deadline := time.Now().Add(2 * time.Minute)
	for _, name := range []string{"src", "dst"} {
		for {
			resp, err := sg.client.Get(sg.admin + "/" + name + "/")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				sg.cmd.Process.Kill()
				sg.cmd.Wait()
				b.Fatalf("Sync Gateway did not come up:\n%s", sg.log.String())
			}
			time.Sleep(50 * time.Millisecond) // poll interval while waiting for readiness
		}
	}
	return sg
}

func (sg *syncGateway) do(b *testing.B, method, url string, body any) []byte {
	var in io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		in = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, url, in)
	req.Header.Set("Content-Type", "application/json")
	resp, err := sg.client.Do(req)
	if err != nil {
		b.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		b.Fatalf("%s %s: %s: %s", method, url, resp.Status, out)
	}
	return out
}

// fill writes n documents of about size bytes into db through the admin
// API, in a named channel (Sync Gateway lists documents of channel "*"
// twice in its changes feed).
func (sg *syncGateway) fill(b *testing.B, db string, n, size int) {
	filler := strings.Repeat("lorem ipsum ", size/12+1)[:max(size-64, 1)]
	for start := 0; start < n; start += 1000 {
		var docs []map[string]any
		for i := start; i < min(start+1000, n); i++ {
			docs = append(docs, map[string]any{"_id": fmt.Sprintf("doc-%07d", i), "n": i, "text": filler, "channels": []string{"bench"}})
		}
		sg.do(b, http.MethodPost, sg.admin+"/"+db+"/_bulk_docs", map[string]any{"docs": docs})
	}
}

// replicate runs one one-shot ISGR replication from src to dst (a push
// from src, or a pull by dst) and returns its wall time and the CPU time
// Sync Gateway spent meanwhile.
func (sg *syncGateway) replicate(b *testing.B, w workload) (time.Duration, time.Duration) {
	local, remote, direction := "src", "dst", "push"
	if w.pull {
		local, remote, direction = "dst", "src", "pull"
	}
	u := strings.Replace(sg.public, "http://", "http://bench:bench-pass@", 1) + "/" + remote
	cpu0 := cpuTime(b, sg.cmd.Process.Pid)
	start := time.Now()
	sg.do(b, http.MethodPut, sg.admin+"/"+local+"/_replication/bench", map[string]any{
		"remote": u, "direction": direction, "continuous": false,
	})
	for {
		var st struct {
			Status       string `json:"status"`
			ErrorMessage string `json:"error_message"`
			DocsRead     int    `json:"docs_read"`    // pulled
			DocsWritten  int    `json:"docs_written"` // pushed
		}
		json.Unmarshal(sg.do(b, http.MethodGet, sg.admin+"/"+local+"/_replicationStatus/bench", nil), &st)
		if st.Status == "error" {
			b.Fatalf("Sync Gateway's replication failed: %s", st.ErrorMessage)
		}
		// A replication not yet started reads as stopped too: done is
		// stopped with every document moved.
		if st.Status == "stopped" && st.DocsRead+st.DocsWritten >= w.n {
			break
		}
		time.Sleep(20 * time.Millisecond) // poll interval: the figure's resolution
	}
	return time.Since(start), cpuTime(b, sg.cmd.Process.Pid) - cpu0
}

func (sg *syncGateway) docCount(b *testing.B, db string) int {
	var all struct {
		Rows []json.RawMessage `json:"rows"`
	}
	json.Unmarshal(sg.do(b, http.MethodGet, sg.admin+"/"+db+"/_all_docs", nil), &all)
	return len(all.Rows)
}

func (sg *syncGateway) stop() {
	sg.cmd.Process.Signal(os.Interrupt)
	sg.cmd.Wait()
}

// cpuTime reads a running process's user + system time from /proc.
func cpuTime(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start after ')'.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	var utime, stime int64
	fmt.Sscan(fields[11], &utime)
	fmt.Sscan(fields[12], &stime)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}
