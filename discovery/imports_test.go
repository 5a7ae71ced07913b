package discovery

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoForbiddenImports keeps the package usable without a GUI: it must not
// pull in Fyne or the app and ui packages, directly or indirectly.
func TestNoForbiddenImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !strings.Contains(string(out), "github.com/hashicorp/mdns") {
		t.Fatalf("go list output looks wrong: %q", out)
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, "fyne.io/") || dep == "peersync/ui" || strings.HasPrefix(dep, "peersync/ui/") ||
			dep == "peersync/app" || strings.HasPrefix(dep, "peersync/app/") {
			t.Errorf("discovery depends on %s", dep)
		}
	}
}
