package packaging

import (
	"strings"
	"testing"
)

// The Makefile stamps every build with the version it reads from
// FyneApp.toml; check its reading against ours.
func TestMakefileVersionMatchesFyneAppToml(t *testing.T) {
	requireTools(t, "make is needed to read the Makefile's version", "make")
	root := repoRoot(t)
	want := fyneAppVersion(t, root)
	out, err := runMake(root, "print-version")
	if err != nil {
		t.Fatalf("make print-version: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(out); got != want {
		t.Fatalf("make print-version = %q, FyneApp.toml says %q", got, want)
	}
}
