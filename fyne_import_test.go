package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEngineDoesNotImportFyne keeps the engine and discovery display-free:
// they must build and test without cgo or a GUI toolkit.
func TestEngineDoesNotImportFyne(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "./syncengine/...", "./discovery/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "fyne.io/") || strings.HasPrefix(pkg, "peersync/ui") || strings.HasPrefix(pkg, "peersync/app") {
			t.Errorf("the engine depends on %s", pkg)
		}
	}
}
