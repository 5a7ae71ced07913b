package app

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestListenLogsRefusedLoginsByDefault runs `peersync listen` with a user
// (this test binary acting as PeerSync) and checks that a wrong password
// shows on stderr at the default log level, with reason and remote
// address but without the password.
func TestListenLogsRefusedLoginsByDefault(t *testing.T) {
	dir := t.TempDir()
	if _, e, code := cli(t, dir, "", "db", "create", "notes"); code != 0 {
		t.Fatal(e)
	}
	const secret, guess = "listen-secret-9f2", "wrong-guess-7c1"
	pwFile := filepath.Join(dir, "pw.txt")
	if err := os.WriteFile(pwFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args, _ := json.Marshal([]string{"--data-dir", dir, "listen", "--db", "notes", "--interface", "127.0.0.1",
		"--tls", "off", "--user", "alice", "--password-file", pwFile})
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), mainArgsEnv+"="+string(args))
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	// The first line on stdout is the listener's URL.
	urls := bufio.NewScanner(stdout)
	if !urls.Scan() {
		t.Fatal("listen printed no URL")
	}
	go func() {
		for urls.Scan() {
		}
	}()
	url := strings.Replace(strings.TrimSuffix(urls.Text(), "_blipsync"), "ws://", "http://", 1)
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth("alice", guess)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d", resp.StatusCode)
	}
	// Should the line never come, end the listener so the scan below stops.
	failsafe := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer failsafe.Stop()
	logs := bufio.NewScanner(stderr)
	var seen []string
	for logs.Scan() {
		line := logs.Text()
		seen = append(seen, line)
		if strings.Contains(line, secret) || strings.Contains(line, guess) {
			t.Fatalf("a password was logged: %s", line)
		}
		if strings.Contains(line, "connection refused") {
			if !strings.Contains(line, "reason=bad_password") || !strings.Contains(line, "remote=127.0.0.1:") ||
				!strings.Contains(line, "user=alice") {
				t.Errorf("refusal line lacks reason, remote or user: %s", line)
			}
			return
		}
	}
	t.Fatalf("no refusal logged; stderr:\n%s", strings.Join(seen, "\n"))
}
