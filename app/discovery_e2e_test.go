package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"peersync/discovery"
	"peersync/discovery/netnstest"
	"peersync/internal/leaktest"
	"peersync/service"
)

// inProcess runs the CLI in this process (commands on a running
// instance's data directory are forwarded over its control socket, which
// works across network namespaces).
func inProcess(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &out)
	return out.String(), code
}

// inNamespace runs this test binary as `peersync args...` inside ns.
func inNamespace(t *testing.T, ns string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(args)
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), mainArgsEnv+"="+string(raw))
	return cmd
}

func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname()
}

// TestDiscoveryEndToEnd runs a headless PeerSync in namespace A that
// announces its listener, discovers it from namespace B, pushes to the
// discovered URL, moves A to a new address, and pushes again to the
// re-announced URL: the second push resumes from the checkpoint and offers
// and sends only the new documents. It also checks A's browser logs a peer
// that B announces (and not itself), `peersync peers` from B, and that a
// SIGHUP turning announce off makes B lose the peer.
func TestDiscoveryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	leaktest.Verify(t)
	lan := newTestLAN(t)
	started := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(started).Seconds(), what) }

	dataA := t.TempDir()
	if out, code := inProcess(t, "", "--data-dir", dataA, "db", "create", "notes"); code != 0 {
		t.Fatalf("db create: %s", out)
	}
	configA := filepath.Join(dataA, service.ConfigFileName)
	writeConfigA := func(announce bool) {
		text := "[discovery]\nname = \"alpha\"\nannounce = true\nbrowse = true\n" +
			"[[listener]]\nname = \"lan\"\ndatabase = \"notes\"\n"
		if announce {
			text += "announce = true\n"
		}
		if err := os.WriteFile(configA, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConfigA(true)

	var logsA lockedBuffer
	procA := inNamespace(t, lan.NsA, "--data-dir", dataA, "--headless", "--log-format", "json")
	procA.Stdout, procA.Stderr = &logsA, &logsA
	if err := procA.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			procA.Process.Kill()
			procA.Wait()
		}
	})
	var fingerprint string
	waitFor(t, "headless A to report its listener", logsA.String, func() bool {
		out, code := inProcess(t, "", "--data-dir", dataA, "status", "--json")
		var rep service.StatusReport
		if code == 0 && json.Unmarshal([]byte(out), &rep) == nil && len(rep.Listeners) == 1 {
			fingerprint = rep.Listeners[0].Fingerprint
		}
		return fingerprint != ""
	})
	step("headless A running")

	b := startLANPeer(t, lan.NsB)
	b.request(lanCommand{Op: "announce", Service: discovery.Service{PeerID: "6f1c9f0e-3b1a-4c55-9a43-0c2d1e7b8a91",
		Name: "beta", Database: "other", Port: 4984}})
	isAlpha := func(ev discovery.Event) bool { return ev.Peer.Name == "alpha" && ev.Peer.Database == "notes" }
	seen := b.waitEvent(5*time.Second, "alpha/notes seen from B", func(ev discovery.Event) bool {
		return ev.Kind == discovery.PeerSeen && isAlpha(ev)
	})
	step("B discovered A: " + seen.Peer.URL())
	if !seen.Peer.TLS || seen.Peer.Fingerprint != fingerprint {
		t.Errorf("discovered TLS %v fingerprint %q; want TLS with %q", seen.Peer.TLS, seen.Peer.Fingerprint, fingerprint)
	}
	if h := hostOf(t, seen.Peer.URL()); h != lanA4 {
		t.Fatalf("discovered URL %s; want host %s", seen.Peer.URL(), lanA4)
	}

	b.request(lanCommand{Op: "put", IDs: []string{"one", "two", "three"}})
	first := b.request(lanCommand{Op: "push", URL: seen.Peer.URL(), Fingerprint: seen.Peer.Fingerprint})
	step("first push done")
	if first.Pushed != 3 || first.Total != 3 {
		t.Fatalf("first push sent %d of %d offered; want 3 of 3", first.Pushed, first.Total)
	}
	if out, code := inProcess(t, "", "--data-dir", dataA, "doc", "get", "--db", "notes", "three"); code != 0 {
		t.Fatalf("A lacks a pushed document: %s", out)
	}

	b.request(lanCommand{Op: "put", IDs: []string{"four", "five"}})
	const movedA4 = "10.232.0.7"
	lan.MoveAddrA(t, lanA4, movedA4)
	moved := b.waitEvent(6*time.Second, "alpha/notes re-announced at the new address", func(ev discovery.Event) bool {
		return ev.Kind != discovery.PeerLost && isAlpha(ev) && hostOf(t, ev.Peer.URL()) == movedA4
	})
	step("B saw A move: " + moved.Peer.URL())

	second := b.request(lanCommand{Op: "push", URL: moved.Peer.URL(), Fingerprint: moved.Peer.Fingerprint})
	step("second push done")
	// Without the checkpoint all five would be offered (and three refused).
	if second.Pushed != 2 || second.Total != 2 {
		t.Errorf("second push sent %d of %d offered; want 2 of 2 (resumed from the checkpoint)", second.Pushed, second.Total)
	}
	if out, code := inProcess(t, "", "--data-dir", dataA, "doc", "get", "--db", "notes", "five"); code != 0 {
		t.Errorf("A lacks a document pushed after the move: %s", out)
	}

	// `peersync peers` in B lists A at its new address.
	cmd := inNamespace(t, lan.NsB, "--data-dir", t.TempDir(), "peers", "--json", "--timeout", "2s")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("peers --json: %v", err)
	}
	var listed []peerJSON
	if err := json.Unmarshal(out, &listed); err != nil {
		t.Fatalf("peers --json printed %q: %v", out, err)
	}
	found := false
	for _, p := range listed {
		if p.Name == "alpha" && p.Database == "notes" {
			found = true
			if p.URL != moved.Peer.URL() || !p.TLS || p.Fingerprint != fingerprint {
				t.Errorf("peers lists %+v; want %s with TLS and A's fingerprint", p, moved.Peer.URL())
			}
		}
	}
	if !found {
		t.Errorf("peers --json did not list alpha/notes: %s", out)
	}
	step("peers --json listed A")

	// `peersync peers --watch --json` prints A as seen, then stops on Ctrl-C.
	watch := inNamespace(t, lan.NsB, "--data-dir", t.TempDir(), "peers", "--watch", "--json")
	watchOut, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan peerJSON, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(watchOut)
		for sc.Scan() {
			var p peerJSON
			if json.Unmarshal(sc.Bytes(), &p) == nil {
				lines <- p
			}
		}
	}()
	timeout := time.After(waitLimit) // only a guard: the event comes or the test is broken
	for watching := true; watching; {
		select {
		case p := <-lines:
			watching = p.Event != "seen" || p.Name != "alpha" || p.URL != moved.Peer.URL()
		case <-timeout:
			watch.Process.Kill()
			t.Fatalf("peers --watch printed no seen event for alpha within %v", waitLimit)
		}
	}
	watch.Process.Signal(os.Interrupt)
	for range lines {
	}
	if err := watch.Wait(); err != nil {
		t.Errorf("peers --watch after Ctrl-C: %v; want exit status 0", err)
	}
	step("peers --watch saw A and stopped on SIGINT")

	// A's own browser logged B's peer and never itself.
	var sawBeta bool
	for _, line := range strings.Split(logsA.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["msg"] == "peer seen" && rec["level"] == "INFO" {
			switch rec["name"] {
			case "beta":
				sawBeta = true
			case "alpha":
				t.Errorf("A's browser reported its own announcement: %s", line)
			}
		}
	}
	if !sawBeta {
		t.Errorf("A never logged B's peer at info level; logs:\n%s", logsA.String())
	}

	// SIGHUP with announce off for the listener: A withdraws it, B loses it.
	writeConfigA(false)
	procA.Process.Signal(syscall.SIGHUP)
	b.waitEvent(8*time.Second, "alpha/notes lost after the listener stopped being announced", func(ev discovery.Event) bool {
		return ev.Kind == discovery.PeerLost && isAlpha(ev)
	})
	step("B lost A after SIGHUP")

	procA.Process.Signal(syscall.SIGTERM)
	stopped = true
	if err := procA.Wait(); err != nil {
		t.Errorf("headless A exit: %v\n%s", err, logsA.String())
	}
}

// TestPeersWithoutNetwork checks `peersync peers` explains in one line why
// it cannot browse in a namespace with no interface up.
func TestPeersWithoutNetwork(t *testing.T) {
	ns := netnstest.Empty(t, "psapp")
	cmd := inNamespace(t, ns, "--data-dir", t.TempDir(), "peers", "--timeout", "1s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v; want status 1 (stdout %q, stderr %q)", err, stdout.String(), stderr.String())
	}
	// Only our own lines count: the GUI build's Fyne may complain about the
	// locale at start-up.
	var ours []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(line, "peersync") {
			ours = append(ours, line)
		}
	}
	want := "peersync: cannot browse the local network: no network interface that can multicast is up"
	if len(ours) != 1 || ours[0] != want {
		t.Errorf("stderr = %q; want the one line %q", stderr.String(), want)
	}
}

// TestHeadlessNoAnnounceNoBrowse checks the flags win over a configuration
// that turns discovery on: the listener runs but B never sees it, and A
// neither announces nor browses.
func TestHeadlessNoAnnounceNoBrowse(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	leaktest.Verify(t)
	lan := newTestLAN(t)
	dataA := t.TempDir()
	if out, code := inProcess(t, "", "--data-dir", dataA, "db", "create", "notes"); code != 0 {
		t.Fatalf("db create: %s", out)
	}
	config := "[discovery]\nname = \"alpha\"\nannounce = true\nbrowse = true\n[[listener]]\nname = \"lan\"\ndatabase = \"notes\"\nannounce = true\n"
	if err := os.WriteFile(filepath.Join(dataA, service.ConfigFileName), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startLANPeer(t, lan.NsB)
	var logsA lockedBuffer
	procA := inNamespace(t, lan.NsA, "--data-dir", dataA, "--headless", "--no-announce", "--no-browse")
	procA.Stdout, procA.Stderr = &logsA, &logsA
	if err := procA.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		procA.Process.Signal(syscall.SIGTERM)
		if err := procA.Wait(); err != nil {
			t.Errorf("headless A exit: %v\n%s", err, logsA.String())
		}
	})
	waitFor(t, "headless A to report its listener", logsA.String, func() bool {
		out, code := inProcess(t, "", "--data-dir", dataA, "status", "--json")
		var rep service.StatusReport
		return code == 0 && json.Unmarshal([]byte(out), &rep) == nil && len(rep.Listeners) == 1
	})
	// B queries every 500ms; a few rounds without A is enough.
	timeout := time.After(2 * time.Second)
	for waiting := true; waiting; {
		select {
		case ev := <-b.events:
			t.Errorf("B saw %v %+v although A runs with --no-announce", ev.Kind, ev.Peer)
		case <-timeout:
			waiting = false
		}
	}
	for _, unwanted := range []string{"announcing on the local network", "browsing the local network"} {
		if strings.Contains(logsA.String(), unwanted) {
			t.Errorf("A logged %q despite --no-announce --no-browse:\n%s", unwanted, logsA.String())
		}
	}
}
