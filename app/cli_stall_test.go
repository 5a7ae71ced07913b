package app

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"

	"peersync/syncengine/blip"
)

// stalledPeer serves database "db" on 127.0.0.1: it offers one revision
// and then neither sends it nor says "caught up", so a one-shot pull never
// finishes. Each pull's subscription is reported on the returned channel.
func stalledPeer(t *testing.T) (url string, subscribed <-chan struct{}) {
	t.Helper()
	var mu sync.Mutex
	var conns []*blip.Conn
	subs := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/_blipsync") {
			w.Write([]byte(`{"db_name":"db"}`))
			return
		}
		c, err := blip.Accept(w, r, blip.Options{})
		if err != nil {
			return
		}
		c.Handle("getCheckpoint", func(q *blip.Request) { q.RespondError("HTTP", 404, "missing") })
		c.Handle("setCheckpoint", func(q *blip.Request) { q.Respond(blip.Properties{"rev": "1-cc"}, nil) })
		c.Handle("subChanges", func(q *blip.Request) {
			q.Respond(nil, nil)
			// Offer one revision, then neither send it nor say "caught up".
			go c.Send(r.Context(), &blip.Message{Properties: blip.Properties{"Profile": "changes"},
				Body: []byte(`[[1,"d1","1-0123456789abcdef0123456789abcdef01234567"]]`)})
			select {
			case subs <- struct{}{}:
			default:
			}
		})
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		c.Start()
		<-c.Done()
	}))
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		srv.Close()
	})
	return strings.Replace(srv.URL, "http", "ws", 1) + "/db", subs
}

// TestCLIReplicateStopsWithoutProgress runs `peersync replicate` against a
// peer that offers a revision and never sends it: the one-shot pull must
// not hang but print one line and exit 1 after --no-progress-timeout.
func TestCLIReplicateStopsWithoutProgress(t *testing.T) {
	url, _ := stalledPeer(t)
	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "mine")
	out, errOut, code := cli(t, dir, "", "replicate", "--db", "mine", "--type", "pull",
		"--target", url, "--no-progress-timeout", "200ms")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "no progress") {
		t.Fatalf("stalled replicate: exit %d, stderr %q, stdout %q; want exit 1 and one line saying no progress", code, errOut, out)
	}
}

// TestCLIReplicateInterruptedExits130: Ctrl-C during a one-shot replicate
// used to exit 0, as if it had completed. It must stop cleanly (the summary
// printed after the replicator stopped) and exit 130, with no error line.
func TestCLIReplicateInterruptedExits130(t *testing.T) {
	url, subscribed := stalledPeer(t)
	dir := quietDataDir(t)
	cli(t, dir, "", "db", "create", "mine")
	cmd := selfMain(t, nil, "--data-dir", dir, "replicate", "--db", "mine", "--type", "pull", "--target", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	// The pull has subscribed: the command is replicating, its signal
	// handler in place.
	<-subscribed
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for sc := bufio.NewScanner(stdout); sc.Scan(); {
		lines = append(lines, sc.Text())
	}
	cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != 130 || stderr.Len() != 0 || len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "pushed 0, pulled 0") {
		t.Fatalf("replicate after SIGINT: exit %d, stdout %q, stderr %q; want exit 130, the summary and no error", code, lines, stderr.String())
	}
}

// TestReplicationProgressNeverGoesBack: the bar's share used to drop each
// time the peer announced more changes (20 of 100, then 20 of 200).
func TestReplicationProgressNeverGoesBack(t *testing.T) {
	var p progressShown
	steps := []struct {
		completed, total, want int64
	}{
		{0, 0, 0},
		{20, 100, 200},
		{20, 200, 200}, // the total doubled: hold still
		{30, 200, 200},
		{60, 200, 300}, // caught up: move on
		{60, 0, 300},   // an unknown total changes nothing
		{250, 200, progressScale},
		{200, 400, progressScale},
	}
	last := int64(0)
	for _, s := range steps {
		got := p.update(s.completed, s.total)
		if got != s.want || got < last {
			t.Errorf("update(%d, %d) = %d after %d, want %d", s.completed, s.total, got, last, s.want)
		}
		last = got
	}
}
