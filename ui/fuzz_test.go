package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzBodyHelpers feeds arbitrary editor text to the JSON helpers: they
// must never panic, and checkBody must accept only what the engine would.
func FuzzBodyHelpers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, "{\n  \"a\": [1,\n}", `[1]`, `{"_id":1}`, `{"a":{"b":"\u00e9"}}`, "\xff", `{"a":1}{}`, ""} {
		f.Add(s, `{"a":2}`)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		err := checkBody(a)
		if err == nil {
			if !utf8.ValidString(a) {
				t.Fatalf("checkBody accepted invalid UTF-8 %q", a)
			}
			var top map[string]json.RawMessage
			if json.Unmarshal([]byte(a), &top) != nil || top == nil {
				t.Fatalf("checkBody accepted %q", a)
			}
			for k := range top {
				if strings.HasPrefix(k, "_") {
					t.Fatalf("checkBody accepted reserved key in %q", a)
				}
			}
		}
		_ = prettyJSON([]byte(a))
		blocks, ok := objectBlocks([]byte(a))
		if err == nil && (!ok || len(blocks) != countKeys(a)) {
			t.Fatalf("objectBlocks(%q) = %d blocks, ok %v", a, len(blocks), ok)
		}
		diff := differingKeys([][]byte{[]byte(a), []byte(b)})
		if a == b && len(diff) != 0 {
			t.Fatalf("identical bodies differ in %v", diff)
		}
	})
}

func countKeys(body string) int {
	var top map[string]json.RawMessage
	_ = json.Unmarshal([]byte(body), &top)
	return len(top)
}
