package repl

import (
	"testing"
)

func TestSeqTrackerAdvancesOverContiguousPrefix(t *testing.T) {
	tr := newSeqTracker("0")
	for _, s := range []string{"1", "2", "3", "4"} {
		tr.add(s)
	}
	tr.finish("2")
	tr.finish("4")
	if got := tr.checkpoint(); got != "0" {
		t.Fatalf("checkpoint after 2 and 4 = %s, want 0 (1 is unfinished)", got)
	}
	tr.finish("1")
	if got := tr.checkpoint(); got != "2" || tr.busy() != 2 {
		t.Fatalf("checkpoint = %s busy = %d, want 2 and 2", got, tr.busy())
	}
	tr.finish("3")
	if got := tr.checkpoint(); got != "4" || tr.busy() != 0 {
		t.Fatalf("checkpoint = %s busy = %d, want 4 and 0", got, tr.busy())
	}
	// Opaque sequences: Sync Gateway lists "5:1" in changes (JSON text) and
	// sends 5:1 as the rev's sequence property; the checkpoint keeps JSON.
	tr.add(`"5:1"`)
	tr.finish(`5:1`)
	if tr.checkpoint() != `"5:1"` || tr.busy() != 0 {
		t.Errorf("opaque sequence checkpoint = %s, busy %d", tr.checkpoint(), tr.busy())
	}
}

// TestSeqTrackerRepeatedSequences: a peer may offer a sequence twice; it
// is tracked once and one finish completes it. A finish of a sequence that
// is not pending (a stray or second copy) does not mark a later offer done.
func TestSeqTrackerRepeatedSequences(t *testing.T) {
	tr := newSeqTracker("0")
	for _, s := range []string{"1", "2", "1", "3"} {
		tr.add(s)
	}
	tr.finish("3")
	tr.finish("1")
	tr.finish("2")
	if got := tr.checkpoint(); got != "3" || tr.busy() != 0 {
		t.Fatalf("checkpoint = %s busy = %d, want 3 and 0", got, tr.busy())
	}
	tr.finish("4") // not offered yet
	tr.add("4")
	if got := tr.checkpoint(); got != "3" || tr.busy() != 1 {
		t.Fatalf("after a stray finish: checkpoint = %s busy = %d, want 3 and 1", got, tr.busy())
	}
	tr.finish("4")
	if got := tr.checkpoint(); got != "4" || tr.busy() != 0 {
		t.Fatalf("checkpoint = %s busy = %d, want 4 and 0", got, tr.busy())
	}
}

func TestParseLocalSeq(t *testing.T) {
	for in, want := range map[string]uint64{"": 0, "0": 0, "42": 42, `"42"`: 42} {
		if got, err := parseLocalSeq(in); err != nil || got != want {
			t.Errorf("parseLocalSeq(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"-1", `"x"`, "[1]", "{"} {
		if _, err := parseLocalSeq(bad); err == nil {
			t.Errorf("parseLocalSeq(%q) accepted", bad)
		}
	}
}

func TestDefaultResolver(t *testing.T) {
	live := func(id string) Revision { return Revision{RevID: id, Body: []byte(`{}`)} }
	dead := func(id string) Revision { return Revision{RevID: id, Deleted: true} }
	cases := []struct {
		local, remote Revision
		want, rule    string
	}{
		{live("3-a"), live("2-z"), "3-a", RuleMoreEditsWin},   // higher generation
		{live("2-a"), live("2-b"), "2-b", RuleRevIDWins},      // tie: greater revID
		{live("5-a"), dead("2-b"), "2-b", RuleDeletionWins},   // a deletion wins
		{dead("2-a"), live("9-b"), "2-a", RuleDeletionWins},   // a local deletion wins too
		{live("10-a"), live("9-z"), "10-a", RuleMoreEditsWin}, // generations compare as numbers
	}
	for _, c := range cases {
		got, _ := DefaultResolver(Conflict{Local: c.local, Remote: c.remote})
		if got.RevID != c.want || got.Rule != c.rule {
			t.Errorf("DefaultResolver(%s vs %s) = %s (%q), want %s (%q)", c.local.RevID, c.remote.RevID, got.RevID, got.Rule, c.want, c.rule)
		}
	}
}

func TestStripSpecialAndProposeAnswers(t *testing.T) {
	out, err := stripSpecial([]byte(`{"_id":"x","_rev":"1-a","_revisions":{},"keep":1,"_attachments":{}}`))
	if err != nil || string(out) != `{"_attachments":{},"keep":1}` {
		t.Errorf("stripSpecial = %s, %v", out, err)
	}
	if out, _ := stripSpecial(nil); string(out) != "{}" {
		t.Errorf("empty body = %s", out)
	}
	if _, err := stripSpecial([]byte(`["_x"]`)); err == nil {
		t.Error("non-object body with _ accepted")
	}
	if s, r, err := parseProposeAnswer([]byte(`{"status":409,"rev":"3-c"}`)); s != 409 || r != "3-c" || err != nil {
		t.Errorf("object answer = %d %q %v", s, r, err)
	}
	if s, _, err := parseProposeAnswer([]byte(`304`)); s != 304 || err != nil {
		t.Errorf("int answer = %d %v", s, err)
	}
	if _, _, err := parseProposeAnswer([]byte(`"send it"`)); err == nil {
		t.Error("a string answer was taken for a status")
	}
}

func TestBlobProofMatchesFormula(t *testing.T) {
	// sha1(len(nonce) ‖ nonce ‖ blob), base64, "sha1-" prefix: recompute by hand.
	got := blobProof([]byte{1, 2, 3}, []byte("data"))
	if len(got) != len("sha1-")+28 || got[:5] != "sha1-" {
		t.Errorf("proof %q has the wrong shape", got)
	}
	if got == blobProof([]byte{1, 2, 4}, []byte("data")) {
		t.Error("different nonces give the same proof")
	}
}

func TestCollectionNamesOnTheWire(t *testing.T) {
	for _, c := range []struct{ full, wire string }{
		{"_default._default", "_default"},
		{"_default.foo", "foo"},
		{"inventory.items", "inventory.items"},
		{"inventory._default", "inventory._default"},
	} {
		if got := wireCollectionName(c.full); got != c.wire {
			t.Errorf("wireCollectionName(%q) = %q, want %q", c.full, got, c.wire)
		}
		if got := fullCollectionName(c.wire); got != c.full {
			t.Errorf("fullCollectionName(%q) = %q, want %q", c.wire, got, c.full)
		}
		if got := fullCollectionName(c.full); got != c.full {
			t.Errorf("fullCollectionName(%q) = %q, want it unchanged", c.full, got)
		}
	}
}

func TestParseChangesAnswer(t *testing.T) {
	for raw, want := range map[string][]string{`0`: nil, `null`: nil, `409`: nil, `[]`: {}, `["1-a","2-b"]`: {"1-a", "2-b"}} {
		got, err := parseChangesAnswer([]byte(raw))
		if err != nil || (got == nil) != (want == nil) || len(got) != len(want) {
			t.Errorf("parseChangesAnswer(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, bad := range []string{`"x"`, `{"a":1}`, `[1,2]`, `true`} {
		if _, err := parseChangesAnswer([]byte(bad)); err == nil {
			t.Errorf("parseChangesAnswer(%s) accepted", bad)
		}
	}
}
