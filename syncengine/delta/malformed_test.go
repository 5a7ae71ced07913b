package delta

import (
	"errors"
	"strings"
	"testing"
)

// Each delta here must be refused with an *Error wrapping ErrMalformed.
var malformedDeltas = []struct {
	name, old, delta string
	reason           string // part of the error message
}{
	{"not JSON", `{}`, `{"a":`, "not a JSON value"},
	{"trailing data", `{}`, `{} []`, "data after"},
	{"empty", `{}`, ``, "not a JSON value"},
	{"delete the root", `{"a":1}`, `[]`, "deletes the whole value"},
	{"JDP delete the root", `{"a":1}`, `[1,0,0]`, "deletes the whole value"},
	{"four-item array", `{"a":1}`, `{"a":[1,2,3,4]}`, "4 items"},
	{"delete missing key", `{"a":1}`, `{"b":[]}`, "does not exist"},
	{"object delta on missing key", `{"a":1}`, `{"b":{"c":1}}`, "does not exist"},
	{"empty object delta on missing key", `{"a":1}`, `{"b":{}}`, "does not exist"},
	{"object delta on string", `{"a":"x"}`, `{"a":{"b":1}}`, "not an object or array"},
	{"object delta on number", `3`, `{"0":1}`, "not an object or array"},
	{"JDP replace of missing key", `{"a":1}`, `{"b":[1,2]}`, "does not exist"},
	{"three items, second not 0", `{"a":"xyz"}`, `{"a":["3=",1,2]}`, "second item"},
	{"three items, unknown code", `{"a":"xyz"}`, `{"a":["3=",0,3]}`, "unknown code"},
	{"three items, code not a number", `{"a":"xyz"}`, `{"a":["3=",0,"2"]}`, "unknown code"},
	{"string patch on number", `{"a":5}`, `{"a":["1=",0,2]}`, "not a string"},
	{"string patch on missing key", `{}`, `{"a":["1+x|",0,2]}`, "not a string"},
	{"string patch not a string", `{"a":"xyz"}`, `{"a":[3,0,2]}`, "patch that is not a string"},
	{"empty string patch", `{"a":""}`, `{"a":["",0,2]}`, "empty string patch"},
	{"patch count too short", `"abcdef"`, `["5=",0,2]`, "do not sum"},
	{"patch count too long", `"abcdef"`, `["7=",0,2]`, "exceed"},
	{"patch skip too long", `"abcdef"`, `["3=4-",0,2]`, "exceed"},
	{"patch missing op", `"abcdef"`, `["6",0,2]`, "without an op"},
	{"patch unknown op", `"abcdef"`, `["6*",0,2]`, "unknown op"},
	{"patch op without count", `"abcdef"`, `["=6=",0,2]`, "byte count"},
	{"patch negative count", `"abcdef"`, `["-1=7=",0,2]`, "byte count"},
	{"patch insert without bar", `"abcdef"`, `["2+xy6=",0,2]`, "'|'"},
	{"patch insert past end", `"abcdef"`, `["6=99+xy|",0,2]`, "'|'"},
	{"patch insert exactly to end", `"abcdef"`, `["6=2+xy",0,2]`, "'|'"},
	{"patch huge count", `"abcdef"`, `["99999999999999999999=",0,2]`, "byte count"},
	{"patch splits a character", `"héllo wörld"`, `["2=1-10=",0,2]`, "invalid UTF-8"},
	{"patch inserts half a character", `"ab"`, `["1=1+\u00e9|1=",0,2]`, "'|'"},
	{"array index out of range", `[1,2]`, `{"2":3}`, "out of range"},
	{"array index not a number", `[1,2]`, `{"x":3}`, "not an index"},
	{"array index negative", `[1,2]`, `{"-1":3}`, "not an index"},
	{"array index leading zero", `[1,2]`, `{"01":3}`, "not an index"},
	{"array index with plus", `[1,2]`, `{"+1":3}`, "not an index"},
	{"array index huge", `[1,2]`, `{"99999999999999999999":3}`, "not an index"},
	{"array tail past end", `[1,2]`, `{"3-":[3]}`, "past the end"},
	{"array tail not an array", `[1,2]`, `{"1-":3}`, "tail is not an array"},
	{"array tail leading zero", `[1,2]`, `{"01-":[3]}`, "not an index"},
	{"array tail without index", `[1,2]`, `{"-":[3]}`, "not an index"},
	{"array two tails", `[1,2,3]`, `{"1-":[],"2-":[]}`, "two tails"},
	{"array index inside tail", `[1,2,3]`, `{"2":5,"1-":[]}`, "inside the replaced tail"},
	{"array item deletion", `[1,2,3]`, `{"1":[]}`, "deletion of an array item"},
	{"nested error", `{"a":{"b":[1,{"c":"xy"}]}}`, `{"a":{"b":{"1":{"c":["3=",0,2]}}}}`, "exceed"},
}

func TestMalformedDeltas(t *testing.T) {
	for _, tc := range malformedDeltas {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Apply([]byte(tc.old), []byte(tc.delta))
			if err == nil {
				t.Fatalf("Apply(%s, %s) = %s, want an error", tc.old, tc.delta, got)
			}
			var de *Error
			if !errors.Is(err, ErrMalformed) || !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not an *Error wrapping ErrMalformed", err, err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("error %q does not mention %q", err, tc.reason)
			}
		})
	}
}

func TestErrorNamesThePath(t *testing.T) {
	_, err := Apply([]byte(`{"a":{"b":[1,{"c":"xy"}]}}`), []byte(`{"a":{"b":{"1":{"c":["3=",0,2]}}}}`))
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("err = %v", err)
	}
	if de.Path != "/a/b/1/c" {
		t.Fatalf("Path = %q, want /a/b/1/c (error: %v)", de.Path, err)
	}
}

// Valid edge cases next to the malformed ones, so the table is not just
// rejecting everything near a boundary.
func TestBoundaryDeltasThatAreValid(t *testing.T) {
	cases := []struct{ old, delta, want string }{
		{`"abcdef"`, `["6=2+xy|",0,2]`, `"abcdefxy"`},
		{`"abcdef"`, `["0=6-",0,2]`, `""`},
		{`""`, `["3+a|b|",0,2]`, `"a|b"`},
		{`"héllo"`, `["1=2-1+e|3=",0,2]`, `"hello"`},
		{`[1,2]`, `{"2-":[3]}`, `[1,2,3]`},
		{`[1,2]`, `{"0-":[]}`, `[]`},
		{`[1,2]`, `{"0":5,"1-":[]}`, `[5]`},
		{`[]`, `{}`, `[]`},
		{`"x"`, `{}`, `"x"`},
		{`{"a":1}`, `{"b":[[1,2]]}`, `{"a":1,"b":[1,2]}`},
		{`{"a":1}`, `["replaced"]`, `"replaced"`},
	}
	for _, c := range cases {
		got, err := Apply([]byte(c.old), []byte(c.delta))
		if err != nil {
			t.Errorf("Apply(%s, %s): %v", c.old, c.delta, err)
			continue
		}
		assertSameJSON(t, got, c.want)
	}
}
