package delta

import (
	"bytes"
	"math/rand"
	"reflect"
	"testing"
)

// For many random pairs, applying Create's delta to old gives new exactly,
// Create is deterministic, and the delta is never larger than replacing.
func TestRoundTripRandomPairs(t *testing.T) {
	stringPatches := 0
	for seed := int64(1); seed <= 4000; seed++ {
		r := rand.New(rand.NewSource(seed))
		old := randomValue(r, 5)
		var new any
		if r.Intn(5) == 0 {
			new = randomValue(r, 5) // unrelated
		} else {
			new = mutate(r, old, 5)
		}
		oldJSON, _ := encode(old)
		newJSON, _ := encode(new)

		d, err := Create(oldJSON, newJSON)
		if err != nil {
			t.Fatalf("seed %d: Create: %v", seed, err)
		}
		got, err := Apply(oldJSON, d)
		if err != nil {
			t.Fatalf("seed %d: Apply: %v\nold   %s\nnew   %s\ndelta %s", seed, err, oldJSON, newJSON, d)
		}
		if !reflect.DeepEqual(mustDecode(t, string(got)), mustDecode(t, string(newJSON))) {
			t.Fatalf("seed %d: round trip differs\nold   %s\nnew   %s\ndelta %s\ngot   %s", seed, oldJSON, newJSON, d, got)
		}
		again, _ := Create(oldJSON, newJSON)
		if !bytes.Equal(d, again) {
			t.Fatalf("seed %d: Create not deterministic: %s vs %s", seed, d, again)
		}
		if limit := len(newJSON) + 2; len(d) > limit {
			t.Fatalf("seed %d: delta %d bytes, replacing costs %d\nnew   %s\ndelta %s", seed, len(d), limit, newJSON, d)
		}
		if bytes.Contains(d, []byte(`",0,2]`)) {
			stringPatches++
		}
	}
	// The generator must really exercise string patches, not only replacements.
	if stringPatches < 100 {
		t.Fatalf("only %d of the deltas used a string patch", stringPatches)
	}
	t.Logf("%d deltas used string patches", stringPatches)
}

// The same property at the value level, where strings need not be UTF-8.
func TestRoundTripValuesWithInvalidUTF8(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 500; i++ {
		base := randomText(r, true)
		old := base[:len(base)/2] + "\xff\xfe" + base[len(base)/2:]
		new := mutateBytes(r, old)
		d, _ := CreateValue(old, new)
		got, err := ApplyValue(old, d)
		if err != nil {
			t.Fatalf("ApplyValue(%q, %#v): %v", old, d, err)
		}
		if got != new {
			t.Fatalf("got %q, want %q (delta %#v)", got, new, d)
		}
	}
}

func mutateBytes(r *rand.Rand, s string) string {
	at := r.Intn(len(s) + 1)
	cut := min(at+r.Intn(3), len(s))
	return s[:at] + "\x80x" + s[cut:]
}

// encodedSize must agree with the encoder, or Create's size choices drift.
func TestEncodedSizeMatchesEncoder(t *testing.T) {
	for seed := int64(1); seed <= 1000; seed++ {
		r := rand.New(rand.NewSource(seed))
		v := randomValue(r, 4)
		b, err := encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := encodedSize(v, 1<<62); got != len(b) {
			t.Fatalf("seed %d: encodedSize = %d, encoder wrote %d bytes: %s", seed, got, len(b), b)
		}
		if limit := len(b) / 2; encodedSize(v, limit) <= limit && len(b) > limit {
			t.Fatalf("seed %d: encodedSize with limit %d claims to fit", seed, limit)
		}
	}
	for _, s := range []string{"\xff", "a\u2028b", "\x00\x1f\x7f", "\b\f"} {
		b, _ := encode(s)
		if got := stringSize(s); got != len(b) {
			t.Errorf("stringSize(%q) = %d, encoder wrote %s", s, got, b)
		}
	}
}
