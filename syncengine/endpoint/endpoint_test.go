package endpoint

import (
	"errors"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, c := range []struct {
		tls      bool
		host     string
		port     int
		db, want string
	}{
		{false, "127.0.0.1", 4984, "notes", "ws://127.0.0.1:4984/notes"},
		{true, "10.0.0.5", 443, "db", "wss://10.0.0.5:443/db"},
		{false, "fd00::7", 59840, "recipes", "ws://[fd00::7]:59840/recipes"},
		{true, "box.local", 1, "my notes?", "wss://box.local:1/my%20notes%3F"},
	} {
		if got := URL(c.tls, c.host, c.port, c.db); got != c.want {
			t.Errorf("URL(%v, %q, %d, %q) = %q, want %q", c.tls, c.host, c.port, c.db, got, c.want)
		}
	}
}

func TestParseAcceptsBothFormsAsOne(t *testing.T) {
	for _, c := range []struct{ in, shown, dial string }{
		{"ws://127.0.0.1:4984/notes", "ws://127.0.0.1:4984/notes", "ws://127.0.0.1:4984/notes/_blipsync"},
		{"ws://127.0.0.1:4984/notes/_blipsync", "ws://127.0.0.1:4984/notes", "ws://127.0.0.1:4984/notes/_blipsync"},
		{"ws://127.0.0.1:4984/notes/", "ws://127.0.0.1:4984/notes", "ws://127.0.0.1:4984/notes/_blipsync"},
		{"ws://127.0.0.1:4984/notes/_blipsync/", "ws://127.0.0.1:4984/notes", "ws://127.0.0.1:4984/notes/_blipsync"},
		{" WSS://Box.LOCAL:4984/notes ", "wss://box.local:4984/notes", "wss://box.local:4984/notes/_blipsync"},
		{"wss://h:443/db", "wss://h/db", "wss://h/db/_blipsync"},
		{"ws://h:80/db", "ws://h/db", "ws://h/db/_blipsync"},
		{"ws://h:0443/db", "ws://h:443/db", "ws://h:443/db/_blipsync"},
		{"ws://[FD00:0::7]:1/db", "ws://[fd00::7]:1/db", "ws://[fd00::7]:1/db/_blipsync"},
		{"ws://[fd00::7]/db", "ws://[fd00::7]/db", "ws://[fd00::7]/db/_blipsync"},
		{"wss://sg.example/prefix/db/_blipsync", "wss://sg.example/prefix/db", "wss://sg.example/prefix/db/_blipsync"},
		{"ws://h:1/my%20notes", "ws://h:1/my%20notes", "ws://h:1/my%20notes/_blipsync"},
		{"ws://h:1/db?client=x", "ws://h:1/db?client=x", "ws://h:1/db/_blipsync?client=x"},
	} {
		e, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if e.String() != c.shown || e.SyncURL() != c.dial {
			t.Errorf("Parse(%q) shows %q and dials %q, want %q and %q", c.in, e.String(), e.SyncURL(), c.shown, c.dial)
		}
	}
	if !Same("ws://127.0.0.1:4984/notes", "ws://127.0.0.1:4984/notes/_blipsync") || Same("ws://h:1/a", "ws://h:1/b") ||
		Same("ws://h:1/a", "wss://h:1/a") {
		t.Error("Same is wrong")
	}
	e, _ := Parse("wss://h:4984/a/notes/_blipsync")
	if got := e.DatabaseURL(); got != "https://h:4984/a/notes/" {
		t.Errorf("DatabaseURL = %q", got)
	}
}

func TestParseRefusesWithReason(t *testing.T) {
	for _, in := range []string{"", "http://h/db", "ws://", "ws:///db", "ws://h", "ws://h/", "ws://h/_blipsync",
		"ws://h:99999/db", "ws://h:x/db", "ws://u:p@h/db", "ws://h/db#frag", "ws://h//db", "ws://h/a/../db", "ws://h/%2F",
		"ws://h/%zz", "not a url", "ws:h/db", "ws://[fe80::1%25eth0]:1/db"} {
		if _, err := Parse(in); !errors.Is(err, ErrBadURL) {
			t.Errorf("Parse(%q): %v, want ErrBadURL", in, err)
		}
	}
}

func TestRefusalHidesPassword(t *testing.T) {
	_, err := Parse("wss://alice:s3cret@h/db")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("error %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"ws://127.0.0.1:4984/notes", "wss://h/db/_blipsync", "ws://[::1]:1/a/b?c=d",
		"ws://h:80/db/", "ws://h/%41", "wss://x/y%2Fz/db", "ws://[fe80::1%25eth0]:1/db"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrBadURL) {
				t.Fatalf("error %v does not wrap ErrBadURL", err)
			}
			return
		}
		// Both forms a parsed target prints read back as the same target.
		for _, again := range []string{e.String(), e.SyncURL()} {
			back, err := Parse(again)
			if err != nil || back != e {
				t.Fatalf("%q parsed as %+v; %q reads back as %+v, %v", s, e, again, back, err)
			}
		}
	})
}
