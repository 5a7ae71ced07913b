package app

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// doctorListener serves "notes" over TLS with user alice on 127.0.0.1
// from an engine of its own, and returns its URL and certificate
// fingerprint.
func doctorListener(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	e, err := syncengine.New(syncengine.Options{DataDir: dir, Identities: tlsid.NewStore(dir+"/ids", tlsid.NewMemoryKeyStore())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	db, err := e.CreateDatabase("notes")
	if err != nil {
		t.Fatal(err)
	}
	l, err := e.NewListener(syncengine.ListenerConfig{Database: db, NetworkInterface: "127.0.0.1",
		Authenticator: syncengine.PasswordAuthenticator(func(u, p string) bool { return u == "alice" && p == "s3cret" })})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	return l.URLs()[0], l.TLSIdentity().Fingerprint()
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLIDoctor(t *testing.T) {
	url, fp := doctorListener(t)
	dir := t.TempDir()
	pw := writeFile(t, filepath.Join(dir, "pw"), "s3cret\n")
	bad := writeFile(t, filepath.Join(dir, "bad"), "guess\n")

	out, errOut, code := cli(t, dir, "", "doctor", url, "--user", "alice", "--password-file", pw, "--pin", fp)
	if code != 0 || strings.Count(out, "\nok ") != 6 || errOut != "" {
		t.Fatalf("healthy: code %d\n%s%s", code, out, errOut)
	}

	out, errOut, code = cli(t, dir, "", "doctor", url, "--user", "alice", "--password-file", bad, "--accept-self-signed")
	if code == 0 || !strings.Contains(out, "FAIL HTTP GET /<db>/") || !strings.Contains(out, "→ check the user name and password") ||
		strings.Count(errOut, "\n") != 1 || strings.Contains(out+errOut, "guess") {
		t.Fatalf("wrong password: code %d\n%s%s", code, out, errOut)
	}

	out, _, code = cli(t, dir, "", "doctor", url, "--json")
	var rep struct {
		Steps []struct {
			Name   string `json:"name"`
			Ran    bool   `json:"ran"`
			OK     bool   `json:"ok"`
			Advice string `json:"advice"`
		} `json:"steps"`
		Certificate struct{ Fingerprint string } `json:"certificate"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code == 0 || len(rep.Steps) != 6 ||
		rep.Steps[2].OK || !strings.Contains(rep.Steps[2].Advice, "--accept-self-signed") ||
		rep.Certificate.Fingerprint != tlsid.FormatFingerprint(fp) {
		t.Fatalf("--json, untrusted certificate: code %d, %v\n%s", code, err, out)
	}
}

// TestCLIDoctorUsesReplicationSettings names a configured replication: its
// user, password file and pin are used, and flags override them.
func TestCLIDoctorUsesReplicationSettings(t *testing.T) {
	url, fp := doctorListener(t)
	dir := t.TempDir()
	pw := writeFile(t, filepath.Join(dir, "pw"), "s3cret\n")
	bad := writeFile(t, filepath.Join(dir, "bad"), "guess\n")
	writeFile(t, filepath.Join(dir, service.ConfigFileName), "[[replication]]\nname = \"office\"\ndatabase = \"notes\"\n"+
		"target = "+strconv.Quote(url)+"\nuser = \"alice\"\npassword_file = "+strconv.Quote(pw)+"\npin = "+strconv.Quote(fp)+"\n")
	if out, e, code := cli(t, dir, "", "doctor", "office"); code != 0 {
		t.Fatalf("doctor office: %d\n%s%s", code, out, e)
	}
	if out, _, code := cli(t, dir, "", "doctor", "office", "--password-file", bad); code == 0 || !strings.Contains(out, `refused user "alice"`) {
		t.Fatalf("doctor office --password-file bad: %d\n%s", code, out)
	}
	if _, e, code := cli(t, dir, "", "doctor", "nowhere"); code == 0 || !strings.Contains(e, "not a ws:// or wss:// URL nor a configured replication") {
		t.Fatalf("unknown name: %d %s", code, e)
	}
}

// TestCLIDoctorDiscoveredPeer names a peer the running instance knows (a
// manual one, so no multicast is involved): the doctor asks the instance
// over its control socket and checks the certificate against the
// announced fingerprint.
func TestCLIDoctorDiscoveredPeer(t *testing.T) {
	url, fp := doctorListener(t)
	dir := t.TempDir()
	pw := writeFile(t, filepath.Join(dir, "pw"), "s3cret\n")
	e, err := syncengine.New(syncengine.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Identities: tlsid.NewStore(dir+"/ids", tlsid.NewMemoryKeyStore())})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rn := service.NewRunner(e)
	defer rn.Stop()
	b := discovery.NewBrowser(discovery.BrowserOptions{}) // never started: it sends nothing
	port, _ := strconv.Atoi(strings.Split(strings.Split(url, "/")[2], ":")[1])
	if _, err := b.AddManual("127.0.0.1", port, "notes", true); err != nil {
		t.Fatal(err)
	}
	rn.UseBrowser(b)
	ctl, err := service.StartControl(filepath.Join(dir, service.ControlSocketName), controlHandler(rn))
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()

	// A manual peer announces no fingerprint: without trust, TLS fails and says how to pin.
	out, _, code := cli(t, dir, "", "doctor", "127.0.0.1/notes")
	if code == 0 || !strings.Contains(out, "--pin "+tlsid.FormatFingerprint(fp)) || !strings.Contains(out, "mDNS discovery: 127.0.0.1 was added by hand") {
		t.Fatalf("discovered peer: %d\n%s", code, out)
	}
	if out, _, code := cli(t, dir, "", "doctor", "127.0.0.1/notes", "--pin", fp, "--user", "alice", "--password-file", pw); code != 0 {
		t.Fatalf("discovered peer, pinned: %d\n%s", code, out)
	}
}
