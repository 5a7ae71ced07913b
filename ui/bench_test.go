package ui

import (
	"encoding/json"
	"fmt"
	"testing"

	"peersync/syncengine"
)

// BenchmarkActivityFilter measures re-filtering a full activity log, which
// happens on every event batch while the Activity screen has a filter.
func BenchmarkActivityFilter(b *testing.B) {
	a := newActivityLog(maxActivity)
	for i := range maxActivity {
		a.add(activityLine{Type: "syncengine.DocumentsChanged", Summary: fmt.Sprintf("db: 1 changed: doc%d (1-abc)", i)})
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = a.newestFirst(activityFilter{Text: "doc99"})
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

// BenchmarkOpenLargeDocument measures what opening a 1 MB document costs
// off and on the UI goroutine: formatting and splitting it, then showing
// it read-only (only the visible rows are laid out).
func BenchmarkOpenLargeDocument(b *testing.B) {
	h := newHarness(b)
	db := h.database("notes")
	body := bigBody(1 << 20)
	if _, err := db.DefaultCollection().Save("mb", []byte(body), syncengine.SaveOptions{}); err != nil {
		b.Fatal(err)
	}
	br := h.openBrowser("notes")
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		br.editor.open("mb")
		h.settle()
	}
}
