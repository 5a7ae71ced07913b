package faultproxy

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoServer answers every connection by echoing what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func newProxy(t *testing.T) *Proxy {
	t.Helper()
	p, err := New(echoServer(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestForwardsSplitAndDelayed(t *testing.T) {
	p := newProxy(t)
	p.SetSplit(7)
	p.SetDelay(time.Microsecond)
	c := dial(t, p)
	msg := bytes.Repeat([]byte("0123456789"), 1000)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("data changed in transit")
	}
	if s := p.Stats(); s.Bytes != 2*int64(len(msg)) || s.Accepted != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestRandomDropCutsConnection(t *testing.T) {
	p := newProxy(t)
	p.SetRandomDrops(100, 200)
	c := dial(t, p)
	go c.Write(make([]byte, 10000))
	n, err := io.Copy(io.Discard, c)
	if err == nil && n >= 10000 {
		t.Fatalf("connection survived: read %d", n)
	}
	if n > 200 {
		t.Errorf("read %d bytes past a drop budget of at most 200", n)
	}
	// The client can see the cut before the proxy has counted it.
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().Dropped != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if p.Stats().Dropped != 1 {
		t.Errorf("dropped = %d", p.Stats().Dropped)
	}
}

func TestStallHoldsTrafficUntilLifted(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p)
	p.SetStall(true)
	c.Write([]byte("ping"))
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _ := c.Read(make([]byte, 4)); n != 0 {
		t.Fatal("data passed a stalled proxy")
	}
	p.SetStall(false)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("after stall: %q %v", buf, err)
	}
}

func TestRefuseAndDropAll(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p)
	c.Write([]byte("x"))
	io.ReadFull(c, make([]byte, 1))
	if n := p.DropAll(); n != 1 {
		t.Errorf("DropAll = %d", n)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("dropped connection still readable")
	}
	p.SetRefuse(true)
	r := dial(t, p)
	if _, err := r.Read(make([]byte, 1)); err == nil {
		t.Error("refused connection still readable")
	}
}
