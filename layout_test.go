package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The intended layout of the code, as a test (after Tailscale's deptest).
// Layers, from the bottom:
//
//	syncengine/{revtree,hlv,delta,blip,tlsid}  leaves
//	syncengine/store → revtree, hlv;  syncengine/repl → store, revtree, blip, delta
//	syncengine        the engine's public API over its subpackages
//	discovery         LAN discovery, beside the engine (may use its public API)
//	service           configuration, runner, control socket, LAN discovery glue
//	ui                Fyne screens over the engine's public API, discovery and
//	                  the service's specifications (the forms edit them)
//	app               composition: flags, CLI commands, GUI adapter, headless launch
//	peersync (main)   calls app
//
// Nothing points upward, nothing imports app but main, and the test helper
// packages are imported only by tests.

type importRule struct {
	pkg string   // import path
	may []string // the peersync packages it may import
	why string
}

// importRules say which peersync packages each package may import directly
// (in its non-test files). A package missing here fails the test: a new
// package must be placed in the layering on purpose.
var importRules = []importRule{
	{"peersync", []string{"peersync/app"}, "main only parses flags and calls app"},
	{"peersync/app", []string{"peersync/assets", "peersync/discovery", "peersync/service", "peersync/syncengine", "peersync/syncengine/doctor", "peersync/syncengine/hlv",
		"peersync/syncengine/endpoint", "peersync/syncengine/tlsid", "peersync/ui"},
		"app composes the service, the engine and the GUI: flags, commands, the GUI adapter"},
	{"peersync/service", []string{"peersync/discovery", "peersync/syncengine", "peersync/syncengine/endpoint", "peersync/syncengine/tlsid"},
		"the service runtime (configuration, runner, control socket, discovery glue) that the CLI, --headless and the GUI drive; never the GUI"},
	{"peersync/ui", []string{"peersync/assets", "peersync/discovery", "peersync/service", "peersync/syncengine", "peersync/syncengine/doctor",
		"peersync/syncengine/endpoint", "peersync/syncengine/tlsid"},
		"the GUI uses only the engine's public API (identities, URLs and the doctor are part of it) and edits the service's listener and replication specifications, never the engine's storage or protocol packages"},
	{"peersync/discovery", []string{"peersync/syncengine", "peersync/syncengine/endpoint", "peersync/syncengine/tlsid"},
		"discovery sits beside the engine: it may use the public API, never the GUI or app"},
	{"peersync/syncengine", []string{"peersync/syncengine/blip", "peersync/syncengine/delta", "peersync/syncengine/endpoint", "peersync/syncengine/repl",
		"peersync/syncengine/revtree", "peersync/syncengine/store", "peersync/syncengine/tlsid"},
		"the engine is built from its subpackages and nothing above it"},
	{"peersync/syncengine/repl", []string{"peersync/syncengine/blip", "peersync/syncengine/delta", "peersync/syncengine/hlv", "peersync/syncengine/revtree", "peersync/syncengine/store"},
		"the replication session sits on storage and the wire protocol"},
	{"peersync/syncengine/store", []string{"peersync/syncengine/hlv", "peersync/syncengine/revtree", "peersync/syncengine/store/boltfile"},
		"storage keeps revision trees and version vectors, and checks its file before bbolt opens it"},
	{"peersync/syncengine/store/boltfile", nil, "reads a bbolt file's pages with plain reads"},
	{"peersync/syncengine/hlv", nil, "version vectors: a pure value type"},
	{"peersync/syncengine/endpoint", nil, "replication URLs: a pure parser"},
	{"peersync/syncengine/doctor", []string{"peersync/syncengine", "peersync/syncengine/blip", "peersync/syncengine/tlsid"},
		"the doctor uses the engine's own dialling and trust, and speaks one BLIP request"},
	{"peersync/bench", nil, "benchmarks that drive the built binary"},
	{"peersync/syncengine/revtree", nil, "a pure value type"},
	{"peersync/syncengine/delta", nil, "a pure JSON algorithm"},
	{"peersync/syncengine/blip", nil, "the wire protocol knows nothing of documents"},
	{"peersync/syncengine/tlsid", nil, "TLS identities stand alone"},
	{"peersync/assets", nil, "embedded files"},
	{"peersync/packaging", nil, "tests of the release packages"},
	// Test helpers: imported by tests only (see depRules).
	{"peersync/internal/xvfbtest", nil, "test helper: virtual X display"},
	{"peersync/internal/leaktest", nil, "test helper: no goroutine left behind"},
	{"peersync/discovery/netnstest", nil, "test helper: network namespaces"},
	{"peersync/syncengine/internal/faultproxy", nil, "test helper: a TCP proxy that breaks connections"},
	{"peersync/syncengine/internal/procmem", nil, "test helper: how much of a file the process has mapped in"},
}

// testHelpers are packages for tests; no program may link them.
var testHelpers = []string{"peersync/internal/xvfbtest", "peersync/internal/leaktest", "peersync/discovery/netnstest",
	"peersync/syncengine/internal/faultproxy", "peersync/syncengine/internal/procmem", "testing"}

// depRules forbid packages anywhere in the dependencies (direct or not) of
// the packages matching pkgs (a go list pattern) in the given build.
var depRules = []struct {
	pkgs  string
	tests bool     // include the dependencies of the packages' tests
	tags  string   // build tags
	goos  string   // "" = this machine
	bad   []string // import paths; "x/..." is x and everything below it
	why   string
}{
	{"./syncengine/...", true, "", "", []string{"fyne.io/...", "peersync/ui/...", "peersync/app/...", "peersync/discovery/..."},
		"the engine is a library: it builds and tests without cgo, a display or the parts built on it"},
	{"./discovery/...", true, "", "", []string{"fyne.io/...", "peersync/ui/...", "peersync/app/..."},
		"discovery runs in the headless service: no GUI toolkit"},
	{"./service/...", true, "", "", []string{"fyne.io/...", "peersync/ui/...", "peersync/app/..."},
		"the service runtime runs headless: no GUI toolkit, nothing of the composition root"},
	{".", false, "headless", "", []string{"fyne.io/...", "peersync/ui/..."}, "the headless build has no GUI and no cgo"},
	{".", false, "", "", testHelpers, "test helpers never ship"},
	{".", false, "", "windows", testHelpers, "test helpers never ship (Windows build)"},
	{".", false, "", "darwin", testHelpers, "test helpers never ship (macOS build)"},
}

// goList runs go list with the given build and returns, per package, the
// listed field (space-separated).
func goList(t *testing.T, goos, tags, field string, tests bool, pattern string) map[string][]string {
	t.Helper()
	args := []string{"list", "-f", "{{.ImportPath}}\t{{join ." + field + " \" \"}}"}
	if tests {
		args = append(args, "-test")
	}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, pattern)...)
	cmd.Env = os.Environ()
	if goos != "" && goos != runtime.GOOS {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=1")
	}
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	pkgs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		path, list, _ := strings.Cut(sc.Text(), "\t")
		pkgs[path] = strings.Fields(list)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go %s listed no packages", strings.Join(args, " "))
	}
	return pkgs
}

// matches reports whether path is pattern, or below it for "x/...".
func matches(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func TestLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("the go command is needed to list the packages' imports")
	}
	t.Run("imports", func(t *testing.T) {
		imports := goList(t, "", "", "Imports", false, "./...")
		for _, goos := range []string{"windows", "darwin"} {
			for pkg, list := range goList(t, goos, "", "Imports", false, "./...") {
				imports[pkg] = append(imports[pkg], list...)
			}
		}
		for pkg, list := range goList(t, "", "headless", "Imports", false, "./...") {
			imports[pkg] = append(imports[pkg], list...)
		}
		for pkg, list := range imports {
			slices.Sort(list)
			imports[pkg] = slices.Compact(list)
		}
		for _, r := range importRules {
			if _, ok := imports[r.pkg]; !ok {
				t.Errorf("rule for %s: no such package (remove or rename the rule)", r.pkg)
			}
		}
		for pkg, list := range imports {
			i := slices.IndexFunc(importRules, func(r importRule) bool { return r.pkg == pkg })
			if i < 0 {
				t.Errorf("%s is not in the layering: add it to importRules", pkg)
				continue
			}
			r := importRules[i]
			for _, imp := range list {
				if (imp == "peersync" || strings.HasPrefix(imp, "peersync/")) && !slices.Contains(r.may, imp) {
					t.Errorf("%s imports %s: %s", pkg, imp, r.why)
				}
			}
		}
	})
	for _, r := range depRules {
		name := strings.TrimPrefix(r.pkgs, "./")
		if name == "." {
			name = "peersync"
		}
		if r.tags != "" {
			name += " tags=" + r.tags
		}
		if r.goos != "" {
			name += " GOOS=" + r.goos
		}
		t.Run(name, func(t *testing.T) {
			deps := goList(t, r.goos, r.tags, "Deps", r.tests, r.pkgs)
			for pkg, list := range deps {
				for _, dep := range list {
					for _, bad := range r.bad {
						if matches(bad, dep) {
							t.Errorf("%s depends on %s: %s", pkg, dep, r.why)
						}
					}
				}
			}
		})
	}
}

// TestLayeringCatchesAViolation checks the checker: the engine's real
// dependencies contain bbolt, so a rule forbidding it must fire.
func TestLayeringCatchesAViolation(t *testing.T) {
	deps := goList(t, "", "", "Deps", false, "./syncengine")
	found := false
	for _, dep := range deps["peersync/syncengine"] {
		found = found || matches("go.etcd.io/bbolt/...", dep)
	}
	if !found || !matches("fyne.io/...", "fyne.io/fyne/v2") || matches("fyne.io/...", "fyne.iox/y") {
		t.Fatalf("the checker would miss a violation: bbolt found %v", found)
	}
}
