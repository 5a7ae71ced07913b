package blip

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// The three frames from protocol.md §2, in the order one client sent them.
var vectorFrames = []string{
	"01002250726f66696c6500676574436865636b706f696e7400636c69656e740063702d7800c42c8916",
	"02301050726f66696c65006368616e676573005b5d92d05aaf",
	"0328002c00d3ff0c50726f66696c6500726576007b2261223a2268656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f227d00d0c73f86",
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVectorsDecode(t *testing.T) {
	in := newInbound(DefaultMaxMessageSize, DefaultMaxPropertiesSize, nil)
	want := []struct {
		number uint64
		flags  uint8
		props  Properties
		body   string
		crc    uint32
	}{
		{1, 0x00, Properties{"Profile": "getCheckpoint", "client": "cp-x"}, "", 0xc42c8916},
		{2, 0x30, Properties{"Profile": "changes"}, "[]", 0x92d05aaf},
		{3, 0x28, Properties{"Profile": "rev"}, `{"a":"hello hello hello hello"}`, 0xd0c73f86},
	}
	for i, w := range want {
		ev, err := in.handleFrame(mustHex(t, vectorFrames[i]))
		if err != nil {
			t.Fatalf("frame #%d: %v", i+1, err)
		}
		m := ev.done
		if m == nil {
			t.Fatalf("frame #%d: no complete message (refused: %+v)", i+1, ev.refused)
		}
		if m.key != (msgKey{false, w.number}) || m.flags != w.flags {
			t.Errorf("frame #%d: key %+v flags %#x, want number %d flags %#x", i+1, m.key, m.flags, w.number, w.flags)
		}
		if len(m.props) != len(w.props) {
			t.Errorf("frame #%d: props %v, want %v", i+1, m.props, w.props)
		}
		for k, v := range w.props {
			if m.props[k] != v {
				t.Errorf("frame #%d: prop %s=%q, want %q", i+1, k, m.props[k], v)
			}
		}
		if string(m.body) != w.body {
			t.Errorf("frame #%d: body %q, want %q", i+1, m.body, w.body)
		}
		if in.codec.crc != w.crc {
			t.Errorf("frame #%d: running CRC %08x, want %08x", i+1, in.codec.crc, w.crc)
		}
	}
}

func TestVectorsEncode(t *testing.T) {
	var enc outCodec
	msgs := []*Message{
		{Properties: Properties{"client": "cp-x", "Profile": "getCheckpoint"}},
		{Properties: Properties{"Profile": "changes"}, Body: []byte("[]"), Urgent: true, NoReply: true},
	}
	for i, msg := range msgs {
		m, err := newOutMsg(msg, typeMSG)
		if err != nil {
			t.Fatal(err)
		}
		a, b := m.chunk(m.remaining())
		frame, _, err := enc.appendFrame(nil, uint64(i+1), m.flags, a, b)
		if err != nil {
			t.Fatal(err)
		}
		if want := mustHex(t, vectorFrames[i]); !bytes.Equal(frame, want) {
			t.Errorf("frame #%d:\n got %x\nwant %x", i+1, frame, want)
		}
	}
}

// The CRC note in protocol.md: frame #2's payload alone has CRC 572f99f8.
func TestVectorChecksumIsRunning(t *testing.T) {
	in := newInbound(DefaultMaxMessageSize, DefaultMaxPropertiesSize, nil)
	in.lastRequest = 1
	frame := mustHex(t, vectorFrames[1])
	if _, err := in.handleFrame(frame); err == nil {
		t.Fatal("frame #2 alone was accepted; its CRC covers frame #1 too")
	}
	alone := append(bytes.Clone(frame[:len(frame)-4]), 0x57, 0x2f, 0x99, 0xf8)
	in = newInbound(DefaultMaxMessageSize, DefaultMaxPropertiesSize, nil)
	ev, err := in.handleFrame(alone)
	if err != nil || ev.done == nil || string(ev.done.body) != "[]" {
		t.Fatalf("frame #2 with its standalone CRC: ev %+v err %v", ev, err)
	}
}

// Our own compressed frames decode with a fresh inbound parser, across
// several frames sharing one deflate stream, with the running CRC.
func TestCompressedRoundTripSharedStream(t *testing.T) {
	var enc outCodec
	in := newInbound(DefaultMaxMessageSize, DefaultMaxPropertiesSize, nil)
	for i := 1; i <= 5; i++ {
		msg := &Message{Properties: Properties{"Profile": "rev", "id": "doc"}, Body: bytes.Repeat([]byte(`{"a":"hello"}`), 100*i), Compressed: true}
		m, _ := newOutMsg(msg, typeMSG)
		var got []byte
		raw, onWire := 0, 0
		for m.remaining() > 0 {
			n := min(m.remaining(), 300)
			flags := m.flags
			if n < m.remaining() {
				flags |= flagMoreComing
			}
			a, b := m.chunk(n)
			frame, wire, err := enc.appendFrame(nil, uint64(i), flags, a, b)
			if err != nil {
				t.Fatal(err)
			}
			raw, onWire = raw+n, onWire+wire
			ev, err := in.handleFrame(frame)
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if ev.done != nil {
				got = ev.done.body
			}
		}
		if !bytes.Equal(got, msg.Body) {
			t.Fatalf("message %d: body mismatch (%d bytes vs %d)", i, len(got), len(msg.Body))
		}
		// A short last frame may grow a little; the message as a whole must
		// shrink, the later ones from the shared window.
		if i > 1 && onWire >= raw/2 {
			t.Errorf("message %d: %d bytes compressed to %d", i, raw, onWire)
		}
	}
}
