package hlv

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// FuzzParse checks that whatever Parse accepts is valid, writes back to text
// that parses to the same vector, and survives the rev/history split.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"18ed5681cf9c0000@" + srcSG,
		"18ed5690b4980000@" + srcC + ", 18ed5690b47b0000@" + srcC + ", 18ed5690b44b0000@" + srcB + "; 18ed5690b4180000@" + srcA,
		"18ed5690b4980000@" + srcC + ",18ed5690b44b0000@" + srcB + ";",
		"18ed56930b540000@/01CoKh/Yr7Xe91Q08tHqQ; 2-bbbb2222, 1-aaaa1111",
		"3-cccc3333,2-cccc2222", "3cccc333300@Revision+Tree+Encoding", "", ";", "1@" + srcA + ";;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, legacy, err := Parse(s)
		if err != nil {
			return
		}
		if v.IsZero() {
			if len(legacy) == 0 {
				t.Fatalf("Parse(%q) accepted nothing", s)
			}
			return
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("Parse(%q) accepted an invalid vector: %v", s, err)
		}
		back, _, err := Parse(v.String())
		if err != nil || back.String() != v.String() || Compare(back, v) != Same {
			t.Fatalf("round trip of %q: %q -> %q, %v", s, v, back, err)
		}
		split, splitLegacy, err := ParseRevHistory(v.Current.String(), v.History(legacy...))
		if err != nil || split.String() != v.String() || len(splitLegacy) != len(legacy) {
			t.Fatalf("rev/history of %q: %q %v %v", s, split, splitLegacy, err)
		}
	})
}

// FuzzParseVersion checks that accepted versions write back byte for byte:
// there is one spelling of each version.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"18ed5681cf9c0000@" + srcSG, "1@" + srcA, "0@" + srcA, "1@*", "1-abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		if v.String() != s {
			t.Fatalf("ParseVersion(%q) writes back as %q", s, v)
		}
	})
}

// FuzzParseStrict checks that whatever ParseStrict accepts has only times
// Couchbase Lite accepts, and that it accepts no more than Parse does.
func FuzzParseStrict(f *testing.F) {
	for _, s := range []string{
		"18ed5681cf9c0000@" + srcSG, "1@" + srcA, "ffffffffffffffff@" + srcA,
		"18ed5690b4980000@" + srcC + ";18ed5690b4180000@" + srcA, "3cccc333300@Revision+Tree+Encoding",
	} {
		f.Add(s)
	}
	now := time.Unix(0, 0x18ed5690b4980000)
	f.Fuzz(func(t *testing.T, s string) {
		v, _, err := ParseStrict(s, now)
		if err != nil {
			return
		}
		if _, _, perr := Parse(s); perr != nil {
			t.Fatalf("ParseStrict(%q) accepted what Parse refuses: %v", s, perr)
		}
		if err := v.CheckTimes(now); err != nil {
			t.Fatalf("ParseStrict(%q) accepted a bad time: %v", s, err)
		}
	})
}

func TestParseStrictRefusesTimes(t *testing.T) {
	now := time.Unix(0, 0x18ed5690b4980000)
	for _, s := range []string{
		"1@" + srcA,          // below 2^40
		"ffffffffff@" + srcA, // just below 2^40
		"18ed5690b4980000@" + srcA + ";1@" + srcB,                                      // a bad previous version
		strconv.FormatUint(uint64(now.Add(3*time.Minute).UnixNano()), 16) + "@" + srcA, // too far ahead
	} {
		if _, _, err := ParseStrict(s, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseStrict(%q) = %v, want ErrInvalid", s, err)
		}
	}
	ok := strconv.FormatUint(uint64(now.Add(time.Minute).UnixNano()), 16) + "@" + srcA
	if _, _, err := ParseStrict(ok, now); err != nil {
		t.Errorf("ParseStrict(%q): %v", ok, err)
	}
}
