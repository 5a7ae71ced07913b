package syncengine

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bodyOf is a document body of about kb kilobytes, with its number in it.
func bodyOf(kb int) string {
	return `{"title":"benchmark","text":"` + strings.Repeat("lorem ipsum ", 80*kb+(kb-1)*5) + `","n":%d}`
}

// fill saves n documents of about kb kilobytes each.
func fill(b *testing.B, p *peer, n, kb int) {
	body := bodyOf(kb)
	for start := 0; start < n; start += 1000 {
		err := p.db.Batch(func(bt *Batch) error {
			for i := start; i < min(start+1000, n); i++ {
				if _, err := bt.Save(p.coll(), fmt.Sprintf("doc-%07d", i), []byte(fmt.Sprintf(body, i)), SaveOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchProtocols runs a replication benchmark over CBMobile_4 and over
// CBMobile_3, for comparing them with benchstat.
func benchProtocols(b *testing.B, typ ReplicatorType, n int) {
	for _, p := range []Protocol{ProtocolV4, ProtocolV3} {
		b.Run("protocol="+string(p), func(b *testing.B) { benchReplication(b, typ, n, 1, p) })
	}
}

// benchReplication measures one-shot replication of n documents of kb
// kilobytes over a real WebSocket on 127.0.0.1: docs/s and MB/s, CPU time
// per document (both engines), bytes on the wire and stored by the
// receiving database per document, and the process's peak RSS.
func benchReplication(b *testing.B, typ ReplicatorType, n, kb int, protocol Protocol) {
	for b.Loop() {
		b.StopTimer()
		a, bb := newBenchPeer(b, "a"), newBenchPeer(b, "b")
		l, err := bb.e.NewListener(ListenerConfig{Database: bb.db, NetworkInterface: "127.0.0.1", DisableTLS: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Start(); err != nil {
			b.Fatal(err)
		}
		src := a
		if typ == Pull {
			src = bb
		}
		fill(b, src, n, kb)
		runtime.GC()
		dst := bb
		if typ == Pull {
			dst = a
		}
		before, err := dst.db.Store().InUse()
		if err != nil {
			b.Fatal(err)
		}
		r, _ := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: l.URLs()[0], Type: typ, Protocol: protocol})
		stopSampling := sampleHeap()
		cpuBefore := cpuTime()
		b.StartTimer()
		start := time.Now()
		r.Start(false)
		if err := r.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64((cpuTime()-cpuBefore).Microseconds())/float64(n), "cpu-µs/doc")
		b.ReportMetric(float64(stopSampling())/(1<<20), "peak-heap-MB")
		if c, _ := a.coll().Count(); c != n {
			b.Fatalf("replicated %d of %d", c, n)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "docs/s")
		b.ReportMetric(float64(n*kb<<10)/elapsed.Seconds()/1e6, "MB/s")
		st := r.Status()
		b.ReportMetric(float64(st.WireSent+st.WireRecv)/float64(n), "wire-B/doc")
		after, err := dst.db.Store().InUse()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(after-before)/float64(n), "stored-B/doc")
		l.Stop()
		a.e.Close()
		bb.e.Close()
		b.StartTimer()
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
}

// cpuTime is the CPU time (user and system) the process has used: both
// engines of a replication benchmark run in it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampleHeap records the peak Go heap in use until the returned function
// is called. (Process RSS also counts both databases' memory-mapped files.)
func sampleHeap() func() uint64 {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var max uint64
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			max = maxU(max, ms.HeapInuse)
			select {
			case <-t.C:
			case <-done:
				peak <- max
				return
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func newBenchPeer(b *testing.B, name string) *peer {
	e, err := New(Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	db, err := e.CreateDatabase(name)
	if err != nil {
		b.Fatal(err)
	}
	return &peer{e: e, db: db}
}

func BenchmarkPush10k(b *testing.B)  { benchProtocols(b, Push, 10_000) }
func BenchmarkPull10k(b *testing.B)  { benchProtocols(b, Pull, 10_000) }
func BenchmarkPush100k(b *testing.B) { benchProtocols(b, Push, 100_000) }
func BenchmarkPull100k(b *testing.B) { benchProtocols(b, Pull, 100_000) }

// BenchmarkPush10KB and BenchmarkPush100KB push larger documents
// (CBMobile_4), whose cost is per byte rather than per document.
func BenchmarkPush10KB(b *testing.B)  { benchReplication(b, Push, 10_000, 10, ProtocolV4) }
func BenchmarkPush100KB(b *testing.B) { benchReplication(b, Push, 1_000, 100, ProtocolV4) }

// BenchmarkContinuousLatency measures write on A → committed on B through
// a continuous push, reporting p50 and p99.
func BenchmarkContinuousLatency(b *testing.B) {
	a, bb := newBenchPeer(b, "a"), newBenchPeer(b, "b")
	defer a.e.Close()
	defer bb.e.Close()
	l, _ := bb.e.NewListener(ListenerConfig{Database: bb.db, NetworkInterface: "127.0.0.1", DisableTLS: true})
	l.Start()
	r, _ := a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: l.URLs()[0], Type: Push, Continuous: true})
	r.Start(false)
	defer r.Stop()
	arrived := make(chan string, 16)
	sub := bb.e.Subscribe(1024)
	defer sub.Close()
	go func() {
		for ev := range sub.C {
			if dc, ok := ev.(DocumentsChanged); ok {
				for _, c := range dc.Changes {
					arrived <- c.DocID
				}
			}
		}
	}()
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("live-%d", i)
		start := time.Now()
		if _, err := a.coll().Save(id, []byte(`{"x":1}`), SaveOptions{}); err != nil {
			b.Fatal(err)
		}
		for got := range arrived {
			if got == id {
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkDeltaWireBytes reports the bytes on the wire of an update push
// with deltas as a percentage of the same push without (goal: ≤ 10%).
func BenchmarkDeltaWireBytes(b *testing.B) {
	for b.Loop() {
		with, without := deltaWire(b, true), deltaWire(b, false)
		b.ReportMetric(100*float64(with)/float64(without), "wire-%")
	}
}
