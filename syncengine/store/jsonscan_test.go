package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// referenceNormalize is the straightforward body check the scanner
// replaced (decode into a map, check keys, compact): the oracle for the
// fuzz test.
func referenceNormalize(body []byte, allowed ...string) ([]byte, error) {
	if !utf8.Valid(body) {
		return nil, ErrInvalidBody
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, ErrInvalidBody
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return nil, ErrInvalidBody
	}
	for k := range top {
		if strings.HasPrefix(k, "_") && !contains(allowed, k) {
			return nil, ErrInvalidBody
		}
	}
	var out bytes.Buffer
	if err := json.Compact(&out, trimmed); err != nil {
		return nil, ErrInvalidBody
	}
	return out.Bytes(), nil
}

func TestNormalizeBody(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{}`, `{}`},
		{` { "a" : [1, 2.5e-3, true, null, "x\u00e9\n"] } `, `{"a":[1,2.5e-3,true,null,"x\u00e9\n"]}`},
		{`{"_attachments":{"a":{"stub":true}},"n":1}`, `{"_attachments":{"a":{"stub":true}},"n":1}`},
		{`{"a":{"_nested":"fine"}}`, `{"a":{"_nested":"fine"}}`},
		{"{\"a\":\"é\"}", "{\"a\":\"é\"}"},
	} {
		got, err := normalizeBody([]byte(c.in), 1<<20, "_attachments")
		if err != nil || string(got) != c.want {
			t.Errorf("normalizeBody(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{
		``, ` `, `[]`, `"x"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`,
		`{"a":tru}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":1}{}`, `{"a":1} x`,
		`{"_id":"x"}`, `{"\u005fid":"x"}`, `{"_rev":"1-a"}`, "{\"a\":\"\xff\"}",
		strings.Repeat(`{"a":`, maxJSONDepth+1) + `1` + strings.Repeat(`}`, maxJSONDepth+1),
	} {
		if _, err := normalizeBody([]byte(bad), 1<<20, "_attachments"); !errors.Is(err, ErrInvalidBody) {
			t.Errorf("normalizeBody(%.40q) = %v, want ErrInvalidBody", bad, err)
		}
	}
}

// A compact body from a peer is kept as it is, not copied.
func TestNormalizeBodyKeepsCompactBytes(t *testing.T) {
	in := []byte(`{"title":"x","n":[1,2,3]}`)
	out, err := normalizeBody(in, 1<<20)
	if err != nil || &out[0] != &in[0] {
		t.Fatalf("compact body was copied or refused: %v", err)
	}
}

func FuzzNormalizeBody(f *testing.F) {
	for _, s := range []string{`{}`, ` {"a" : 1 } `, `{"_attachments":{}}`, `{"\u005fx":1}`, `{"a":[1,{"b":null}]}`,
		`{"a":-0.5E+7}`, `{"a":"\ud83d\ude00"}`, `{"a":1}x`, `{"_id":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, wantErr := referenceNormalize(body, "_attachments")
		got, err := normalizeBody(bytes.Clone(body), 1<<30, "_attachments")
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: scanner says %v, reference says %v", body, err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("%q: scanner gives %q, reference %q", body, got, want)
		}
	})
}

// plainRun must stop at the first quote, backslash or control character
// wherever it falls in the eight-byte words, and pass every other byte.
func TestPlainRun(t *testing.T) {
	for n := 0; n < 20; n++ {
		for _, stop := range []byte{'"', '\\', 0x00, 0x1f, '\n'} {
			for at := 0; at <= n; at++ {
				data := bytes.Repeat([]byte("aé€ \x7f~!#"), 3)[:n] // includes UTF-8 bytes ≥ 0x80
				want := n
				if at < n {
					data = bytes.Clone(data)
					data[at] = stop
					want = at
				}
				if got := plainRun(data, 0); got != want {
					t.Fatalf("plainRun(%q) = %d, want %d", data, got, want)
				}
			}
		}
	}
}
