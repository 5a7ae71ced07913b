package delta

import (
	"fmt"
	"strings"
	"testing"
)

// benchDocs returns a ~10 KB document and a copy with one field changed.
func benchDocs(tb testing.TB) (old, new []byte) {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`{"type":"order","status":"open","items":[`)
	for i := 0; i < 110; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%05d","name":"Item number %d","qty":%d,"price":%d.99,"tags":["a","b"]}`, i, i, i%7+1, i%50)
	}
	b.WriteString(`],"notes":"`)
	b.WriteString(strings.Repeat("Deliver to the back door. ", 60))
	b.WriteString(`"}`)
	old = []byte(b.String())
	new = []byte(strings.Replace(b.String(), `"status":"open"`, `"status":"shipped"`, 1))
	if len(old) < 9000 || len(old) > 12000 {
		tb.Fatalf("benchmark document is %d bytes, want about 10 KB", len(old))
	}
	return old, new
}

func BenchmarkCreate(b *testing.B) {
	old, new := benchDocs(b)
	var d []byte
	for b.Loop() {
		var err error
		if d, err = Create(old, new); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(d)), "delta-bytes")
	b.ReportMetric(float64(len(new)), "body-bytes")
}

func BenchmarkApply(b *testing.B) {
	old, new := benchDocs(b)
	d, err := Create(old, new)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Apply(old, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(d)), "delta-bytes")
	b.ReportMetric(float64(len(new)), "body-bytes")
}

// The value-level forms, without JSON parsing and encoding.
func BenchmarkCreateValue(b *testing.B) {
	old, new := benchDocs(b)
	o, n := mustDecode(b, string(old)), mustDecode(b, string(new))
	for b.Loop() {
		CreateValue(o, n)
	}
}

func BenchmarkApplyValue(b *testing.B) {
	old, new := benchDocs(b)
	o, n := mustDecode(b, string(old)), mustDecode(b, string(new))
	d, _ := CreateValue(o, n)
	for b.Loop() {
		if _, err := ApplyValue(o, d); err != nil {
			b.Fatal(err)
		}
	}
}

// A one-word edit inside the long "notes" string: exercises the string patch.
func BenchmarkCreateLongStringEdit(b *testing.B) {
	old, _ := benchDocs(b)
	new := []byte(strings.Replace(string(old), "back door. Deliver", "front door. Deliver", 1))
	var d []byte
	for b.Loop() {
		d, _ = Create(old, new)
	}
	b.ReportMetric(float64(len(d)), "delta-bytes")
	b.ReportMetric(float64(len(new)), "body-bytes")
}

// The benchmark document's delta is what a replicator would send.
func TestBenchDocumentDelta(t *testing.T) {
	old, new := benchDocs(t)
	d, err := Create(old, new)
	if err != nil {
		t.Fatal(err)
	}
	if string(d) != `{"status":"shipped"}` {
		t.Fatalf("delta = %s", d)
	}
	got, err := Apply(old, d)
	if err != nil {
		t.Fatal(err)
	}
	assertSameJSON(t, got, string(new))
}
