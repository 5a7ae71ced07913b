package app

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"peersync/service"
	"peersync/syncengine"
)

// headlessBinary builds the no-GUI binary once per test run.
func headlessBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "peersync")
	cmd := exec.Command("go", "build", "-tags", "headless", "-o", bin, "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

type instance struct {
	t       *testing.T
	bin     string
	dataDir string
	cmd     *exec.Cmd
	logs    *bytes.Buffer
}

func (in *instance) cli(stdin string, args ...string) (string, int) {
	in.t.Helper()
	cmd := exec.Command(in.bin, append([]string{"--data-dir", in.dataDir}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return string(out), code
}

func (in *instance) writeConfig(text string) {
	in.t.Helper()
	if err := os.WriteFile(filepath.Join(in.dataDir, service.ConfigFileName), []byte(text), 0o600); err != nil {
		in.t.Fatal(err)
	}
}

func (in *instance) start() {
	in.t.Helper()
	in.logs = &bytes.Buffer{}
	in.cmd = exec.Command(in.bin, "--data-dir", in.dataDir, "--headless", "--log-format", "json")
	in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() {
		if in.cmd.ProcessState == nil {
			in.cmd.Process.Kill()
			in.cmd.Wait()
		}
	})
	in.waitStatus(func(service.StatusReport) bool { return true })
}

func (in *instance) stop() {
	in.t.Helper()
	in.cmd.Process.Signal(syscall.SIGTERM)
	if err := in.cmd.Wait(); err != nil {
		in.t.Fatalf("headless exit after SIGTERM: %v\n%s", err, in.logs)
	}
}

func (in *instance) status() (service.StatusReport, bool) {
	out, code := in.cli("", "status", "--json")
	var rep service.StatusReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		return rep, false
	}
	return rep, true
}

func (in *instance) waitStatus(cond func(service.StatusReport) bool) service.StatusReport {
	in.t.Helper()
	var rep service.StatusReport
	waitFor(in.t, "status", in.logs.String, func() bool {
		var ok bool
		rep, ok = in.status()
		return ok && cond(rep)
	})
	return rep
}

func (in *instance) waitDoc(id string) {
	in.t.Helper()
	waitFor(in.t, "document "+id, in.logs.String, func() bool {
		_, code := in.cli("", "doc", "get", "--db", "notes", id)
		return code == 0
	})
}

// TestHeadlessEndToEnd runs two headless instances with a continuous
// replication, writes through the CLI (forwarded to the running instance),
// restarts one and checks it resumes from its checkpoint, and adds a
// listener with SIGHUP without dropping the first.
func TestHeadlessEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin := headlessBinary(t)
	a := &instance{t: t, bin: bin, dataDir: t.TempDir()}
	b := &instance{t: t, bin: bin, dataDir: t.TempDir()}
	for _, in := range []*instance{a, b} {
		if out, code := in.cli("", "db", "create", "notes"); code != 0 {
			t.Fatalf("db create: %s", out)
		}
	}
	if out, code := a.cli("", "db", "create", "drafts"); code != 0 {
		t.Fatalf("db create: %s", out)
	}
	b.writeConfig(`
[discovery]
announce = false
browse = false
[[listener]]
name = "lan"
database = "notes"
interface = "127.0.0.1"
tls = "off"
`)
	b.start()
	rep := b.waitStatus(func(r service.StatusReport) bool { return len(r.Listeners) == 1 && len(r.Listeners[0].URLs) == 1 })
	url := rep.Listeners[0].URLs[0]
	if !strings.HasPrefix(url, "ws://127.0.0.1:") || !strings.HasSuffix(url, "/notes") { // what `peersync status` prints
		t.Errorf("status shows listener URL %s, want ws://127.0.0.1:port/notes", url)
	}
	a.writeConfig(`
[discovery]
announce = false
browse = false
[[replication]]
name = "to-b"
database = "notes"
target = "` + url + `"
continuous = true
auto_start = true
[[replication]]
name = "once"
database = "drafts"
target = "` + url + `"
type = "pull"
`)
	a.start()
	// Written through the CLI while A runs: the command is forwarded to A.
	if out, code := a.cli(`{"from":"a"}`, "doc", "put", "--db", "notes", "one"); code != 0 {
		t.Fatalf("doc put through the running instance: %s", out)
	}
	b.waitDoc("one")
	if out, code := b.cli(`{"from":"b"}`, "doc", "put", "--db", "notes", "two"); code != 0 {
		t.Fatalf("doc put on b: %s", out)
	}
	a.waitDoc("two")

	// Stop A, write on B meanwhile, restart A: it resumes from its checkpoint.
	a.stop()
	for _, id := range []string{"three", "four"} {
		if out, code := b.cli(`{"late":true}`, "doc", "put", "--db", "notes", id); code != 0 {
			t.Fatalf("doc put: %s", out)
		}
	}
	a.start()
	a.waitDoc("four")
	a.waitDoc("three")
	rep = a.waitStatus(func(r service.StatusReport) bool { // sorted by name: "once", "to-b"
		return len(r.Replications) == 2 && r.Replications[1].Activity == "idle"
	})
	if r := rep.Replications[1]; r.Pulled != 2 || r.Pushed != 0 {
		t.Errorf("after restart pulled %d pushed %d; want 2 and 0 (resumed from the checkpoint)", r.Pulled, r.Pushed)
	}
	// Its totals go on from the first run's: one pushed, one pulled then.
	if h := rep.Replications[1].History; h.Totals.Pushed != 1 || h.Totals.Pulled != 3 || h.LastRun == nil || h.LastRun.Outcome != service.OutcomeRunning {
		t.Errorf("after restart the history is %+v, last run %+v; want a running run and totals of 1 pushed, 3 pulled", h, h.LastRun)
	}

	// SIGHUP adds a listener and keeps the first one (and its connection).
	before := b.waitStatus(func(r service.StatusReport) bool { return len(r.Listeners) == 1 && r.Listeners[0].Connections == 1 })

	// Both sides say the connection speaks version vectors.
	if p := rep.Replications[1].Protocol; p != syncengine.SubprotocolV4 {
		t.Errorf("replication protocol %q, want %s", p, syncengine.SubprotocolV4)
	}
	if out, _ := b.cli("", "status"); !strings.Contains(out, "active; 1 CBMobile_4)") {
		t.Errorf("listener status does not count the CBMobile_4 connection:\n%s", out)
	}
	out, _ := a.cli("", "status")
	if row := lineStarting(out, "to-b "); len(strings.Fields(row)) < 4 || strings.Fields(row)[3] != "CBMobile_4" {
		t.Errorf("replication row %q has no CBMobile_4 in its PROTOCOL column:\n%s", row, out)
	}
	if row := lineStarting(out, "once "); !strings.Contains(row, "never run") || !strings.Contains(row, " stopped ") {
		t.Errorf("the replication that never ran reads %q:\n%s", row, out)
	}
	b.writeConfig(`
[discovery]
announce = false
browse = false
[[listener]]
name = "lan"
database = "notes"
interface = "127.0.0.1"
tls = "off"
[[listener]]
name = "second"
database = "notes"
interface = "127.0.0.1"
`)
	b.cmd.Process.Signal(syscall.SIGHUP)
	after := b.waitStatus(func(r service.StatusReport) bool { return len(r.Listeners) == 2 })
	if after.Listeners[0].URLs[0] != before.Listeners[0].URLs[0] || after.Listeners[0].Connections != 1 {
		t.Errorf("the first listener was restarted: before %+v after %+v", before.Listeners[0], after.Listeners[0])
	}
	if after.Listeners[1].Fingerprint == "" {
		t.Error("the new listener should use TLS by default")
	}
	if out, code := a.cli(`{"after":"hup"}`, "doc", "put", "--db", "notes", "five"); code != 0 {
		t.Fatalf("doc put: %s", out)
	}
	b.waitDoc("five")
	a.stop()

	// A one-shot `peersync replicate` of a configured pair is that
	// replication's run: the next instance shows it completed, with its counts.
	if out, code := a.cli("", "replicate", "--db", "drafts", "--target", url, "--type", "pull"); code != 0 || !strings.Contains(out, "pushed 0, pulled 5 documents") {
		t.Fatalf("replicate: %d %s", code, out)
	}
	a.start()
	rep = a.waitStatus(func(r service.StatusReport) bool { return len(r.Replications) == 2 })
	if h := rep.Replications[0].History; h.LastRun == nil || h.LastRun.Outcome != service.OutcomeCompleted || h.LastRun.Pulled != 5 ||
		h.LastSynced.IsZero() || h.Totals.Pulled != 5 {
		t.Errorf("after a one-shot replicate, %q has history %+v, last run %+v; want completed, 5 pulled, synced", rep.Replications[0].Name, h, h.LastRun)
	}
	out, _ = a.cli("", "status")
	if row := lineStarting(out, "once "); !strings.Contains(row, "completed just now · 0 pushed · 5 pulled") {
		t.Errorf("the completed one-shot run reads %q:\n%s", row, out)
	}
	a.stop()
	b.stop()
}

// TestHeadlessWithADamagedDatabase: one damaged database is logged once
// and the rest (a listener on a sound database) runs and serves.
func TestHeadlessWithADamagedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin := headlessBinary(t)
	a := &instance{t: t, bin: bin, dataDir: t.TempDir()}
	for _, db := range []string{"bad", "notes"} {
		if out, code := a.cli("", "db", "create", db); code != 0 {
			t.Fatalf("db create: %s", out)
		}
		if out, code := a.cli(strings.Join(jsonLines(3000), "\n"), "import", "--db", db); code != 0 {
			t.Fatalf("import: %s", out)
		}
	}
	path := filepath.Join(a.dataDir, "bad.peersync")
	data, _ := os.ReadFile(path)
	mid := len(data) / 2 &^ 4095
	for i := mid; i < mid+4096; i++ {
		data[i] ^= 0xff
	}
	os.WriteFile(path, data, 0o600)
	a.writeConfig(`
[discovery]
announce = false
browse = false
[[listener]]
name = "bad-l"
database = "bad"
interface = "127.0.0.1"
tls = "off"
[[listener]]
name = "notes-l"
database = "notes"
interface = "127.0.0.1"
tls = "off"
[[replication]]
name = "bad-r"
database = "bad"
target = "ws://127.0.0.1:1/x"
auto_start = true
`)
	a.start()
	rep := a.waitStatus(func(r service.StatusReport) bool { return len(r.Listeners) == 1 })
	if l := rep.Listeners[0]; l.Name != "notes-l" || len(l.URLs) != 1 {
		t.Fatalf("running listeners %+v", rep.Listeners)
	}
	// The sound database's listener serves a pull.
	other := &instance{t: t, bin: bin, dataDir: t.TempDir()}
	other.cli("", "db", "create", "copy")
	if out, code := other.cli("", "replicate", "--db", "copy", "--target", rep.Listeners[0].URLs[0], "--type", "pull"); code != 0 || !strings.Contains(out, "pulled 3000") {
		t.Fatalf("pull from the sound listener: %d %s", code, out)
	}
	// Commands through the running instance see the damage too, and check
	// the database it holds open.
	if out, code := a.cli("", "db", "list"); code != 0 || !strings.Contains(out, "damaged") {
		t.Errorf("db list: %d %s", code, out)
	}
	if out, code := a.cli("", "db", "check", "notes"); code != 0 || !strings.Contains(out, "notes is sound: 3000 documents") {
		t.Errorf("db check of the open database: %d %s", code, out)
	}
	if out, code := a.cli("", "db", "check", "bad"); code != 1 || !strings.Contains(out, "database bad is damaged") {
		t.Errorf("db check of the damaged database: %d %s", code, out)
	}
	a.stop()
	logs := a.logs.String()
	if n := strings.Count(logs, "bad is damaged: "); n != 1 {
		t.Errorf("the damage is logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs, `listener \"bad-l\": database bad is damaged`) || !strings.Contains(logs, `replication \"bad-r\": database bad is damaged`) {
		t.Errorf("the listener and replication on the damaged database do not report it:\n%s", logs)
	}
}

// lineStarting is the first line of out that starts with prefix.
func lineStarting(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
