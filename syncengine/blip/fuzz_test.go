package blip

import (
	"encoding/binary"
	"testing"
)

// FuzzInbound feeds frames (each prefixed by a 2-byte length) to the
// incoming parser: it must never panic and never hold more than its limits.
func FuzzInbound(f *testing.F) {
	var seed []byte
	for _, h := range vectorFrames {
		frame := mustHex(f, h)
		seed = binary.BigEndian.AppendUint16(seed, uint16(len(frame)))
		seed = append(seed, frame...)
	}
	f.Add(seed)
	f.Add([]byte{0, 3, 0x01, 0x40, 0x00})
	f.Add([]byte{0, 4, 0x05, 0x04, 0x80, 0x01})
	const maxMessage = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		in := newInbound(maxMessage, 1024, func(n uint64) bool { return n < 8 })
		for len(data) >= 2 {
			n := int(binary.BigEndian.Uint16(data))
			data = data[2:]
			if n > len(data) {
				n = len(data)
			}
			ev, err := in.handleFrame(data[:n])
			data = data[n:]
			if err != nil {
				return // fatal for the connection: fine, as long as no panic
			}
			if in.mem.used > in.mem.limit {
				t.Fatalf("messages hold %d bytes, over the %d limit", in.mem.used, in.mem.limit)
			}
			if ev.done != nil {
				in.mem.give(ev.done.held) // as the connection does once it is handled
			}
			if ev.done != nil && ev.done.size > maxMessage {
				t.Fatalf("message of %d bytes passed a %d limit", ev.done.size, maxMessage)
			}
			if len(in.codec.window) > 2*deflateWindow {
				t.Fatalf("inflate window grew to %d", len(in.codec.window))
			}
		}
	})
}

// FuzzDecodeMessage checks the property parser on arbitrary message bytes.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte("\x0cProfile\x00rev\x00{}"))
	f.Add([]byte{0})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		props, body, err := decodeMessage(data, 1024)
		if err != nil {
			return
		}
		head, err := props.appendMessageHead(nil)
		if err != nil {
			t.Fatalf("decoded properties do not re-encode: %v", err)
		}
		again, body2, err := decodeMessage(append(head, body...), 1024)
		if err != nil || len(again) != len(props) || string(body2) != string(body) {
			t.Fatalf("round trip changed the message: %v", err)
		}
	})
}
