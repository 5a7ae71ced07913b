package store

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestCrashSafety kills a writing child process with SIGKILL and checks that
// the file is consistent and holds every write the child saw commit.
func TestCrashSafety(t *testing.T) {
	if os.Getenv("PEERSYNC_CRASH_CHILD_DB") != "" {
		t.Skip("running as the crash child")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), "PEERSYNC_CRASH_CHILD_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	committed := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, err := strconv.Atoi(sc.Text()); err == nil {
			committed = n
		}
		if committed >= 3000 {
			break
		}
	}
	cmd.Process.Kill() // SIGKILL: no chance to clean up
	cmd.Wait()
	if committed == 0 {
		t.Fatal("child reported no commits")
	}

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("consistency check after kill: %v", err)
	}
	err = db.View(func(tx *Tx) error {
		for i := range committed {
			if _, err := tx.Get(DefaultCollection, fmt.Sprintf("doc-%06d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("a reported commit is missing: %v", err)
	}
}

// TestCrashChild is the child half of TestCrashSafety: it writes batches
// forever, printing the number of documents committed after each commit.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("PEERSYNC_CRASH_CHILD_DB")
	if path == "" {
		t.Skip("only runs as TestCrashSafety's child")
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; ; {
		err := db.Update(func(tx *Tx) error {
			for range 10 {
				if _, err := tx.Put(DefaultCollection, fmt.Sprintf("doc-%06d", n), []byte(`{"n":1}`), PutOptions{}); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println(n)
	}
}
