package discovery

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/mdns"
)

// BenchmarkSightingFromEntry measures decoding one mDNS answer.
func BenchmarkSightingFromEntry(b *testing.B) {
	e := &mdns.ServiceEntry{
		Name:       `Alice's\ laptop\ \226\128\148\ notes._peersync._tcp.local.`,
		Host:       "p1.local.",
		AddrV4:     net.ParseIP("10.0.0.1"),
		Port:       4984,
		InfoFields: []string{"id=p1", "db=notes", "proto=CBMobile_3", "tls=1", "fp=" + testFingerprint, "v=1"},
	}
	now := time.Now()
	for b.Loop() {
		if _, err := sightingFromEntry(e, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrackerRound measures one query round with 100 peers answering.
func BenchmarkTrackerRound(b *testing.B) {
	tr := newTracker(3 * time.Second)
	round := make([]sighting, 100)
	for i := range round {
		round[i] = seen(fmt.Sprintf("inst-%03d", i), fmt.Sprintf("peer-%03d", i), "db", 4984, "10.0.0.1", "fd00::1")
	}
	now := time.Now()
	for b.Loop() {
		now = now.Add(time.Second)
		tr.observe(now, round)
	}
}

// BenchmarkInstanceName measures building an announced instance name.
func BenchmarkInstanceName(b *testing.B) {
	for b.Loop() {
		if _, err := labelPresentation(instanceName("Alice's laptop", "notes")); err != nil {
			b.Fatal(err)
		}
	}
}
