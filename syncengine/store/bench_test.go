package store

import (
	"fmt"
	bolt "go.etcd.io/bbolt"
	"strings"
	"testing"
)

// body1KB is a ~1 KB JSON document.
var body1KB = []byte(`{"title":"benchmark","text":"` + strings.Repeat("lorem ipsum ", 80) + `","n":42}`)

func BenchmarkPutSingle(b *testing.B) {
	db := openTest(b)
	b.SetBytes(int64(len(body1KB)))
	for i := 0; b.Loop(); i++ {
		put(b, db, fmt.Sprintf("doc-%09d", i), string(body1KB), PutOptions{})
	}
}

// BenchmarkPutBatched inserts 1 KB documents 1,000 per transaction; the
// issue's goal is 40,000 docs/s for a 100,000-document import.
func BenchmarkPutBatched(b *testing.B) {
	db := openTest(b)
	const batch = 1000
	b.SetBytes(int64(len(body1KB)))
	b.ResetTimer()
	for start := 0; start < b.N; start += batch {
		err := db.Update(func(tx *Tx) error {
			for i := start; i < min(start+batch, b.N); i++ {
				if _, err := tx.Put(DefaultCollection, fmt.Sprintf("doc-%09d", i), body1KB, PutOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

func fill(t testing.TB, db *DB, n int) {
	for start := 0; start < n; start += 1000 {
		err := db.Update(func(tx *Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				if _, err := tx.Put(DefaultCollection, fmt.Sprintf("doc-%09d", i), body1KB, PutOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	db := openTest(b)
	fill(b, db, 10000)
	for i := 0; b.Loop(); i++ {
		db.View(func(tx *Tx) error {
			_, err := tx.Get(DefaultCollection, fmt.Sprintf("doc-%09d", i%10000))
			return err
		})
	}
}

// BenchmarkChanges reads the change feed in pages of 1,000 entries.
func BenchmarkChanges(b *testing.B) {
	db := openTest(b)
	fill(b, db, 10000)
	var since uint64
	for b.Loop() {
		db.View(func(tx *Tx) error {
			cs, err := tx.ChangesSince(DefaultCollection, since, 1000)
			if len(cs) == 0 {
				since = 0
			} else {
				since = cs[len(cs)-1].Sequence
			}
			return err
		})
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "changes/s")
}

// BenchmarkRawBoltBatched is the baseline for BenchmarkPutBatched: the same
// keys and bodies put straight into one bbolt bucket, 1,000 per transaction.
func BenchmarkRawBoltBatched(b *testing.B) {
	db := openTest(b)
	b.SetBytes(int64(len(body1KB)))
	b.ResetTimer()
	for start := 0; start < b.N; start += 1000 {
		err := db.bolt.Update(func(btx *bolt.Tx) error {
			bk, err := btx.CreateBucketIfNotExists([]byte("raw"))
			if err != nil {
				return err
			}
			for i := start; i < min(start+1000, b.N); i++ {
				if err := bk.Put([]byte(fmt.Sprintf("doc-%09d", i)), body1KB); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkNormalizeBody checks a compact 1 KB and 10 KB body, the work
// every stored or received revision's body costs before it is written.
func BenchmarkNormalizeBody(b *testing.B) {
	for _, size := range []int{1, 10} {
		body := []byte(`{"title":"benchmark","text":"` + strings.Repeat("lorem ipsum ", 80*size) + `","n":42,"tags":["a","b"]}`)
		b.Run(fmt.Sprintf("%dKB", size), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := normalizeBody(body, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
