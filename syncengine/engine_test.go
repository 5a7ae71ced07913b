package syncengine

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestDatabaseLifecycle(t *testing.T) {
	e := newTestEngine(t)
	sub := e.Subscribe(16)
	defer sub.Close()
	db, err := e.CreateDatabase("notes")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateDatabase("notes"); !errors.Is(err, ErrDatabaseExists) {
		t.Errorf("create twice: %v", err)
	}
	for _, bad := range []string{"", ".hidden", "a/b", `a\b`, "-x", strings.Repeat("n", 101), "sp ace"} {
		if _, err := e.CreateDatabase(bad); !errors.Is(err, ErrInvalidDatabaseName) {
			t.Errorf("CreateDatabase(%q) = %v", bad, err)
		}
	}
	if _, err := e.OpenDatabase("missing"); !errors.Is(err, ErrDatabaseNotFound) {
		t.Errorf("open missing: %v", err)
	}
	if again, _ := e.OpenDatabase("notes"); again != db {
		t.Error("second open returned a different handle")
	}
	doc, err := db.DefaultCollection().Save("d1", []byte(`{"a":1}`), SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := db.Info()
	if err != nil || info.DocumentCount != 1 || info.UUID == "" || info.Size == 0 {
		t.Errorf("info = %+v, %v", info, err)
	}
	names, _ := e.DatabaseNames()
	if !slices.Equal(names, []string{"notes"}) {
		t.Errorf("names = %v", names)
	}
	// Events: the database creation, then the committed document.
	var sawDoc bool
	timeout := time.After(2 * time.Second)
	for !sawDoc {
		select {
		case ev := <-sub.C:
			if dc, ok := ev.(DocumentsChanged); ok && dc.Changes[0].RevID == doc.RevID {
				sawDoc = true
			}
		case <-timeout:
			t.Fatal("no DocumentsChanged event")
		}
	}
	if err := e.DeleteDatabase("notes"); err != nil {
		t.Fatal(err)
	}
	if names, _ := e.DatabaseNames(); len(names) != 0 {
		t.Errorf("after delete: %v", names)
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	e := newTestEngine(t)
	sub := e.Subscribe(1)
	defer sub.Close()
	db, _ := e.CreateDatabase("db")
	for i := range 20 {
		if _, err := db.DefaultCollection().Save(string(rune('a'+i)), []byte(`{}`), SaveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if sub.Dropped() == 0 {
		t.Error("a full subscriber should drop events, not block writers")
	}
}

// TestOpenInAnotherProcess checks the "in use" error when a second process
// opens a database this one holds.
func TestOpenInAnotherProcess(t *testing.T) {
	if dir := os.Getenv("PEERSYNC_TEST_INUSE_DIR"); dir != "" {
		e, err := New(Options{DataDir: dir})
		if err != nil {
			os.Exit(3)
		}
		_, err = e.OpenDatabase("held")
		if errors.Is(err, ErrInUse) {
			os.Exit(7)
		}
		os.Exit(0)
	}
	e := newTestEngine(t)
	if _, err := e.CreateDatabase("held"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenInAnotherProcess$")
	cmd.Env = append(os.Environ(), "PEERSYNC_TEST_INUSE_DIR="+e.DataDir())
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("child open: %v, want exit 7 (ErrInUse)", err)
	}
}

// Deleting a database stops the listener serving it, which then says why,
// in its state and in its stop event.
func TestDeleteDatabaseStopsItsListener(t *testing.T) {
	e := newTestEngine(t)
	db, err := e.CreateDatabase("notes")
	if err != nil {
		t.Fatal(err)
	}
	l, err := e.NewListener(ListenerConfig{Database: db, DisableTLS: true, NetworkInterface: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	sub := e.Subscribe(64)
	defer sub.Close()
	if err := e.DeleteDatabase("notes"); err != nil {
		t.Fatal(err)
	}
	if l.Running() || l.Err() == nil || !strings.Contains(l.Err().Error(), `"notes" was deleted`) {
		t.Fatalf("after the delete: running %v, error %v", l.Running(), l.Err())
	}
	for ev := range sub.C {
		if st, ok := ev.(ListenerStopped); ok && st.ID == l.ID() {
			if st.Err == nil {
				t.Error("the stop event gives no reason")
			}
			break
		}
	}
}
