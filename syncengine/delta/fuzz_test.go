package delta

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzApply feeds arbitrary old/delta pairs to Apply: it must not panic, must
// report failures as errors, and any result must be valid JSON no larger than
// the inputs allow (so no delta can make it allocate without bound).
func FuzzApply(f *testing.F) {
	for _, ex := range formatExamples {
		f.Add([]byte(ex.old), []byte(ex.delta))
	}
	for _, m := range malformedDeltas {
		f.Add([]byte(m.old), []byte(m.delta))
	}
	f.Add([]byte(`"The fog comes in on little cat feet"`), []byte(`["4=1-1+d|30=",0,2]`))
	f.Add([]byte(`{"a":[1,{"b":"héllo wörld"}]}`), []byte(`{"a":{"1":{"b":["1=2-1+e|10=",0,2]},"2-":[null]}}`))
	f.Fuzz(func(t *testing.T, old, delta []byte) {
		if !json.Valid(old) {
			return
		}
		got, err := Apply(old, delta)
		if err != nil {
			var de *Error
			if json.Valid(delta) && !errors.As(err, &de) {
				t.Fatalf("error for a JSON delta is not *Error: %v", err)
			}
			return
		}
		if !json.Valid(got) {
			t.Fatalf("Apply gave invalid JSON %q", got)
		}
		// Every output byte comes from old or the delta; escaping can at
		// most grow a byte sixfold (\u00XX).
		if limit := 6*(len(old)+len(delta)) + 16; len(got) > limit {
			t.Fatalf("result of %d bytes from %d+%d input bytes", len(got), len(old), len(delta))
		}
	})
}

// FuzzRoundTrip checks Apply(old, Create(old, new)) == new for any two JSON
// texts, and that Create is deterministic.
func FuzzRoundTrip(f *testing.F) {
	for _, ex := range formatExamples {
		f.Add([]byte(ex.old), []byte(ex.new))
	}
	f.Add([]byte(`{"a":[1,2,3],"s":"x"}`), []byte(`{"a":[1,2],"s":"y","t":true}`))
	f.Add([]byte(`[]`), []byte(`{}`))
	f.Add([]byte(`"`+longText+`"`), []byte(`"`+longText[:40]+"中文"+longText[42:]+`"`))
	f.Fuzz(func(t *testing.T, old, new []byte) {
		if !json.Valid(old) || !json.Valid(new) {
			return
		}
		d, err := Create(old, new)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		got, err := Apply(old, d)
		if err != nil {
			t.Fatalf("Apply(%s, %s): %v", old, d, err)
		}
		g, _ := decode(got)
		w, _ := decode(new)
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("round trip: old %s new %s delta %s gave %s", old, new, d, got)
		}
		again, _ := Create(old, new)
		if string(again) != string(d) {
			t.Fatalf("Create not deterministic: %s vs %s", d, again)
		}
	})
}

const longText = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor 😀 incididunt"
