package blip

import (
	"slices"
	"testing"
)

func queued(q *outbox) []uint64 {
	var ns []uint64
	for _, m := range q.queue {
		ns = append(ns, m.key.number)
	}
	return ns
}

func newTestMsg(n uint64, urgent, started bool) *outMsg {
	m := &outMsg{key: msgKey{number: n}, body: make([]byte, 100_000), started: started}
	if urgent {
		m.flags |= flagUrgent
	}
	return m
}

func TestOutboxUrgentScheduling(t *testing.T) {
	var q outbox
	for n := uint64(1); n <= 3; n++ {
		q.push(newTestMsg(n, false, true), false) // three normal messages in progress
	}
	q.push(newTestMsg(10, true, false), true)
	if got := queued(&q); !slices.Equal(got, []uint64{1, 10, 2, 3}) {
		t.Fatalf("urgent goes after the first normal message: %v", got)
	}
	q.push(newTestMsg(11, true, false), true)
	if got := queued(&q); !slices.Equal(got, []uint64{1, 10, 2, 11, 3}) {
		t.Fatalf("next urgent goes after the last urgent plus one normal: %v", got)
	}
	if q.frameSize(q.queue[0]) != urgentFrameSize || q.frameSize(q.queue[1]) != maxFrameSize {
		t.Fatal("normal frames must shrink to 4 KiB while urgent messages wait")
	}
	q.push(newTestMsg(4, false, false), true)
	q.push(newTestMsg(12, true, false), true)
	if got := queued(&q); !slices.Equal(got, []uint64{1, 10, 2, 11, 3, 4, 12}) {
		t.Fatalf("a new urgent message must not begin before an unstarted one: %v", got)
	}
	var order []uint64
	for m := q.pop(); m != nil; m = q.pop() {
		order = append(order, m.key.number)
	}
	if !slices.Equal(order, []uint64{1, 10, 2, 11, 3, 4, 12}) || q.urgent != 0 {
		t.Fatalf("pop order %v, urgent count %d", order, q.urgent)
	}
	if q.frameSize(newTestMsg(5, false, true)) != maxFrameSize {
		t.Fatal("frames go back to 16 KiB once no urgent message waits")
	}
}

func TestOutMsgChunksSpanHeadAndBody(t *testing.T) {
	m := &outMsg{head: []byte("HEAD"), body: []byte("bodybytes")}
	var got []byte
	for _, n := range []int{2, 4, 7} {
		a, b := m.chunk(n)
		if len(a)+len(b) != n {
			t.Fatalf("chunk(%d) gave %d bytes", n, len(a)+len(b))
		}
		got = append(append(got, a...), b...)
	}
	if string(got) != "HEADbodybytes" || m.remaining() != 0 {
		t.Fatalf("chunks joined to %q, %d left", got, m.remaining())
	}
}

func TestPropertiesEncodingIsDeterministic(t *testing.T) {
	p := Properties{"zeta": "1", "Profile": "rev", "alpha": "2", "Error-Code": "3"}
	head, err := p.appendMessageHead(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "\x28Profile\x00rev\x00Error-Code\x003\x00alpha\x002\x00zeta\x001\x00"
	if string(head) != want {
		t.Fatalf("got %q\nwant %q", head, want)
	}
	for _, bad := range []string{"a\x00", "a\x00b\x00c\x00", "\xff\x00v\x00"} {
		if _, err := decodeProperties([]byte(bad)); err == nil {
			t.Errorf("decodeProperties(%q) accepted malformed input", bad)
		}
	}
}
