package revtree

import "testing"

// Revision IDs are part of the wire format and of every stored tree: the
// same parent, deleted flag and body must always give the same ID.
func TestNewRevIDIsStable(t *testing.T) {
	for _, c := range []struct {
		parent  string
		deleted bool
		body    string
		want    string
	}{
		{"", false, `{"a":1}`, "1-66c183b8980c2066b2d6ecd701d3823bc0c1b838"},
		{"41-0123456789abcdef0123456789abcdef01234567", true, "", "42-939ee094c8d31378c13411aa99fff028bf80b204"},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		if got := NewRevID(c.parent, c.deleted, body); got != c.want {
			t.Errorf("NewRevID(%q, %v, %q) = %s, want %s", c.parent, c.deleted, c.body, got, c.want)
		}
	}
}

func BenchmarkNewRevID(b *testing.B) {
	body := make([]byte, 1000)
	for b.Loop() {
		NewRevID("3-0123456789abcdef0123456789abcdef01234567", false, body)
	}
}
