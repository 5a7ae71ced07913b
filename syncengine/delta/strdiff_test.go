package delta

import (
	"math/rand"
	"strings"
	"testing"
)

func TestStringPatchRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 2000; i++ {
		old := randomText(r, r.Intn(2) == 0)
		new := mutateText(r, old)
		if r.Intn(10) == 0 {
			new = randomText(r, true)
		}
		if old == new {
			continue // Create never patches an unchanged string
		}
		patch := stringPatch(old, new)
		got, err := applyStringPatch(old, patch, nil)
		if err != nil {
			t.Fatalf("applyStringPatch(%q, %q): %v", old, patch, err)
		}
		if got != new {
			t.Fatalf("old %q new %q patch %q gave %q", old, new, patch, got)
		}
	}
}

// Beyond maxDiffEdits the diff falls back to one replaced region; the patch
// must still be correct and keep the untouched prefix and suffix as copies.
func TestStringPatchFallbackForLargeEdits(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	var a, b strings.Builder
	for i := 0; i < 3*maxDiffEdits; i++ {
		a.WriteByte(byte('a' + r.Intn(26)))
		b.WriteByte(byte('a' + r.Intn(26)))
	}
	old := "same start " + a.String() + " same end"
	new := "same start " + b.String() + " same end"
	if _, ok := myers([]rune(a.String()), []rune(b.String()), maxDiffEdits); ok {
		t.Fatal("test strings are too similar to exceed maxDiffEdits")
	}
	patch := stringPatch(old, new)
	if !strings.HasPrefix(patch, "11=") || !strings.HasSuffix(patch, "9=") {
		t.Fatalf("patch %.40q... does not copy the common prefix and suffix", patch)
	}
	got, err := applyStringPatch(old, patch, nil)
	if err != nil || got != new {
		t.Fatalf("fallback patch failed: %v", err)
	}
}

func TestMyersFindsShortestScript(t *testing.T) {
	cases := []struct {
		a, b  string
		edits int
	}{
		{"abcabba", "cbabac", 5}, // the example from Myers' paper
		{"", "abc", 3},
		{"abc", "", 3},
		{"kitten", "sitting", 5},
	}
	for _, c := range cases {
		script, ok := myers([]rune(c.a), []rune(c.b), 100)
		if !ok {
			t.Fatalf("myers(%q, %q) gave up", c.a, c.b)
		}
		edits := 0
		for _, s := range script {
			edits += s.oldEnd - s.oldStart + s.newEnd - s.newStart
		}
		if edits != c.edits {
			t.Errorf("myers(%q, %q): %d edits, want %d", c.a, c.b, edits, c.edits)
		}
	}
}

// The long-string example: our patch must be no larger than Fleece's.
func TestLongExamplePatchSize(t *testing.T) {
	old := "to wound the autumnal city. So howled out for the world to give him a name.  The in-dark answered with the wind."
	new := "To wound the eternal city. So he howled out for the world to give him its name. The in-dark answered with wind."
	fleece := "1-1+T|12=5-4+eter|13=3+he |37=1-3+its|6=1-27=4-5="
	patch := stringPatch(old, new)
	t.Logf("patch %q", patch)
	if len(patch) > len(fleece) {
		t.Errorf("patch %q is %d bytes, Fleece's is %d", patch, len(patch), len(fleece))
	}
}

// A huge changed middle skips the character diff but still patches correctly.
func TestStringPatchHugeMiddle(t *testing.T) {
	old := "head " + strings.Repeat("ab", maxDiffChars) + " tail"
	new := "head " + strings.Repeat("ba", maxDiffChars) + "! tail"
	patch := stringPatch(old, new)
	got, err := applyStringPatch(old, patch, nil)
	if err != nil || got != new {
		t.Fatalf("patch failed: %v", err)
	}
	if !strings.HasPrefix(patch, "5=") {
		t.Fatalf("patch %.20q... does not copy the common prefix", patch)
	}
}
