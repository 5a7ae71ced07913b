package delta

import (
	"reflect"
	"testing"
)

// mustDecode decodes JSON text the way the package does (numbers as json.Number).
func mustDecode(t testing.TB, text string) any {
	t.Helper()
	v, err := decode([]byte(text))
	if err != nil {
		t.Fatalf("decode %q: %v", text, err)
	}
	return v
}

// assertSameJSON fails unless got and want decode to equal values.
func assertSameJSON(t testing.TB, got []byte, want string) {
	t.Helper()
	g, err := decode(got)
	if err != nil {
		t.Fatalf("result %q is not JSON: %v", got, err)
	}
	if w := mustDecode(t, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
