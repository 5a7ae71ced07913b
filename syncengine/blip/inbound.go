package blip

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// msgKey names a message in flight: responses (RPY/ERR) and requests (MSG)
// are numbered in separate spaces.
type msgKey struct {
	response bool
	number   uint64
}

// inMsg is an incoming message being assembled from its frames.
type inMsg struct {
	key       msgKey
	flags     uint8 // flags of the first frame
	data      []byte
	wireBytes int // frame bytes after the header, as received
	ackedAt   int // byte count of the last ACK sent
}

// frameEvent is what one incoming frame means to the connection.
type frameEvent struct {
	// ack: the peer acknowledged ackBytes of our message ackKey.
	ack      bool
	ackKey   msgKey
	ackBytes uint64

	// sendAck: we should acknowledge sendAckBytes of message sendAckKey.
	sendAck      bool
	sendAckKey   msgKey
	sendAckBytes uint64

	// done: a message is complete. dropped is set (and done is false) when a
	// complete message had to be discarded, with the reason.
	done    *completeMsg
	dropped error

	payload int // uncompressed payload bytes in this frame
}

// completeMsg is a fully received, decoded message.
type completeMsg struct {
	key   msgKey
	flags uint8
	props Properties
	body  []byte
	size  int // payload bytes (uncompressed)
}

// Bounds on what incoming partial messages may hold in total.
const (
	maxPartialFactor   = 4     // all partial messages together: 4 × MaxMessageSize
	maxPartialMessages = 10000 // frames starting more messages are dropped
)

// inbound turns incoming frames into messages. It holds the direction's CRC
// and inflater, so every frame must pass through it in order. It does no I/O
// and is driven by one goroutine.
type inbound struct {
	codec       inCodec
	maxMessage  int
	maxProps    int
	msgs        map[msgKey]*inMsg
	lastRequest uint64
	scratch     []byte // payload of frames that belong to no message
	buffered    int    // bytes held by partial messages

	// expectResponse reports whether a response numbered n is awaited.
	expectResponse func(n uint64) bool
}

func newInbound(maxMessage, maxProps int, expectResponse func(uint64) bool) *inbound {
	return &inbound{
		maxMessage:     maxMessage,
		maxProps:       maxProps,
		msgs:           make(map[msgKey]*inMsg),
		expectResponse: expectResponse,
	}
}

// handleFrame processes one frame. A non-nil error is fatal to the connection.
func (in *inbound) handleFrame(frame []byte) (ev frameEvent, err error) {
	number, flags64, rest, err := parseFrameHeader(frame)
	if err != nil {
		return ev, err
	}
	flags := uint8(flags64)
	typ := flags & flagTypeMask
	if isACK(typ) {
		n, used := binary.Uvarint(rest)
		if used <= 0 {
			return ev, nil // malformed ACK: drop
		}
		ev.ack, ev.ackKey, ev.ackBytes = true, msgKey{response: typ == typeACKRPY, number: number}, n
		return ev, nil
	}
	if len(rest) < checksumSize {
		return ev, errShortFrame
	}
	payload := rest[:len(rest)-checksumSize]
	want := binary.BigEndian.Uint32(rest[len(rest)-checksumSize:])

	msg := in.lookup(typ, number, flags)
	var dst []byte
	if msg != nil {
		dst = msg.data
	} else {
		dst = in.scratch[:0]
	}
	start := len(dst)
	limit := in.maxMessage
	if msg != nil && in.buffered-start+limit > in.maxMessage*maxPartialFactor {
		// Keep the total held by all partial messages bounded too.
		limit = max(start, in.maxMessage*maxPartialFactor-(in.buffered-start))
	}
	if flags&flagCompressed != 0 {
		dst, err = in.codec.inflate(dst, payload, limit)
		if err != nil {
			return ev, err
		}
	} else {
		if len(dst)+len(payload) > limit {
			return ev, errTooBig
		}
		dst = append(dst, payload...)
	}
	in.codec.crc = crc32.Update(in.codec.crc, crc32.IEEETable, dst[start:])
	ev.payload = len(dst) - start
	if in.codec.crc != want {
		return ev, fmt.Errorf("%w (got %08x, expected %08x)", errBadChecksum, want, in.codec.crc)
	}
	if msg == nil {
		if cap(dst) <= 64*1024 {
			in.scratch = dst[:0]
		}
		return ev, nil
	}
	in.buffered += len(dst) - start
	msg.data = dst
	msg.wireBytes += len(rest)

	if flags&flagMoreComing == 0 {
		delete(in.msgs, msg.key)
		in.buffered -= len(msg.data)
		props, body, derr := decodeMessage(msg.data, in.maxProps)
		if derr != nil {
			ev.dropped = fmt.Errorf("message %s#%d dropped: %w", typeName(msg.flags), msg.key.number, derr)
			return ev, nil
		}
		ev.done = &completeMsg{key: msg.key, flags: msg.flags, props: props, body: body, size: len(msg.data)}
		return ev, nil
	}
	// Acknowledge by the larger of the wire and uncompressed counts, so that
	// peers counting either way never stall waiting for an ACK.
	received := max(msg.wireBytes, len(msg.data))
	if received/ackInterval > msg.ackedAt/ackInterval {
		msg.ackedAt = received
		ev.sendAck, ev.sendAckKey, ev.sendAckBytes = true, msg.key, uint64(received)
	}
	return ev, nil
}

// lookup finds or starts the message a frame belongs to; nil means drop.
func (in *inbound) lookup(typ uint8, number uint64, flags uint8) *inMsg {
	var key msgKey
	switch typ {
	case typeMSG:
		key = msgKey{false, number}
	case typeRPY, typeERR:
		key = msgKey{true, number}
	default:
		return nil // unknown type
	}
	if m := in.msgs[key]; m != nil {
		return m
	}
	if key.response {
		if in.expectResponse == nil || !in.expectResponse(number) {
			return nil
		}
	} else {
		if number <= in.lastRequest {
			return nil // already completed (or never valid)
		}
		in.lastRequest = number
	}
	if len(in.msgs) >= maxPartialMessages {
		return nil
	}
	m := &inMsg{key: key, flags: flags}
	in.msgs[key] = m
	return m
}

func typeName(flags uint8) string {
	switch flags & flagTypeMask {
	case typeMSG:
		return "MSG"
	case typeRPY:
		return "RPY"
	case typeERR:
		return "ERR"
	case typeACKMSG:
		return "ACKMSG"
	case typeACKRPY:
		return "ACKRPY"
	}
	return fmt.Sprintf("type%d", flags&flagTypeMask)
}
