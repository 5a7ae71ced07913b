package ui

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkActivityFilter measures re-filtering a full activity log, which
// happens on every event batch while the Activity screen has a filter.
func BenchmarkActivityFilter(b *testing.B) {
	a := newActivityLog(maxActivity)
	for i := range maxActivity {
		a.add(activityLine{Kind: "syncengine.DocumentsChanged", Summary: fmt.Sprintf("db: 1 changed: doc%d (1-abc)", i)})
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = a.newestFirst("doc99")
	}
}

// BenchmarkConflictView measures diffing and laying out two 10 KB leaves.
func BenchmarkConflictView(b *testing.B) {
	doc := func(v int) []byte {
		m := map[string]any{}
		for i := range 200 {
			m[fmt.Sprintf("key%03d", i)] = fmt.Sprintf("value %d %d", i, v*(i%7))
		}
		out, _ := json.Marshal(m)
		return out
	}
	x, y := doc(1), doc(2)
	b.SetBytes(int64(len(x) + len(y)))
	b.ReportAllocs()
	for b.Loop() {
		diff := differingKeys([][]byte{x, y})
		objectBlocks(x)
		objectBlocks(y)
		_ = diff
	}
}
