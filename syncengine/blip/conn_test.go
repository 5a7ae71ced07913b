package blip

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRequestResponseBothDirections(t *testing.T) {
	eachTransport(t, testRequestResponseBothDirections)
}

func testRequestResponseBothDirections(t *testing.T, newPair pairFunc) {
	srv, cli := newPair(t, Options{}, Options{},
		func(c *Conn) { c.Handle("echo", echo) },
		func(c *Conn) {
			c.Handle("hello", func(r *Request) { r.Respond(Properties{"who": "client"}, []byte("hi "+string(r.Body))) })
		})
	ctx := ctxTimeout(t, 10*time.Second)

	resp, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "echo", "x": "1"}, Body: []byte("body")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Properties["x"] != "1" || string(resp.Body) != "body" || resp.Profile() != "echo" {
		t.Fatalf("echo response: %+v", resp)
	}
	resp, err = srv.Send(ctx, &Message{Properties: Properties{"Profile": "hello"}, Body: []byte("server")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Properties["who"] != "client" || string(resp.Body) != "hi server" {
		t.Fatalf("hello response: %+v", resp)
	}
	// The client counts its response as sent after the write returns, which
	// can be a moment after the server has already read it.
	waitFor(t, "the client's response counted", func() bool { return cli.Stats().MessagesSent >= 2 })
	if st := cli.Stats(); st.MessagesSent != 2 || st.MessagesReceived != 2 { // request+response each way
		t.Errorf("client stats %+v", st)
	}
}

func TestEmptyMessageAndCompressedResponse(t *testing.T) {
	_, cli := newPair(t, Options{}, Options{}, func(c *Conn) {
		c.Handle("big", func(r *Request) {
			r.RespondCompressed(Properties{"k": "v"}, bytes.Repeat([]byte("abcdefgh"), 10000))
		})
		c.Handle("empty", func(r *Request) { r.Respond(nil, nil) })
	}, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	resp, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "big"}, Compressed: true, Body: []byte("zz")})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Compressed || resp.Properties["k"] != "v" || !bytes.Equal(resp.Body, bytes.Repeat([]byte("abcdefgh"), 10000)) {
		t.Fatalf("compressed response wrong: compressed=%v props=%v len=%d", resp.Compressed, resp.Properties, len(resp.Body))
	}
	if st := cli.Stats(); st.BytesReceivedWire >= st.BytesReceived {
		t.Errorf("compression saved nothing: %+v", st)
	}
	resp, err = cli.Send(ctx, &Message{Properties: Properties{"Profile": "empty"}})
	if err != nil || len(resp.Properties) != 0 || len(resp.Body) != 0 {
		t.Fatalf("empty response: %+v, %v", resp, err)
	}
}

func TestThousandConcurrentRequests(t *testing.T) {
	_, cli := newPair(t, Options{}, Options{}, func(c *Conn) { c.Handle("echo", echo) }, nil)
	ctx := ctxTimeout(t, 30*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("request %d", i)
			resp, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "echo", "i": fmt.Sprint(i)}, Body: []byte(want), Compressed: i%3 == 0, Urgent: i%5 == 0})
			if err != nil {
				errs <- err
				return
			}
			if string(resp.Body) != want || resp.Properties["i"] != fmt.Sprint(i) {
				errs <- fmt.Errorf("request %d got %q %v", i, resp.Body, resp.Properties)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestTwentyMegabyteMessage(t *testing.T) { eachTransport(t, testTwentyMegabyteMessage) }

func testTwentyMegabyteMessage(t *testing.T, newPair pairFunc) {
	srv, cli := newPair(t, Options{}, Options{}, func(c *Conn) { c.Handle("digest", digest) }, nil)
	body := make([]byte, 20<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(r.Uint32())
	}
	ctx := ctxTimeout(t, 60*time.Second)
	resp, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "digest"}, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(body); !bytes.Equal(resp.Body, sum[:]) {
		t.Fatal("digest of the 20 MB body differs")
	}
	st := srv.Stats()
	if st.BytesReceived < 20<<20 {
		t.Errorf("server received %d payload bytes", st.BytesReceived)
	}
	// 16 KiB frames: at least 1280 frames, each with ≤ 6 bytes of overhead.
	if overhead := st.BytesReceivedWire - st.BytesReceived; overhead < 1280*6 || overhead > 1400*10 {
		t.Errorf("wire overhead %d bytes does not match 16 KiB framing", overhead)
	}
}

func TestCompressedLargeMessage(t *testing.T) {
	_, cli := newPair(t, Options{}, Options{}, func(c *Conn) { c.Handle("digest", digest) }, nil)
	var buf bytes.Buffer
	for i := 0; buf.Len() < 2<<20; i++ {
		fmt.Fprintf(&buf, `{"_id":"doc-%d","n":%d,"tags":["a","b"]},`, i, i*7)
	}
	ctx := ctxTimeout(t, 30*time.Second)
	resp, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "digest"}, Body: buf.Bytes(), Compressed: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(buf.Bytes()); !bytes.Equal(resp.Body, sum[:]) {
		t.Fatal("digest of the compressed body differs")
	}
	if st := cli.Stats(); st.BytesSentWire*3 > st.BytesSent {
		t.Errorf("JSON compressed poorly: %+v", st)
	}
}

func TestUrgentOvertakesBulk(t *testing.T) {
	var bigDone atomic.Int32
	_, cli := newPair(t, Options{}, Options{}, func(c *Conn) {
		c.Handle("sink", func(r *Request) { bigDone.Add(1); r.Respond(nil, nil) })
		c.Handle("ping", func(r *Request) { r.Respond(Properties{"bigDone": fmt.Sprint(bigDone.Load())}, nil) })
	}, nil)
	ctx := ctxTimeout(t, 60*time.Second)
	big := make([]byte, 6<<20)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "sink"}, Body: big}); err != nil {
				t.Error(err)
			}
		}()
	}
	// Wait until the bulk messages are on their way.
	waitFor(t, "the bulk messages on their way", func() bool { return cli.Stats().BytesSent >= 1<<20 })
	resp, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "ping"}, Urgent: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Properties["bigDone"] != "0" || !resp.Urgent {
		t.Errorf("urgent request answered after %s bulk messages (urgent response: %v)", resp.Properties["bigDone"], resp.Urgent)
	}
	wg.Wait()
}

func TestHandlerPanicBecomes501(t *testing.T) {
	_, cli := newPair(t, Options{}, Options{}, func(c *Conn) {
		c.Handle("boom", func(r *Request) { panic("kaboom") })
		c.Handle("echo", echo)
	}, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	_, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "boom"}})
	var be *Error
	if !errors.As(err, &be) || be.Domain != "BLIP" || be.Code != 501 {
		t.Fatalf("panic gave %v, want BLIP 501", err)
	}
	resp, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "echo"}, Body: []byte("still here")})
	if err != nil || string(resp.Body) != "still here" {
		t.Fatalf("connection after panic: %v %v", resp, err)
	}
}

func TestUnknownProfileIs404(t *testing.T) {
	_, cli := newPair(t, Options{}, Options{}, nil, nil)
	_, err := cli.Send(ctxTimeout(t, 10*time.Second), &Message{Properties: Properties{"Profile": "nope"}})
	var be *Error
	if !errors.As(err, &be) || be.Domain != "BLIP" || be.Code != 404 {
		t.Fatalf("got %v, want BLIP 404", err)
	}
}

func TestErrorResponse(t *testing.T) {
	_, cli := newPair(t, Options{}, Options{}, func(c *Conn) {
		c.Handle("conflict", func(r *Request) {
			r.RespondError("HTTP", 409, "conflict")
			r.Respond(nil, []byte("ignored: only the first response counts"))
		})
	}, nil)
	_, err := cli.Send(ctxTimeout(t, 10*time.Second), &Message{Properties: Properties{"Profile": "conflict"}})
	var be *Error
	if !errors.As(err, &be) || *be != (Error{Domain: "HTTP", Code: 409, Message: "conflict"}) {
		t.Fatalf("got %#v", err)
	}
}

func TestNoReplyAndDeferredResponse(t *testing.T) {
	got := make(chan *Request, 1)
	_, cli := newPair(t, Options{}, Options{}, func(c *Conn) {
		c.Handle("note", func(r *Request) { r.Respond(nil, []byte("must not be sent")); got <- r })
		c.Handle("slow", func(r *Request) {
			go func() { time.Sleep(20 * time.Millisecond); r.Respond(nil, []byte("later")) }()
		})
	}, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	msg := &Message{Properties: Properties{"Profile": "note"}, Body: []byte("fyi")}
	if err := cli.SendNoReply(ctx, msg); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if !r.NoReply || string(r.Body) != "fyi" {
		t.Fatalf("note arrived as %+v", r.Message)
	}
	resp, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "slow"}})
	if err != nil || string(resp.Body) != "later" {
		t.Fatalf("slow: %v %v", resp, err)
	}
	// The NoReply request's bogus response must not have been taken for
	// the answer to anything: the slow request got its own.
	if n := cli.Stats().MessagesReceived; n != 1 {
		t.Errorf("client received %d messages, want 1", n)
	}
}

func TestSendContextCancelled(t *testing.T) {
	_, cli := newPair(t, Options{}, Options{}, func(c *Conn) {
		c.Handle("never", func(r *Request) {})
		c.Handle("echo", echo)
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := cli.Send(ctx, &Message{Properties: Properties{"Profile": "never"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
	if _, err := cli.Send(ctxTimeout(t, 5*time.Second), &Message{Properties: Properties{"Profile": "echo"}}); err != nil {
		t.Fatal(err)
	}
}

func TestCloseFailsPendingSends(t *testing.T) {
	srv, cli := newPair(t, Options{}, Options{}, func(c *Conn) { c.Handle("never", func(r *Request) {}) }, nil)
	errs := make(chan error, 5)
	for range 5 {
		go func() {
			_, err := cli.Send(context.Background(), &Message{Properties: Properties{"Profile": "never"}})
			errs <- err
		}()
	}
	waitFor(t, "the five requests received", func() bool { return srv.Stats().MessagesReceived >= 5 })
	if err := cli.CloseWithCode(4001, "going away for a bit"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		err := <-errs
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != 4001 || ce.Remote {
			t.Errorf("pending Send got %v, want local CloseError 4001", err)
		}
	}
	waitDone(t, srv, 5*time.Second)
	var ce *CloseError
	if err := srv.Err(); !errors.As(err, &ce) || !ce.Remote || ce.Code != 4001 || ce.Reason != "going away for a bit" {
		t.Errorf("server saw %v, want remote CloseError 4001", err)
	}
	if _, err := cli.Send(context.Background(), &Message{Properties: Properties{"Profile": "never"}}); !errors.As(err, &ce) {
		t.Errorf("Send after close: %v", err)
	}
}

func TestPropertiesWithNULRejected(t *testing.T) {
	_, cli := newPair(t, Options{}, Options{}, nil, nil)
	if _, err := cli.Send(context.Background(), &Message{Properties: Properties{"Profile": "a\x00b"}}); err == nil {
		t.Fatal("a NUL in a property was accepted")
	}
}
