package blip

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
)

// BenchmarkRoundTrip measures small request/response round trips over
// loopback with 64 concurrent senders (pipelined). ns/op is per round trip.
func BenchmarkRoundTrip(b *testing.B) {
	_, cli := newPair(b, Options{}, Options{}, func(c *Conn) { c.Handle("echo", echo) }, nil)
	ctx := context.Background()
	body := []byte(`{"docs":["a","b"]}`)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	const senders = 64
	next := make(chan struct{}, senders)
	go func() {
		for range b.N {
			next <- struct{}{}
		}
		close(next)
	}()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if _, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "echo"}, Body: body}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
}

// BenchmarkBulk measures one-way throughput: NoReply messages of the given
// size, then one request to make sure all have arrived.
func BenchmarkBulk(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		for _, compressed := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%d/compressed=%v", size, compressed), func(b *testing.B) {
				_, cli := newPair(b, Options{}, Options{}, func(c *Conn) {
					c.Handle("sink", func(r *Request) {})
					c.Handle("sync", func(r *Request) { r.Respond(nil, nil) })
				}, nil)
				body := bulkBody(size)
				ctx := context.Background()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					msg := &Message{Properties: Properties{"Profile": "sink"}, Body: body, Compressed: compressed}
					if err := cli.SendNoReply(ctx, msg); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "sync"}}); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// bulkBody is JSON-like data, so compression has something to do.
func bulkBody(size int) []byte {
	var buf bytes.Buffer
	for i := 0; buf.Len() < size; i++ {
		fmt.Fprintf(&buf, `{"_id":"doc-%06d","value":%d,"name":"item %d"},`, i, i*31%977, i)
	}
	return buf.Bytes()[:size]
}
