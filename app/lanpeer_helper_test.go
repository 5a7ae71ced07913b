package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"peersync/discovery"
	"peersync/syncengine"
)

// A LAN peer helper runs inside a namespace with a browser, an engine with
// a "notes" database and any announcements asked for. The test talks to it
// in JSON lines: commands on stdin; replies and browser events on stdout.

type lanCommand struct {
	Op          string // announce, put, push
	Service     discovery.Service
	IDs         []string
	URL         string
	Fingerprint string
}

type lanMessage struct {
	Type   string // ready, reply, event
	Error  string `json:",omitempty"`
	Event  *discovery.Event
	Pushed int64
	Pulled int64
	Total  int64 // revisions offered (push) and requested (pull)
}

func runLANPeer(dataDir string) int {
	// Package init (Fyne's, in the GUI build) may have started goroutines.
	baseline := goleak.IgnoreCurrent()
	if err := lanPeer(dataDir, os.Stdin, json.NewEncoder(os.Stdout)); err != nil {
		fmt.Fprintln(os.Stderr, "lan peer:", err)
		return 1
	}
	if err := goleak.Find(baseline); err != nil {
		fmt.Fprintln(os.Stderr, "lan peer:", err)
		return 1
	}
	return 0
}

func lanPeer(dataDir string, in io.Reader, enc *json.Encoder) error {
	var mu sync.Mutex
	send := func(m lanMessage) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(m)
	}
	e, err := syncengine.New(syncengine.Options{DataDir: dataDir})
	if err != nil {
		return err
	}
	defer e.Close()
	db, err := e.CreateDatabase("notes")
	if err != nil {
		return err
	}
	b := discovery.NewBrowser(discovery.BrowserOptions{QueryInterval: 500 * time.Millisecond})
	events, _ := b.Subscribe()
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		for ev := range events {
			send(lanMessage{Type: "event", Event: &ev})
		}
	}()
	if err := b.Start(context.Background()); err != nil {
		return err
	}
	var announcers []*discovery.Announcer
	defer func() {
		for _, a := range announcers {
			a.Stop()
		}
		b.Stop()
		<-pumped
	}()
	send(lanMessage{Type: "ready"})

	dec := json.NewDecoder(in)
	for {
		var cmd lanCommand
		if err := dec.Decode(&cmd); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		switch cmd.Op {
		case "announce":
			a, err := discovery.Announce(cmd.Service, discovery.AnnounceOptions{})
			if err == nil {
				announcers = append(announcers, a)
			}
			send(lanMessage{Type: "reply", Error: errText(err)})
		case "put":
			var err error
			for _, id := range cmd.IDs {
				if _, err = db.DefaultCollection().Save(id, []byte(`{"from":"b"}`), syncengine.SaveOptions{}); err != nil {
					break
				}
			}
			send(lanMessage{Type: "reply", Error: errText(err)})
		case "push":
			st, err := pushOnce(e, db, cmd.URL, cmd.Fingerprint)
			send(lanMessage{Type: "reply", Error: errText(err), Pushed: st.Pushed, Pulled: st.Pulled, Total: st.Progress.Total})
		default:
			send(lanMessage{Type: "reply", Error: "unknown op " + cmd.Op})
		}
	}
}

// pushOnce runs a one-shot push to url, pinning the announced certificate.
// A new replicator each time: only the checkpoint carries over.
func pushOnce(e *syncengine.Engine, db *syncengine.Database, url, fingerprint string) (syncengine.ReplicatorStatus, error) {
	r, err := e.NewReplicator(syncengine.ReplicatorConfig{Database: db, Target: url, Type: syncengine.Push,
		PinnedServerFingerprint: fingerprint, MaxAttempts: 1})
	if err != nil {
		return syncengine.ReplicatorStatus{}, err
	}
	r.Start(false)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = r.Wait(ctx)
	r.Stop()
	return r.Status(), err
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ---- in the test ----

// lanPeerProc is a running helper as the test sees it.
type lanPeerProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	enc     *json.Encoder
	replies chan lanMessage
	events  chan discovery.Event
	stderr  lockedBuffer
	done    chan struct{}
}

func startLANPeer(t *testing.T, ns string) *lanPeerProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := &lanPeerProc{t: t, replies: make(chan lanMessage, 16), events: make(chan discovery.Event, 1024), done: make(chan struct{})}
	h.cmd = exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^$")
	h.cmd.Env = append(os.Environ(), lanPeerEnv+"="+t.TempDir())
	h.cmd.Stderr = &h.stderr
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.enc = json.NewEncoder(h.stdin)
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go h.read(stdout)
	t.Cleanup(h.close)
	if m := h.next(waitLimit); m.Type != "ready" {
		t.Fatalf("lan peer: want ready, got %+v", m)
	}
	return h
}

func (h *lanPeerProc) read(stdout io.Reader) {
	defer close(h.done)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var m lanMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			h.stderr.Write([]byte("bad helper output: " + sc.Text() + "\n"))
			continue
		}
		if m.Type == "event" && m.Event != nil {
			h.events <- *m.Event
			continue
		}
		h.replies <- m
	}
}

func (h *lanPeerProc) next(timeout time.Duration) lanMessage {
	h.t.Helper()
	select {
	case m := <-h.replies:
		return m
	case <-h.done:
		h.t.Fatalf("lan peer exited: %s", h.stderr.String())
	case <-time.After(timeout):
		h.t.Fatalf("no reply from the lan peer within %v: %s", timeout, h.stderr.String())
	}
	return lanMessage{}
}

func (h *lanPeerProc) request(cmd lanCommand) lanMessage {
	h.t.Helper()
	if err := h.enc.Encode(cmd); err != nil {
		h.t.Fatal(err)
	}
	m := h.next(waitLimit)
	if m.Error != "" {
		h.t.Fatalf("%s: %s", cmd.Op, m.Error)
	}
	return m
}

// waitEvent returns the first event that matches. goal is how soon it
// should come: a later event is logged, and only one that has not come
// within ten times the goal fails the test (a loaded machine must not
// fail it).
func (h *lanPeerProc) waitEvent(goal time.Duration, what string, match func(discovery.Event) bool) discovery.Event {
	h.t.Helper()
	start := time.Now()
	deadline := time.After(10 * goal)
	for {
		select {
		case ev := <-h.events:
			if match(ev) {
				if took := time.Since(start); took > goal {
					h.t.Logf("%s took %v, over the %v goal", what, took.Round(time.Millisecond), goal)
				}
				return ev
			}
		case <-deadline:
			h.t.Fatalf("no %s within %v (10 times the %v goal)", what, 10*goal, goal)
			return discovery.Event{}
		}
	}
}

func (h *lanPeerProc) close() {
	h.stdin.Close()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.cmd.Process.Kill()
		<-h.done
		h.t.Errorf("lan peer did not exit within 10s; killed")
	}
	if err := h.cmd.Wait(); err != nil {
		h.t.Errorf("lan peer failed: %v\n%s", err, h.stderr.String())
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
