package blip

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A peer that reads but never ACKs gets at most ~128,000 bytes of a message;
// an ACK lets the rest through.
func TestFlowControlPausesUntilACK(t *testing.T) {
	var received atomic.Int64
	ack := make(chan uint64)
	finished := make(chan struct{})
	ts := rawServer(t, func(ws *websocket.Conn) {
		in := newInbound(DefaultMaxMessageSize, DefaultMaxPropertiesSize, nil)
		frames := make(chan []byte)
		go func() {
			defer close(frames)
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					return
				}
				frames <- data
			}
		}()
		for {
			select {
			case data, ok := <-frames:
				if !ok {
					return
				}
				ev, err := in.handleFrame(data)
				if err != nil {
					t.Errorf("peer parse: %v", err)
					return
				}
				received.Add(int64(ev.payload))
				if ev.done != nil {
					close(finished)
				}
			case n := <-ack:
				ws.WriteMessage(websocket.BinaryMessage, appendACKFrame(nil, 1, typeACKMSG, n))
			}
		}
	})
	cli, err := Dial(context.Background(), wsURL(ts), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cli.Start()
	defer cli.Close()
	if err := cli.SendNoReply(context.Background(), &Message{Properties: Properties{"Profile": "bulk"}, Body: make([]byte, 1<<20)}); err != nil {
		t.Fatal(err)
	}
	// Without ACKs the window fills: the peer gets about maxUnackedBytes,
	// and never more, whatever the timing. (The sender's own BytesSent is
	// counted after each write returns, so it may lag what the peer read.)
	waitFor(t, "the flow-control window to fill", func() bool { return received.Load() > maxUnackedBytes-maxFrameSize })
	if got := received.Load(); got > maxUnackedBytes+maxFrameSize {
		t.Fatalf("without ACKs the peer got %d bytes, want at most about %d", got, maxUnackedBytes)
	}
	for {
		select {
		case ack <- uint64(received.Load()):
			time.Sleep(5 * time.Millisecond)
			continue
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatalf("message did not finish after ACKs (received %d)", received.Load())
		}
		break
	}
}

// A peer that stops reading makes the writer block on the socket and Send
// block on MaxQueuedBytes; nothing piles up, and all of it arrives once the
// peer reads again.
func TestPeerStopsReadingBlocksSender(t *testing.T) {
	const (
		msgSize = 100_000 // under the flow-control window: only the socket holds it back
		count   = 400
	)
	resume := make(chan struct{})
	var complete atomic.Int64
	ts := rawServer(t, func(ws *websocket.Conn) {
		<-resume
		in := newInbound(DefaultMaxMessageSize, DefaultMaxPropertiesSize, nil)
		for complete.Load() < count {
			_, data, err := ws.ReadMessage()
			if err != nil {
				t.Errorf("peer read: %v", err)
				return
			}
			ev, err := in.handleFrame(data)
			if err != nil {
				t.Errorf("peer parse: %v", err)
				return
			}
			if ev.sendAck {
				ws.WriteMessage(websocket.BinaryMessage, appendACKFrame(nil, ev.sendAckKey.number, typeACKMSG, ev.sendAckBytes))
			}
			if ev.done != nil {
				if len(ev.done.body) != msgSize {
					t.Errorf("message %d has %d bytes", ev.done.key.number, len(ev.done.body))
				}
				complete.Add(1)
			}
		}
	})
	cli, err := Dial(context.Background(), wsURL(ts), DialOptions{Conn: Options{MaxQueuedBytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	cli.Start()
	defer cli.Close()
	var queued atomic.Int64
	sendDone := make(chan error, 1)
	go func() {
		body := make([]byte, msgSize)
		for range count {
			if err := cli.SendNoReply(context.Background(), &Message{Properties: Properties{"Profile": "bulk"}, Body: body}); err != nil {
				sendDone <- err
				return
			}
			queued.Add(1)
		}
		sendDone <- nil
	}()
	// The peer reads nothing, so the socket buffers fill, then the outbox:
	// once it holds all it may, Send blocks and the count stops.
	queuedBytes := func() int {
		cli.mu.Lock()
		defer cli.mu.Unlock()
		return cli.queuedBytes
	}
	waitFor(t, "the outbox to fill", func() bool { return queuedBytes() > 1<<20-msgSize })
	n, inQueue := queued.Load(), queuedBytes()
	// Without backpressure it would be `count`; with it, whatever fits in the
	// socket buffers plus MaxQueuedBytes.
	if n >= count/2 {
		t.Fatalf("sender queued %d of %d messages while the peer was not reading", n, count)
	}
	if inQueue > 1<<20 {
		t.Fatalf("%d bytes waiting in the outbox, limit %d", inQueue, 1<<20)
	}
	t.Logf("stalled after %d messages, %d bytes queued", n, inQueue)
	close(resume)
	if err := <-sendDone; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every message after resuming", func() bool { return complete.Load() == count })
}
