package ui

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/doctor"
)

// diagnosingWorkspace adds the connection doctor to the test workspace,
// as the app's workspace has it.
type diagnosingWorkspace struct{ *testWorkspace }

func (w diagnosingWorkspace) DiagnoseReplication(name string) (doctor.Report, error) {
	rows, _ := w.Replications()
	for _, r := range rows {
		if r.Settings.Name == name {
			return doctor.Diagnose(context.Background(), doctor.Target{URL: r.Settings.Target,
				PinnedFingerprint: r.Settings.Pin, AcceptSelfSigned: r.Settings.AcceptSelfSigned}, doctor.Options{}), nil
		}
	}
	return doctor.Report{}, nil
}

func (w diagnosingWorkspace) DiagnosePeer(p discovery.Peer) (doctor.Report, error) {
	return doctor.Diagnose(context.Background(), doctor.Target{URL: p.URL(), PinnedFingerprint: p.Fingerprint,
		Peer: &doctor.Peer{Name: p.Name, Manual: p.Manual, LastSeen: p.LastSeen}}, doctor.Options{}), nil
}

func withDiagnoser() harnessOption {
	return func(h *harness) { h.wrap = func(w *testWorkspace) Workspace { return diagnosingWorkspace{w} } }
}

func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestReplicationErrorOffersDiagnosis: a replication failing against a
// closed port shows its error with a Diagnose link, and the report says
// which step failed and what to do.
func TestReplicationErrorOffersDiagnosis(t *testing.T) {
	h := newHarness(t, withDiagnoser())
	h.database("notes")
	port := strconv.Itoa(closedPort(t))
	if err := h.ws.SaveReplication("", ReplicationSettings{ReplicationConfig: service.ReplicationConfig{Name: "to-desk", Database: "notes", Target: "ws://127.0.0.1:" + port + "/notes",
		Type: service.TypePull, Continuous: true, Conflicts: service.ConflictsDefault}}); err != nil {
		t.Fatal(err)
	}
	rs := h.u.replications
	h.u.show(navReplications)
	h.settle()
	rs.list.Select(0)
	if rs.errDiagnoseBtn.Visible() || rs.diagnoseBtn.Disabled() || button(rs.detail, "Diagnose") == nil {
		t.Fatal("before any error: want the Diagnose button and no error link")
	}
	test.Tap(rs.startBtn)
	h.waitFor("the error", func() bool { return strings.Contains(rs.errLabel.Text, "Last error") })
	if !rs.errDiagnoseBtn.Visible() {
		t.Fatal("the last error offers no diagnosis")
	}
	test.Tap(rs.errDiagnoseBtn)
	h.settle()
	rep := rs.diagnosis.report
	if rep == nil || rep.Failed() == nil || rep.Failed().Name != doctor.StepTCP {
		t.Fatalf("report %+v", rep)
	}
	shown := strings.Join(texts(h.topDialog()), "\n")
	for _, want := range []string{"Diagnosis: “to-desk”", "✗ " + doctor.StepTCP, "refused the connection",
		"What to do: nothing listens on port " + port, "– " + doctor.StepBLIP, "The TCP connect step failed"} {
		if !strings.Contains(shown, want) {
			t.Errorf("dialog lacks %q:\n%s", want, shown)
		}
	}
	test.Tap(rs.stopBtn)
	h.waitFor("the stop", func() bool { return rs.status("to-desk").Activity == syncengine.Stopped })
}

// TestPeersDiagnose diagnoses a manual peer (the browser never starts, so
// nothing goes to the network but the diagnosis itself, on 127.0.0.1).
func TestPeersDiagnose(t *testing.T) {
	b := discovery.NewBrowser(discovery.BrowserOptions{})
	h := newHarness(t, withBrowser(b), withDiagnoser())
	db := h.database("notes")
	l, err := h.e.NewListener(syncengine.ListenerConfig{Database: db, NetworkInterface: "127.0.0.1", DisableTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	if _, err := b.AddManual("127.0.0.1", l.Port(), "notes", false); err != nil {
		t.Fatal(err)
	}
	s := h.u.peers
	h.u.show(navPeers)
	h.settle()
	if !s.diagnoseBtn.Disabled() {
		t.Error("Diagnose is on with no peer selected")
	}
	s.list.Select(0)
	test.Tap(s.diagnoseBtn)
	h.settle()
	if rep := s.diagnosis.report; rep == nil || !rep.OK() || rep.Step(doctor.StepMDNS) == nil {
		t.Fatalf("report %+v", rep)
	}
	shown := strings.Join(texts(h.topDialog()), "\n")
	for _, want := range []string{"Every step passed", "✓ " + doctor.StepBLIP, "added by hand"} {
		if !strings.Contains(shown, want) {
			t.Errorf("dialog lacks %q:\n%s", want, shown)
		}
	}
}
