package hlv

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Source IDs seen on Sync Gateway 4.2's wire (protocol-v4 §3.4).
const (
	srcA  = "F4/ucj7hD7lWsQy5pzNVjA"
	srcB  = "lW6hl/DF97/c0JOEXtCIZw"
	srcC  = "5RaHzUZpveeO96+H4nIUBw"
	srcSG = "W7KZWwHew3UdB553Mw+Z1Q"
)

func ver(t *testing.T, s string) Version {
	t.Helper()
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func vec(t *testing.T, s string) Vector {
	t.Helper()
	v, legacy, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(legacy) > 0 {
		t.Fatalf("Parse(%q): unexpected legacy IDs %v", s, legacy)
	}
	return v
}

func TestParseVersion(t *testing.T) {
	v := ver(t, "18ed5681cf9c0000@"+srcSG)
	if v.Time != 0x18ed5681cf9c0000 || v.Source.String() != srcSG || v.String() != "18ed5681cf9c0000@"+srcSG {
		t.Fatalf("got %+v / %s", v, v)
	}
	for _, bad := range []string{
		"", "@" + srcSG, "0@" + srcSG, "018ed@" + srcSG, "18ED5681@" + srcSG, "0x18ed@" + srcSG,
		"18ed5681cf9c0000", "18ed@", "18ed@*", "18ed@mysource", "123@",
		"18ed@F4/ucj7hD7lWsQy5pzNVjB", // non-zero padding bits: not the canonical spelling
		"18ed@F4/ucj7hD7lWsQy5pzNVjA==", "18ed@F4_ucj7hD7lWsQy5pzNVjA", "11112222333344445@" + srcSG,
		"zz@" + srcSG,
	} {
		if _, err := ParseVersion(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseVersion(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestLegacySourceBytes(t *testing.T) {
	want := [16]byte{0x45, 0xeb, 0xe2, 0xb2, 0x2a, 0x27, 0xf9, 0x3a, 0xde, 0x7b, 0xe1, 0x27, 0x72, 0x87, 0x62, 0x9e}
	if LegacySource != want {
		t.Fatalf("LegacySource = % x", LegacySource[:])
	}
}

func TestLegacyVersion(t *testing.T) {
	for rev, want := range map[string]string{
		"3-cccc3333":                         "3cccc333300@Revision+Tree+Encoding", // seen in SG's changes feed
		"1-62f2418d5326ac9ff32e1653530c2710": "162f2418d53@Revision+Tree+Encoding",
		"2-a":                                "2a000000000@Revision+Tree+Encoding",
	} {
		v, err := LegacyVersion(rev)
		if err != nil || v.String() != want || !v.IsLegacy() {
			t.Errorf("LegacyVersion(%q) = %v, %v; want %s", rev, v, err, want)
		}
		if err := CheckTime(v, time.Now()); err != nil {
			t.Errorf("legacy %s refused: %v", v, err)
		}
	}
	for _, bad := range []string{"", "3", "-abc", "0-abc", "x-abc", "3-", "3-XYZ", "16777216-ab"} {
		if _, err := LegacyVersion(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("LegacyVersion(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestParseVectorForms(t *testing.T) {
	// A merge as LiteCore writes it (with spaces) and as Sync Gateway sends it
	// back (no spaces, merges in another order) are the same vector.
	cbl := vec(t, "18ed5690b4980000@"+srcC+", 18ed5690b47b0000@"+srcC+", 18ed5690b44b0000@"+srcB+"; 18ed5690b4180000@"+srcA)
	sg := vec(t, "18ed5690b4980000@"+srcC+",18ed5690b44b0000@"+srcB+",18ed5690b47b0000@"+srcC+";18ed5690b4180000@"+srcA)
	if cbl.String() != sg.String() || len(cbl.Merges) != 2 || len(cbl.Previous) != 1 {
		t.Fatalf("cbl %s, sg %s", cbl, sg)
	}
	if Compare(cbl, sg) != Same {
		t.Fatal("same merge compares as different")
	}
	// Without ';' every entry is current: a merge.
	if v := vec(t, "18ed5690b4980000@"+srcC+",18ed5690b44b0000@"+srcB); len(v.Merges) != 1 || v.Previous != nil {
		t.Fatalf("no-';' vector: %+v", v)
	}
	// A merge without previous versions keeps a trailing ';' on output.
	m := vec(t, "18ed5690b4980000@"+srcC+",18ed5690b44b0000@"+srcB+";")
	if got := m.String(); !strings.HasSuffix(got, ";") {
		t.Fatalf("merge without pv written as %q", got)
	}
	if again := vec(t, m.String()); len(again.Merges) != 1 {
		t.Fatal("merge group lost in a round trip")
	}
	// Legacy IDs follow the vector.
	v, legacy, err := Parse("18ed56930b540000@/01CoKh/Yr7Xe91Q08tHqQ; 2-bbbb2222")
	if err != nil || v.Current.String() != "18ed56930b540000@/01CoKh/Yr7Xe91Q08tHqQ" || len(legacy) != 1 || legacy[0] != "2-bbbb2222" {
		t.Fatalf("legacy tail: %v %v %v", v, legacy, err)
	}
	for _, bad := range []string{
		"", ",", "18ed@" + srcA + ",,18ed@" + srcB,
		"18ed@" + srcA + ";2-bbbb,18ee@" + srcB, // a version after a legacy ID
		"18ed@" + srcA + ";18ec@" + srcA,        // the same source twice
		"18ed@" + srcA + ",18ee@" + srcA,        // a merge entry of the current source that is newer
		"18ed@" + srcA + ",18ec@" + srcB + ";18eb@" + srcB,
		"2-bbbb;18ed@" + srcA,
	} {
		if _, _, err := Parse(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestParseRevHistory(t *testing.T) {
	cases := []struct {
		rev, history string
		merges, prev int
		legacy       []string
	}{
		// A source updating its own document: no history.
		{"18ed5690b3f60000@" + srcA, "", 0, 0, nil},
		// Another source edits on top: history without ';' is all previous versions.
		{"18ed5690b44b0000@" + srcB, "18ed5690b4180000@" + srcA, 0, 1, nil},
		// A merge pulled back from Sync Gateway.
		{"18ed5690b4980000@" + srcC, "18ed5690b44b0000@" + srcB + ",18ed5690b47b0000@" + srcC + ";18ed5690b4180000@" + srcA, 2, 1, nil},
		// A vector followed by legacy revision IDs (Couchbase Lite after an upgrade).
		{"18ed56930b540000@/01CoKh/Yr7Xe91Q08tHqQ", "2-bbbb2222, 1-aaaa1111", 0, 0, []string{"2-bbbb2222", "1-aaaa1111"}},
		// A legacy-only revision: rev is the revision ID itself.
		{"3-cccc3333", "2-cccc2222,1-cccc1111", 0, 0, []string{"3-cccc3333", "2-cccc2222", "1-cccc1111"}},
	}
	for _, c := range cases {
		v, legacy, err := ParseRevHistory(c.rev, c.history)
		if err != nil {
			t.Errorf("%s / %s: %v", c.rev, c.history, err)
			continue
		}
		if len(v.Merges) != c.merges || len(v.Previous) != c.prev || strings.Join(legacy, " ") != strings.Join(c.legacy, " ") {
			t.Errorf("%s / %s: got %+v legacy %v", c.rev, c.history, v, legacy)
		}
		if v.IsZero() {
			continue
		}
		// Writing the vector back gives the same rev and an equivalent history.
		back, backLegacy, err := ParseRevHistory(v.Current.String(), v.History(legacy...))
		if err != nil || back.String() != v.String() || len(backLegacy) != len(legacy) {
			t.Errorf("round trip of %s: %s %v %v", v, back, backLegacy, err)
		}
	}
	if _, _, err := ParseRevHistory("18ed@"+srcA+";18ec@"+srcB, ""); err == nil {
		t.Error("a rev property with a whole vector was accepted")
	}
	if _, _, err := ParseRevHistory("3-cc", "18ed@"+srcA); err == nil {
		t.Error("a legacy rev with versions in its history was accepted")
	}
}

func TestHistoryProperty(t *testing.T) {
	merge := vec(t, "18ed5690b4980000@"+srcC+",18ed5690b47b0000@"+srcC+",18ed5690b44b0000@"+srcB)
	if h := merge.History(); h != "18ed5690b47b0000@"+srcC+",18ed5690b44b0000@"+srcB+";" {
		t.Errorf("merge without pv: history %q must end the merge group with ';'", h)
	}
	if h := vec(t, "18ed5690b3f60000@"+srcA).History(); h != "" {
		t.Errorf("single version: history %q", h)
	}
	if h := vec(t, "18ed5690b44b0000@"+srcB+";18ed5690b4180000@"+srcA).History("2-bb"); h != "18ed5690b4180000@"+srcA+",2-bb" {
		t.Errorf("pv + legacy: history %q", h)
	}
}

func TestCurrentOf(t *testing.T) {
	for _, s := range []string{"18ed5690b47b0000@" + srcC, "18ed5690b47b0000@" + srcC + ";18ed5690b3f60000@" + srcA, " 18ed5690b47b0000@" + srcC + ", 18ed5690b3f60000@" + srcA} {
		if v, err := CurrentOf(s); err != nil || v.String() != "18ed5690b47b0000@"+srcC {
			t.Errorf("CurrentOf(%q) = %v, %v", s, v, err)
		}
	}
}

func TestCompare(t *testing.T) {
	a1 := vec(t, "18ed5690b3f60000@"+srcA)
	a2 := vec(t, "18ed5690b4180000@"+srcA)
	b := vec(t, "18ed5690b44b0000@"+srcB+";18ed5690b4180000@"+srcA)
	c := vec(t, "18ed5690b47b0000@"+srcC+";18ed5690b3f60000@"+srcA)
	for _, tc := range []struct {
		x, y Vector
		want Order
	}{
		{a1, a1, Same}, {a2, a1, Newer}, {a1, a2, Older},
		{b, a2, Newer}, {b, a1, Newer}, {a2, b, Older},
		{b, c, Conflicting}, {c, b, Conflicting}, {c, a2, Conflicting},
	} {
		if got := Compare(tc.x, tc.y); got != tc.want {
			t.Errorf("Compare(%s, %s) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
	// The same merge made on both sides (equal merge sets) is no conflict.
	m1 := vec(t, "18ed5690b4980000@"+srcC+",18ed5690b47b0000@"+srcC+",18ed5690b44b0000@"+srcB+";")
	m2 := vec(t, "18ed5690b4990000@"+srcB+",18ed5690b47b0000@"+srcC+",18ed5690b44b0000@"+srcB+";")
	m2.Merges = m1.Merges
	if got := Compare(m1, m2); got != Same {
		t.Errorf("equal merges: %v", got)
	}
}

func TestLegacyVersionsComparedByIdentityOnly(t *testing.T) {
	// Two legacy versions of one generation are conflicting siblings even
	// though one's time is larger.
	l1, _ := LegacyVersion("3-cccc3333")
	l2, _ := LegacyVersion("3-dddd3333")
	x, y := Vector{Current: l1}, Vector{Current: l2}
	if got := Compare(y, x); got != Conflicting {
		t.Fatalf("same-generation legacy versions: %v", got)
	}
	if !x.Dominates(l1) || x.Dominates(l2) {
		t.Fatal("legacy dominance is not identity")
	}
}

func TestAddDropsMergesAndOwnEntries(t *testing.T) {
	merge := vec(t, "18ed5690b4980000@"+srcC+",18ed5690b47b0000@"+srcC+",18ed5690b44b0000@"+srcB+";18ed5690b4180000@"+srcA)
	next := merge.Add(ver(t, "18ed5690b5000000@"+srcC))
	want := "18ed5690b5000000@" + srcC + ";18ed5690b44b0000@" + srcB + ",18ed5690b4180000@" + srcA
	if next.String() != want {
		t.Fatalf("Add: %s, want %s", next, want)
	}
	// Another source's edit moves the old current version into pv.
	other := next.Add(ver(t, "18ed5690b6000000@"+srcA))
	if other.TimeOf(ver(t, "1@"+srcC).Source) != 0x18ed5690b5000000 || other.TimeOf(ver(t, "1@"+srcA).Source) != 0x18ed5690b6000000 {
		t.Fatalf("Add by another source: %s", other)
	}
	if err := other.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestFastForward(t *testing.T) {
	// Local knows a newer version of D than the incoming vector does: it is kept.
	const srcD = "EizuEucd2aLN+E8P3y9Viw"
	local := vec(t, "18ed5690b4180000@"+srcA+";18ed5690c0000000@"+srcD)
	incoming := vec(t, "18ed5690b44b0000@"+srcB+";18ed5690b4180000@"+srcA+",18ed5690b0000000@"+srcD)
	if Compare(incoming, local) != Newer {
		t.Fatal("setup: incoming must include local's current version")
	}
	got := FastForward(incoming, local)
	if got.Current != incoming.Current || got.TimeOf(ver(t, "1@"+srcD).Source) != 0x18ed5690c0000000 {
		t.Fatalf("FastForward = %s", got)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	// An incoming merge entry local has seen newer becomes a previous version.
	inMerge := vec(t, "18ed5690d0000000@"+srcC+",18ed5690b44b0000@"+srcB+",18ed5690b0000000@"+srcD+";")
	got = FastForward(inMerge, local)
	if len(got.Merges) != 1 || got.TimeOf(ver(t, "1@"+srcD).Source) != 0x18ed5690c0000000 {
		t.Fatalf("FastForward with a stale merge = %s", got)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestMergeAndTrivialMerge(t *testing.T) {
	a := vec(t, "18ed5690b4180000@"+srcA)
	b := vec(t, "18ed5690b44b0000@"+srcB+";18ed5690b3000000@"+srcA)
	c := vec(t, "18ed5690b47b0000@"+srcC+";18ed5690b4180000@"+srcA)
	if Compare(b, c) != Conflicting {
		t.Fatal("setup: b and c must conflict")
	}
	_ = a
	// A merged body made by C: C's old cv and B's cv are the merges, A is a pv.
	m := Merge(c, b, ver(t, "18ed5690b4980000@"+srcC))
	if m.String() != "18ed5690b4980000@"+srcC+",18ed5690b47b0000@"+srcC+",18ed5690b44b0000@"+srcB+";18ed5690b4180000@"+srcA {
		t.Fatalf("Merge = %s", m)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if Compare(m, b) != Newer || Compare(m, c) != Newer {
		t.Fatal("a merge must include both sides")
	}
	// B wins without a new body: no new version, C's cv goes into pv.
	tm := TrivialMerge(b, c)
	if tm.Current != b.Current || tm.Merges != nil || Compare(tm, c) != Newer || Compare(tm, b) != Same {
		t.Fatalf("TrivialMerge = %s", tm)
	}
}

func TestLastWriteWins(t *testing.T) {
	older := vec(t, "18ed5690b4180000@"+srcA)
	newer := vec(t, "18ed5690b44b0000@"+srcB)
	if !LastWriteWins(older, false, newer, false) || LastWriteWins(newer, false, older, false) {
		t.Error("the newer current version must win")
	}
	if !LastWriteWins(newer, false, older, true) || LastWriteWins(older, true, newer, false) {
		t.Error("a deletion must win over a live revision")
	}
	if LastWriteWins(older, false, older, false) {
		t.Error("a tie must keep the local side")
	}
}

func TestClock(t *testing.T) {
	wall := time.Unix(0, 0x18ed5690b4181234)
	c := NewClock(0, func() time.Time { return wall })
	t1 := c.Now()
	if t1 != 0x18ed5690b4180000 {
		t.Fatalf("Now = %x, want the wall clock with the counter cleared", t1)
	}
	if t2 := c.Now(); t2 != t1+1 {
		t.Fatalf("second Now in the same tick = %x, want %x", t2, t1+1)
	}
	// A received time ahead of ours (within the skew) moves the clock past it.
	srcID, _ := ParseSourceID(srcB)
	ahead := Version{Time: uint64(wall.Add(time.Minute).UnixNano()), Source: srcID}
	if err := c.See(ahead); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); got <= ahead.Time {
		t.Fatalf("Now after See = %x, not past %x", got, ahead.Time)
	}
	// Too far ahead, or too old: refused, and the clock does not move.
	before := c.Last()
	for _, bad := range []Version{
		{Time: uint64(wall.Add(MaxSkew + time.Second).UnixNano()), Source: srcID},
		{Time: MinTime - 1, Source: srcID},
		{Time: 1 << 63, Source: srcID},
	} {
		if err := c.See(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("See(%s) = %v, want ErrInvalid", bad, err)
		}
	}
	if c.Last() != before {
		t.Fatal("a refused time moved the clock")
	}
	// A wall clock that steps back never makes times go backwards.
	wall = wall.Add(-time.Hour)
	if got := c.Now(); got <= before {
		t.Fatalf("Now after the wall clock stepped back = %x <= %x", got, before)
	}
}

func TestNewSourceIDRoundTrip(t *testing.T) {
	for range 100 {
		s, err := NewSourceID()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSourceID(s.String())
		if err != nil || back != s || len(s.String()) != 22 {
			t.Fatalf("%s: %v %v", s, back, err)
		}
	}
}
