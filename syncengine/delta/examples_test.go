package delta

import (
	"errors"
	"strings"
	"testing"
)

// The examples from the format's description (and protocol.md).
var formatExamples = []struct {
	name, old, new, delta string
}{
	{
		name:  "object",
		old:   `{"age":8,"grade":3,"name":{"first":"Bobby","last":"Briggs"}}`,
		new:   `{"age":18,"name":{"first":"Robert","last":"Briggs"}}`,
		delta: `{"age":18,"grade":[],"name":{"first":"Robert"}}`,
	},
	{
		name:  "array",
		old:   `["fee","fie","foe"]`,
		new:   `["fee","fi","foe","fum"]`,
		delta: `{"1":"fi","3-":["fum"]}`,
	},
	{
		name:  "array item changed",
		old:   `["fee","fie","foe","fum"]`,
		new:   `["fee","fi","foe","fum"]`,
		delta: `{"1":"fi"}`,
	},
	{
		name:  "nested array",
		old:   `[{"first":"Mad","last":"Hatter"},{"first":"Cheshire","last":"Puss"}]`,
		new:   `[{"first":"Mad","last":"Hatter"},{"first":"Cheshire","last":"Cat"}]`,
		delta: `{"1":{"last":"Cat"}}`,
	},
	{
		name:  "long string",
		old:   `"to wound the autumnal city. So howled out for the world to give him a name.  The in-dark answered with the wind."`,
		new:   `"To wound the eternal city. So he howled out for the world to give him its name. The in-dark answered with wind."`,
		delta: `["1-1+T|12=5-4+eter|13=3+he |37=1-3+its|6=1-27=4-5=",0,2]`,
	},
}

func TestFormatExamplesApply(t *testing.T) {
	for _, ex := range formatExamples {
		t.Run(ex.name, func(t *testing.T) {
			got, err := Apply([]byte(ex.old), []byte(ex.delta))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			assertSameJSON(t, got, ex.new)
		})
	}
}

func TestFormatExamplesCreate(t *testing.T) {
	for _, ex := range formatExamples {
		t.Run(ex.name, func(t *testing.T) {
			d, err := Create([]byte(ex.old), []byte(ex.new))
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			got, err := Apply([]byte(ex.old), d)
			if err != nil {
				t.Fatalf("Apply(Create) with delta %s: %v", d, err)
			}
			assertSameJSON(t, got, ex.new)
			if len(d) >= len(ex.new)+2 {
				t.Errorf("delta %s (%d bytes) is not smaller than replacing (%d bytes)", d, len(d), len(ex.new)+2)
			}
		})
	}
}

// Where the examples' deltas are what an index-by-index, key-by-key diff must
// produce, Create gives exactly them.
func TestCreateMatchesStructuralExamples(t *testing.T) {
	for _, ex := range formatExamples[:4] {
		d, err := Create([]byte(ex.old), []byte(ex.new))
		if err != nil {
			t.Fatal(err)
		}
		assertSameJSON(t, d, ex.delta)
	}
}

func TestLongStringExampleUsesPatch(t *testing.T) {
	ex := formatExamples[4]
	d, err := Create([]byte(ex.old), []byte(ex.new))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(d), `",0,2]`) {
		t.Fatalf("Create gave %s, want a string patch", d)
	}
}

// The "fog" example in Fleece's text counts 36 bytes for a 35-byte string.
func TestFogExampleTypoIsRejected(t *testing.T) {
	old := `"The fog comes in on little cat feet"`
	_, err := Apply([]byte(old), []byte(`["4=1-1+d|31=",0,2]`))
	var de *Error
	if !errors.Is(err, ErrMalformed) || !errors.As(err, &de) {
		t.Fatalf("Apply(fog typo) error = %v, want *Error wrapping ErrMalformed", err)
	}
	// With the count corrected it applies.
	got, err := Apply([]byte(old), []byte(`["4=1-1+d|30=",0,2]`))
	if err != nil {
		t.Fatal(err)
	}
	assertSameJSON(t, got, `"The dog comes in on little cat feet"`)
}

func TestUnchangedDocumentGivesEmptyDelta(t *testing.T) {
	for _, doc := range []string{`{"a":[1,2,{"b":"c"}],"n":1.50}`, `[]`, `"x"`, `null`, `12`} {
		d, err := Create([]byte(doc), []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if string(d) != `{}` {
			t.Errorf("Create(%s, same) = %s, want {}", doc, d)
		}
		got, err := Apply([]byte(doc), d)
		if err != nil {
			t.Fatalf("Apply(%s, {}): %v", doc, err)
		}
		assertSameJSON(t, got, doc)
	}
}

func TestNumbersRoundTripExactly(t *testing.T) {
	old := `{"big":12345678901234567890123,"f":1.50,"e":1e400}`
	new := `{"big":12345678901234567890124,"f":1.5,"e":1e400}`
	d, err := Create([]byte(old), []byte(new))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Apply([]byte(old), d)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"big":12345678901234567890124,"e":1e400,"f":1.5}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestSmallStringsAreReplacedNotPatched(t *testing.T) {
	d, err := Create([]byte(`{"s":"hello world"}`), []byte(`{"s":"hello there world"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(d) != `{"s":"hello there world"}` {
		t.Fatalf("delta = %s", d)
	}
}

func TestArrayTruncationAndTypeChange(t *testing.T) {
	cases := []struct{ old, new, delta string }{
		{`[1,2,3,4,5,6,7,8]`, `[1,2,3,4,5,6]`, `{"6-":[]}`},
		{`{"a":"x","b":[1,2,3,4,5,6,7,8,9,10]}`, `{"a":"x","b":{"c":1}}`, `{"b":[{"c":1}]}`},
		{`{"a":[1,2,3,4,5,6,7,8,9,10],"k":"keep"}`, `{"a":[],"k":"keep"}`, `{"a":[[]]}`},
		{`{"a":[1,2]}`, `{"a":[]}`, `[{"a":[]}]`}, // a tie goes to plain replacement
		{`5`, `[1]`, `[[1]]`},
	}
	for _, c := range cases {
		d, err := Create([]byte(c.old), []byte(c.new))
		if err != nil {
			t.Fatal(err)
		}
		if string(d) != c.delta {
			t.Errorf("Create(%s, %s) = %s, want %s", c.old, c.new, d, c.delta)
		}
		got, err := Apply([]byte(c.old), d)
		if err != nil {
			t.Fatal(err)
		}
		assertSameJSON(t, got, c.new)
	}
}

// Apply accepts the JsonDiffPatch forms Fleece's applier also accepts.
func TestApplyJsonDiffPatchForms(t *testing.T) {
	got, err := Apply([]byte(`{"a":1,"b":2}`), []byte(`{"a":[1,5],"b":[2,0,0]}`))
	if err != nil {
		t.Fatal(err)
	}
	assertSameJSON(t, got, `{"a":5}`)
}

func TestApplyDoesNotModifyOld(t *testing.T) {
	old := mustDecode(t, `{"a":{"b":[1,2,3]},"c":"d"}`)
	before, _ := encode(old)
	if _, err := ApplyValue(old, mustDecode(t, `{"a":{"b":{"0":9,"3-":[4]}},"c":[]}`)); err != nil {
		t.Fatal(err)
	}
	after, _ := encode(old)
	if string(before) != string(after) {
		t.Fatalf("old changed from %s to %s", before, after)
	}
}

func TestCreateRejectsInvalidJSON(t *testing.T) {
	if _, err := Create([]byte(`{"a":`), []byte(`{}`)); err == nil {
		t.Error("Create accepted truncated old JSON")
	}
	if _, err := Create([]byte(`{}`), []byte(`{} {}`)); err == nil {
		t.Error("Create accepted new JSON with trailing data")
	}
	if _, err := Apply([]byte(`nope`), []byte(`{}`)); err == nil || errors.Is(err, ErrMalformed) {
		t.Errorf("Apply on invalid old JSON: err = %v, want a non-ErrMalformed error", err)
	}
}
