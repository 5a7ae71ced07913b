package app

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"peersync/syncengine"
	"peersync/syncengine/hlv"
)

// cli runs the CLI in-process against dir and returns stdout, stderr and
// the exit code.
func cli(t *testing.T, dir, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"--data-dir", dir}, args...), strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestCLIDatabasesAndDocuments(t *testing.T) {
	dir := t.TempDir()
	if _, e, code := cli(t, dir, "", "db", "create", "notes"); code != 0 {
		t.Fatalf("db create: %d %s", code, e)
	}
	rev, e, code := cli(t, dir, `{"title":"hello"}`, "doc", "put", "--db", "notes", "n1")
	if code != 0 || !strings.HasPrefix(rev, "1-") {
		t.Fatalf("doc put: %q %s", rev, e)
	}
	out, _, code := cli(t, dir, "", "doc", "get", "--db", "notes", "n1", "--json")
	var got struct {
		ID, Rev string
		Body    map[string]any
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.Body["title"] != "hello" || got.Rev != strings.TrimSpace(rev) {
		t.Fatalf("doc get: %q", out)
	}
	// A stale --rev is a conflict: one line on stderr, exit 1, nothing lost.
	cli(t, dir, `{"title":"v2"}`, "doc", "put", "--db", "notes", "n1")
	_, e, code = cli(t, dir, `{"title":"stale"}`, "doc", "put", "--db", "notes", "n1", "--rev", strings.TrimSpace(rev))
	if code == 0 || strings.Count(e, "\n") != 1 || !strings.Contains(e, "conflict") {
		t.Errorf("stale put: code %d, stderr %q", code, e)
	}
	out, _, _ = cli(t, dir, "", "doc", "get", "--db", "notes", "n1")
	if !strings.Contains(out, "v2") {
		t.Errorf("after stale put: %s", out)
	}
	out, _, _ = cli(t, dir, "", "db", "list", "--json")
	if !strings.Contains(out, `"DocumentCount": 1`) {
		t.Errorf("db list: %s", out)
	}
}

func TestCLIBadInputGivesOneLineErrors(t *testing.T) {
	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "notes")
	cases := [][]string{
		{"db", "create", "../escape"},
		{"db", "info", "missing"},
		{"doc", "get", "--db", "notes", "nope"},
		{"doc", "put", "--db", "notes", "x"}, // body from stdin: not JSON
		{"replicate", "--db", "notes", "--target", "http://wrong"},
		{"doc", "get", "n1"}, // --db missing
	}
	for _, args := range cases {
		_, e, code := cli(t, dir, "not json", args...)
		if code == 0 || strings.Count(e, "\n") != 1 || !strings.HasPrefix(e, "peersync: ") {
			t.Errorf("%v: code %d, stderr %q", args, code, e)
		}
	}
}

func TestCLIImportExport(t *testing.T) {
	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "a")
	cli(t, dir, "", "db", "create", "b")
	lines := `{"_id":"x","n":1}
{"_id":"y","list":[1,2,3]}
`
	if out, e, code := cli(t, dir, lines, "import", "--db", "a"); code != 0 || !strings.Contains(out, "imported 2") {
		t.Fatalf("import: %s %s", out, e)
	}
	exported, _, _ := cli(t, dir, "", "export", "--db", "a")
	if strings.Count(exported, "\n") != 2 || !strings.Contains(exported, `"_id":"y"`) {
		t.Fatalf("export: %s", exported)
	}
	cli(t, dir, exported, "import", "--db", "b")
	again, _, _ := cli(t, dir, "", "export", "--db", "b")
	strip := func(s string) string { // revisions differ per database history only by _rev
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			var m map[string]any
			json.Unmarshal([]byte(l), &m)
			delete(m, "_rev")
			b, _ := json.Marshal(m)
			out = append(out, string(b))
		}
		return strings.Join(out, "\n")
	}
	if strip(again) != strip(exported) {
		t.Errorf("round trip differs:\n%s\n%s", exported, again)
	}
	// A bad line reports its number (and nothing is saved).
	_, e, code := cli(t, dir, "{\"_id\":\"ok\"}\n[1]\n", "import", "--db", "a")
	if code == 0 || !strings.Contains(e, "line 2") {
		t.Errorf("bad import line: %d %q", code, e)
	}
}

func TestDataDirPrecedence(t *testing.T) {
	t.Setenv("PEERSYNC_DATA_DIR", "/from/env")
	if DataDir("/from/flag") != "/from/flag" || DataDir("") != "/from/env" {
		t.Error("flag must beat the environment, which beats the default")
	}
	if runtime.GOOS != "linux" {
		return
	}
	t.Setenv("PEERSYNC_DATA_DIR", "")
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if got := DataDir(""); got != filepath.Join("/xdg", "PeerSync") {
		t.Errorf("default = %s", got)
	}
}

func TestCLIIdentities(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(dir, "no-bus")) // keys go to 0600 files here
	out, e, code := cli(t, dir, "", "identity", "create", "srv", "--cn", "srv.local", "--san", "srv.local,127.0.0.1")
	if code != 0 || !strings.Contains(out, "created srv") {
		t.Fatalf("create: %s %s", out, e)
	}
	// The names given, and only those, verify with the certificate as the only root.
	leaf := func(label string) *x509.Certificate {
		t.Helper()
		out, _, _ := cli(t, dir, "", "identity", "export", label)
		block, _ := pem.Decode([]byte(out))
		if block == nil {
			t.Fatalf("export %s: %q", label, out)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	verifies := func(c *x509.Certificate, host string, usage x509.ExtKeyUsage) bool {
		roots := x509.NewCertPool()
		roots.AddCert(c)
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err == nil
	}
	for _, host := range []string{"srv.local", "127.0.0.1"} {
		if !verifies(leaf("srv"), host, x509.ExtKeyUsageServerAuth) || !verifies(leaf("srv"), host, x509.ExtKeyUsageClientAuth) {
			t.Errorf("srv does not verify as %s for server and client use", host)
		}
	}
	// --san repeats; without any, a server identity names this host.
	if _, e, code := cli(t, dir, "", "identity", "create", "two", "--cn", "two", "--san", "a.example", "--san", "::1", "--usage", "server"); code != 0 ||
		!verifies(leaf("two"), "a.example", x509.ExtKeyUsageServerAuth) || !verifies(leaf("two"), "::1", x509.ExtKeyUsageServerAuth) {
		t.Errorf("repeated --san: %s", e)
	}
	if _, e, code := cli(t, dir, "", "identity", "create", "plain", "--cn", "plain", "--usage", "server"); code != 0 ||
		!verifies(leaf("plain"), "localhost", x509.ExtKeyUsageServerAuth) || !verifies(leaf("plain"), "127.0.0.1", x509.ExtKeyUsageServerAuth) {
		t.Errorf("server identity without --san: %s", e)
	}
	if out, _, _ := cli(t, dir, "", "identity", "show", "two"); !strings.Contains(out, "names:    a.example, ::1") {
		t.Errorf("show does not list the names: %s", out)
	}
	if _, e, code := cli(t, dir, "", "identity", "create", "bad", "--cn", "bad", "--san", "not a name"); code == 0 || strings.Count(e, "\n") != 1 || !strings.Contains(e, "--san") {
		t.Errorf("bad --san: code %d, %q", code, e)
	}
	if _, e, code := cli(t, dir, "", "identity", "create", "nocn"); code == 0 || !strings.Contains(e, "ommon") {
		t.Errorf("create without CN: %q", e)
	}
	out, _, _ = cli(t, dir, "", "identity", "list")
	if !strings.Contains(out, "srv.local") {
		t.Errorf("list: %s", out)
	}
	chain, _, _ := cli(t, dir, "", "identity", "export", "srv")
	if !strings.Contains(chain, "CERTIFICATE") || strings.Contains(chain, "PRIVATE KEY") {
		t.Errorf("export without --private-key: %s", chain)
	}
	full, _, _ := cli(t, dir, "", "identity", "export", "srv", "--private-key")
	pemFile := filepath.Join(dir, "srv.pem")
	os.WriteFile(pemFile, []byte(full), 0o600)
	if out, e, code := cli(t, dir, "", "identity", "import", "copy", pemFile); code != 0 {
		t.Fatalf("import: %s %s", out, e)
	}
	a, _, _ := cli(t, dir, "", "identity", "show", "srv", "--json")
	b, _, _ := cli(t, dir, "", "identity", "show", "copy", "--json")
	var x, y map[string]any
	json.Unmarshal([]byte(a), &x)
	json.Unmarshal([]byte(b), &y)
	if x["sha256"] == nil || x["sha256"] != y["sha256"] {
		t.Errorf("imported copy differs: %v vs %v", x["sha256"], y["sha256"])
	}
	if _, _, code := cli(t, dir, "", "identity", "delete", "copy"); code != 0 {
		t.Error("delete failed")
	}
	if _, _, code := cli(t, dir, "", "identity", "show", "copy"); code == 0 {
		t.Error("deleted identity still shown")
	}
}

// TestCLIReplicate runs `peersync replicate` against a listener in this
// process: exit 0 with a summary on success, one line and exit 1 otherwise.
func TestCLIReplicate(t *testing.T) {
	srvDir := t.TempDir()
	e, err := syncengine.New(syncengine.Options{DataDir: srvDir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	db, _ := e.CreateDatabase("shared")
	db.DefaultCollection().Save("remote-doc", []byte(`{"x":1}`), syncengine.SaveOptions{})
	l, _ := e.NewListener(syncengine.ListenerConfig{Database: db, NetworkInterface: "127.0.0.1", DisableTLS: true})
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()

	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "mine")
	cli(t, dir, `{"y":2}`, "doc", "put", "--db", "mine", "local-doc")
	out, e2, code := cli(t, dir, "", "replicate", "--db", "mine", "--target", l.URLs()[0])
	if code != 0 || !strings.Contains(out, "pushed 1, pulled 1 documents") {
		t.Fatalf("replicate: %d %q %q", code, out, e2)
	}
	if _, err := db.DefaultCollection().Get("local-doc"); err != nil {
		t.Errorf("pushed document missing: %v", err)
	}
	// The URL a listener shows is Couchbase Lite's form: no /_blipsync.
	if u := l.URLs()[0]; !strings.HasSuffix(u, ":"+strconv.Itoa(l.Port())+"/shared") {
		t.Errorf("listener URL %s, want ws://host:port/shared", u)
	}
	_, e2, code = cli(t, dir, "", "replicate", "--db", "mine", "--target", strings.TrimSuffix(l.URLs()[0], "/shared")+"/nope")
	if code != 1 || strings.Count(e2, "\n") != 1 || !strings.Contains(e2, "404") {
		t.Errorf("unknown remote database: %d %q", code, e2)
	}
}

func TestCLICollectionsBlobsResolve(t *testing.T) {
	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "n")
	if _, e, code := cli(t, dir, "", "collection", "create", "--db", "n", "app.tasks"); code != 0 {
		t.Fatalf("collection create: %s", e)
	}
	out, _, _ := cli(t, dir, "", "collection", "list", "--db", "n")
	if out != "_default._default\napp.tasks\n" {
		t.Errorf("collections: %q", out)
	}
	file := filepath.Join(dir, "pic.png")
	os.WriteFile(file, []byte("not really a png"), 0o600)
	ref, e, code := cli(t, dir, "", "blob", "put", "--db", "n", file)
	if code != 0 || !strings.Contains(ref, `"content_type":"image/png"`) {
		t.Fatalf("blob put: %q %q", ref, e)
	}
	if _, e, code := cli(t, dir, `{"pic":`+ref+`}`, "doc", "put", "--db", "n", "p1"); code != 0 {
		t.Fatalf("doc with blob: %s", e)
	}
	var r struct{ Digest string }
	json.Unmarshal([]byte(ref), &r)
	data, _, _ := cli(t, dir, "", "blob", "get", "--db", "n", r.Digest)
	if data != "not really a png" {
		t.Errorf("blob get: %q", data)
	}
	// Resolve needs a conflict; without one, naming a non-leaf fails cleanly.
	rev, _, _ := cli(t, dir, "", "doc", "get", "--db", "n", "p1", "--json")
	if _, e, code := cli(t, dir, "", "resolve", "--db", "n", "p1", "--winner", "9-nope"); code == 0 || !strings.Contains(e, "not a leaf") {
		t.Errorf("resolve with a bad winner: %q (doc %s)", e, rev)
	}
}

func TestCLIDBInfoShowsSourceID(t *testing.T) {
	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "notes")
	sourceOf := func() string {
		t.Helper()
		out, e, code := cli(t, dir, "", "db", "info", "notes")
		if code != 0 {
			t.Fatalf("db info: %d %s", code, e)
		}
		for _, line := range strings.Split(out, "\n") {
			if id, ok := strings.CutPrefix(line, "source ID:"); ok {
				return strings.TrimSpace(id)
			}
		}
		t.Fatalf("db info has no source ID line:\n%s", out)
		return ""
	}
	id := sourceOf()
	if _, err := hlv.ParseSourceID(id); err != nil {
		t.Fatalf("db info source ID: %v", err)
	}
	// Each run opens the file afresh: the ID is the file's, not the run's.
	if again := sourceOf(); again != id {
		t.Fatalf("source ID changed between runs: %s then %s", id, again)
	}
	out, _, _ := cli(t, dir, "", "db", "info", "notes", "--json")
	if !strings.Contains(out, `"SourceID": "`+id+`"`) {
		t.Errorf("db info --json: %s", out)
	}
}

// doc history shows each revision's version vector beside its tree entry.
func TestCLIDocHistoryShowsVersions(t *testing.T) {
	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "notes")
	cli(t, dir, `{"n":1}`, "doc", "put", "--db", "notes", "n1")
	cli(t, dir, `{"n":2}`, "doc", "put", "--db", "notes", "n1")
	out, e, code := cli(t, dir, "", "doc", "history", "--db", "notes", "n1")
	info, _, _ := cli(t, dir, "", "db", "info", "notes")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[0], "VERSION") {
		t.Fatalf("doc history: code %d %q %s", code, out, e)
	}
	// Both revisions are versions by this database's source.
	for _, l := range lines[1:] {
		at := strings.Index(l, "@")
		if at < 0 || len(l) < at+23 || !strings.Contains(info, l[at+1:at+23]) {
			t.Errorf("history line %q: no version by this database's source (db info: %s)", l, info)
		}
	}
}

// A conflict that a replication resolved is listed by `doc conflicts
// --resolved`, and --restore brings back the losing edit.
func TestCLIResolvedConflicts(t *testing.T) {
	e, err := syncengine.New(syncengine.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	db, _ := e.CreateDatabase("shared")
	l, _ := e.NewListener(syncengine.ListenerConfig{Database: db, NetworkInterface: "127.0.0.1", DisableTLS: true})
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	dir := t.TempDir()
	cli(t, dir, "", "db", "create", "mine")
	cli(t, dir, `{"v":0}`, "doc", "put", "--db", "mine", "n1")
	if _, e2, code := cli(t, dir, "", "replicate", "--db", "mine", "--target", l.URLs()[0]); code != 0 {
		t.Fatalf("replicate: %s", e2)
	}
	cli(t, dir, `{"v":"mine"}`, "doc", "put", "--db", "mine", "n1")
	if _, err := db.DefaultCollection().Save("n1", []byte(`{"v":"theirs"}`), syncengine.SaveOptions{LastWriteWins: true}); err != nil {
		t.Fatal(err)
	}
	if _, e2, code := cli(t, dir, "", "replicate", "--db", "mine", "--target", l.URLs()[0], "--conflicts", "remote"); code != 0 {
		t.Fatalf("replicate: %s", e2)
	}
	out, e2, code := cli(t, dir, "", "doc", "conflicts", "--db", "mine", "--resolved")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "n1") || !strings.Contains(lines[1], syncengine.RuleRemoteWins) ||
		!strings.Contains(lines[1], `{"v":"mine"}`) {
		t.Fatalf("doc conflicts --resolved: %d %q %q", code, out, e2)
	}
	n := strings.Fields(lines[1])[0]
	if out, e2, code := cli(t, dir, "", "doc", "conflicts", "--db", "mine", "--restore", n); code != 0 || !strings.HasPrefix(out, "restored n1") {
		t.Fatalf("--restore %s: %d %q %q", n, code, out, e2)
	}
	if out, _, _ := cli(t, dir, "", "doc", "get", "--db", "mine", "n1"); !strings.Contains(out, "mine") {
		t.Errorf("after the restore n1 is %s", out)
	}
	if out, _, _ := cli(t, dir, "", "doc", "conflicts", "--db", "mine", "--resolved"); strings.Count(out, "\n") != 1 {
		t.Errorf("after the restore still listed: %q", out)
	}
}
