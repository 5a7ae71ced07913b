package discovery

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Helper processes: a test runs announcers and browsers inside a namespace
// by starting this test binary there with `ip netns exec`, so every socket
// they open lives in that namespace. The test talks to a helper with JSON
// lines: commands on stdin, replies and events on stdout.

const (
	helperRoleEnv   = "PEERSYNC_DISCOVERY_HELPER"
	helperConfigEnv = "PEERSYNC_DISCOVERY_HELPER_CONFIG"
	roleAnnounce    = "announce"
	roleBrowse      = "browse"
)

// browseConfig is the browser helper's configuration.
type browseConfig struct {
	Iface         string
	QueryInterval time.Duration
	LostAfter     time.Duration
	IgnorePeerID  string
}

type helperCommand struct {
	Op       string // announce, stop, manual, remove, peers
	Service  Service
	Iface    string
	Index    int
	Host     string
	Port     int
	Database string
	TLS      bool
	Key      string
}

type helperMessage struct {
	Type  string // ready, reply, event
	Error string `json:",omitempty"`
	Index int    `json:",omitempty"`
	Event *Event `json:",omitempty"`
	Peer  *Peer  `json:",omitempty"`
	Peers []Peer `json:",omitempty"`
}

// ---- inside the namespace ----

func runHelper(role string) int {
	out := &helperOutput{enc: json.NewEncoder(os.Stdout)}
	var err error
	switch role {
	case roleAnnounce:
		err = runAnnounceHelper(os.Stdin, out)
	case roleBrowse:
		err = runBrowseHelper(os.Stdin, out)
	default:
		err = fmt.Errorf("unknown helper role %q", role)
	}
	if err == nil {
		err = goleak.Find()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}

type helperOutput struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (o *helperOutput) send(m helperMessage) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.enc.Encode(m)
}

func (o *helperOutput) reply(m helperMessage, err error) {
	m.Type = "reply"
	if err != nil {
		m.Error = err.Error()
	}
	o.send(m)
}

func lookupIface(name string) (*net.Interface, error) {
	if name == "" {
		return nil, nil
	}
	return net.InterfaceByName(name)
}

func runAnnounceHelper(in io.Reader, out *helperOutput) error {
	var announcers []*Announcer
	defer func() {
		for _, a := range announcers {
			a.Stop()
		}
	}()
	out.send(helperMessage{Type: "ready"})
	dec := json.NewDecoder(in)
	for {
		var cmd helperCommand
		if err := dec.Decode(&cmd); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		switch cmd.Op {
		case "announce":
			iface, err := lookupIface(cmd.Iface)
			if err != nil {
				out.reply(helperMessage{}, err)
				continue
			}
			a, err := Announce(cmd.Service, AnnounceOptions{Interface: iface})
			if err == nil {
				announcers = append(announcers, a)
			}
			out.reply(helperMessage{Index: len(announcers) - 1}, err)
		case "stop":
			if cmd.Index < 0 || cmd.Index >= len(announcers) {
				out.reply(helperMessage{}, fmt.Errorf("no announcer %d", cmd.Index))
				continue
			}
			out.reply(helperMessage{}, announcers[cmd.Index].Stop())
		default:
			out.reply(helperMessage{}, fmt.Errorf("unknown op %q", cmd.Op))
		}
	}
}

func runBrowseHelper(in io.Reader, out *helperOutput) error {
	var cfg browseConfig
	if err := json.Unmarshal([]byte(os.Getenv(helperConfigEnv)), &cfg); err != nil {
		return err
	}
	iface, err := lookupIface(cfg.Iface)
	if err != nil {
		return err
	}
	b := NewBrowser(BrowserOptions{
		Interface:     iface,
		QueryInterval: cfg.QueryInterval,
		LostAfter:     cfg.LostAfter,
		IgnorePeerID:  cfg.IgnorePeerID,
	})
	events, _ := b.Subscribe()
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		for ev := range events {
			out.send(helperMessage{Type: "event", Event: &ev})
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := b.Start(ctx); err != nil {
		return err
	}
	out.send(helperMessage{Type: "ready"})

	dec := json.NewDecoder(in)
	for {
		var cmd helperCommand
		if err := dec.Decode(&cmd); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		switch cmd.Op {
		case "manual":
			p, err := b.AddManual(cmd.Host, cmd.Port, cmd.Database, cmd.TLS)
			out.reply(helperMessage{Peer: &p}, err)
		case "remove":
			b.RemoveManual(cmd.Key)
			out.reply(helperMessage{}, nil)
		case "peers":
			out.reply(helperMessage{Peers: b.Peers()}, nil)
		default:
			out.reply(helperMessage{}, fmt.Errorf("unknown op %q", cmd.Op))
		}
	}
	b.Stop() // closes the subscription, which ends the pump
	<-pumped
	if n := b.DroppedEvents(); n > 0 {
		return fmt.Errorf("browser dropped %d events for a subscriber that keeps up", n)
	}
	return nil
}

// ---- in the test ----

// helperProc is a running helper seen from the test.
type helperProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	enc     *json.Encoder
	replies chan helperMessage
	events  chan Event
	stderr  lockedBuffer
	done    chan struct{}
}

// startHelper runs a helper of the given role inside namespace ns and waits
// until it is ready. It is stopped, and its exit status checked, at cleanup.
func startHelper(t *testing.T, ns, role string, config any) *helperProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	h := &helperProc{
		t:       t,
		replies: make(chan helperMessage, 16),
		events:  make(chan Event, 1024),
		done:    make(chan struct{}),
	}
	h.cmd = exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^$")
	h.cmd.Env = append(os.Environ(), helperRoleEnv+"="+role, helperConfigEnv+"="+string(cfg))
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
		t.Fatalf("start %s helper: %v", role, err)
	}
	go h.read(stdout)
	t.Cleanup(h.close)

	select {
	case m := <-h.replies:
		if m.Type != "ready" {
			t.Fatalf("%s helper: want ready, got %+v", role, m)
		}
	case <-h.done:
		t.Fatalf("%s helper exited early: %s", role, h.stderr.String())
	case <-time.After(2 * time.Minute): // only a guard: starting may be slow under load
		t.Fatalf("%s helper not ready after 2 minutes: %s", role, h.stderr.String())
	}
	return h
}

func (h *helperProc) read(stdout io.Reader) {
	defer close(h.done)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var m helperMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			h.stderr.WriteString("bad helper output: " + sc.Text() + "\n")
			continue
		}
		if m.Type == "event" && m.Event != nil {
			h.events <- *m.Event
			continue
		}
		h.replies <- m
	}
}

// close ends the helper by closing its stdin and checks it exited cleanly
// (it checks itself for leaked goroutines).
func (h *helperProc) close() {
	h.stdin.Close()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.cmd.Process.Kill()
		<-h.done
		h.t.Errorf("helper did not exit within 10s; killed")
	}
	if err := h.cmd.Wait(); err != nil {
		h.t.Errorf("helper failed: %v\n%s", err, h.stderr.String())
	}
}

// request sends a command and returns the reply, failing the test on error.
func (h *helperProc) request(cmd helperCommand) helperMessage {
	h.t.Helper()
	if err := h.enc.Encode(cmd); err != nil {
		h.t.Fatalf("send %s: %v", cmd.Op, err)
	}
	select {
	case m := <-h.replies:
		if m.Error != "" {
			h.t.Fatalf("%s: %s", cmd.Op, m.Error)
		}
		return m
	case <-h.done:
		h.t.Fatalf("helper exited during %s: %s", cmd.Op, h.stderr.String())
	case <-time.After(2 * time.Minute): // only a guard
		h.t.Fatalf("no reply to %s after 2 minutes", cmd.Op)
	}
	return helperMessage{}
}

// waitEvent returns the first event that matches. goal is how soon it
// should come: a later event is logged, and only one that has not come
// within ten times the goal fails the test (a loaded machine must not
// fail it; docs/benchmarks.md has the measured figures). Events that do
// not match are passed to seen, if given.
func (h *helperProc) waitEvent(goal time.Duration, what string, match func(Event) bool, seen func(Event)) Event {
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
			if seen != nil {
				seen(ev)
			}
		case <-deadline:
			h.t.Fatalf("no %s within %v (10 times the %v goal)", what, 10*goal, goal)
			return Event{}
		}
	}
}

// collectEvents gathers the events that arrive during d.
func (h *helperProc) collectEvents(d time.Duration) []Event {
	var out []Event
	deadline := time.After(d)
	for {
		select {
		case ev := <-h.events:
			out = append(out, ev)
		case <-deadline:
			return out
		}
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

func (b *lockedBuffer) WriteString(s string) {
	b.Write([]byte(s))
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
