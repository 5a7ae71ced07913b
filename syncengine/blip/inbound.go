package blip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
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
	buf       msgBuf
	size      int  // payload bytes received (uncompressed), kept or not
	wireBytes int  // frame bytes after the header, as received
	ackedAt   int  // byte count of the last ACK sent
	refused   bool // over the memory budget: the rest is counted, not kept
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

	// done: a message is complete. refused is set instead when a message
	// (complete or still arriving) will not be delivered.
	done    *completeMsg
	refused *refusal

	payload int // uncompressed payload bytes in this frame
}

// completeMsg is a fully received, decoded message.
type completeMsg struct {
	key   msgKey
	flags uint8
	props Properties
	body  []byte
	size  int // payload bytes (uncompressed)
	held  int // bytes charged to the memory account until the message is handled
}

// refusal is an incoming message that will not be delivered. A request
// that wants a reply is answered with an ERR of code; any other message is
// dropped, or the connection closed with closeCode when that is not 0.
type refusal struct {
	key       msgKey
	flags     uint8
	err       error
	code      int
	closeCode int
}

// wantsReply reports whether the refused message is a request expecting an answer.
func (r *refusal) wantsReply() bool {
	return !r.key.response && r.flags&flagNoReply == 0
}

// Bound on how many messages may be partly received at once; frames
// starting more are dropped. Their memory is bounded by the memory account.
const maxPartialMessages = 10000

// inbound turns incoming frames into messages. It holds the direction's CRC
// and inflater, so every frame must pass through it in order. It does no I/O
// and is driven by one goroutine.
type inbound struct {
	codec       inCodec
	maxMessage  int
	maxProps    int
	mem         *memAccount // charged for every message buffer
	msgs        map[msgKey]*inMsg
	lastRequest uint64

	// expectResponse reports whether a response numbered n is awaited.
	expectResponse func(n uint64) bool
}

func newInbound(maxMessage, maxProps int, expectResponse func(uint64) bool) *inbound {
	return &inbound{
		maxMessage:     maxMessage,
		maxProps:       maxProps,
		mem:            newMemAccount(int64(2*maxMessage), nil),
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
	// Every payload byte goes through the checksum; the message keeps it
	// while its memory lasts. The inflater hands output over in chunks, so
	// a message over its budget is stopped while it decompresses.
	add := func(p []byte) error {
		in.codec.crc = crc32.Update(in.codec.crc, crc32.IEEETable, p)
		ev.payload += len(p)
		if msg == nil {
			return nil
		}
		if msg.size+len(p) > in.maxMessage {
			return errTooBig
		}
		msg.size += len(p)
		if msg.refused {
			return nil
		}
		if err := msg.buf.append(p, in.mem); err != nil {
			ev.refused = in.refuse(msg, err)
		}
		return nil
	}
	if flags&flagCompressed != 0 {
		err = in.codec.inflate(payload, add)
	} else {
		err = add(payload)
	}
	if err != nil {
		in.freeAll()
		return ev, err
	}
	if in.codec.crc != want {
		in.freeAll()
		return ev, fmt.Errorf("%w (got %08x, expected %08x)", errBadChecksum, want, in.codec.crc)
	}
	if msg == nil {
		return ev, nil
	}
	msg.wireBytes += len(rest)

	if flags&flagMoreComing == 0 {
		delete(in.msgs, msg.key)
		if msg.refused {
			return ev, nil // answered (or closed) when it was refused
		}
		data, err := msg.buf.bytes(in.mem)
		if err != nil {
			ev.refused = in.refuse(msg, err)
			return ev, nil
		}
		props, body, derr := decodeMessage(data, in.maxProps)
		if derr != nil {
			in.mem.give(msg.buf.held)
			code := CodeBadRequest
			if errors.Is(derr, errPropsTooBig) {
				code = CodeTooLarge
			}
			ev.refused = &refusal{key: msg.key, flags: msg.flags, code: code,
				err: fmt.Errorf("message %s#%d dropped: %w", typeName(msg.flags), msg.key.number, derr)}
			return ev, nil
		}
		ev.done = &completeMsg{key: msg.key, flags: msg.flags, props: props, body: body, size: msg.size, held: msg.buf.held}
		return ev, nil
	}
	// Acknowledge by the larger of the wire and uncompressed counts, so that
	// peers counting either way never stall waiting for an ACK. A refused
	// message is still acknowledged, so its sender can finish and hear why.
	received := max(msg.wireBytes, msg.size)
	if received/ackInterval > msg.ackedAt/ackInterval {
		msg.ackedAt = received
		ev.sendAck, ev.sendAckKey, ev.sendAckBytes = true, msg.key, uint64(received)
	}
	return ev, nil
}

// refuse gives up a message over its memory budget: its buffer goes back
// at once, and the rest of it will be counted but not kept.
func (in *inbound) refuse(msg *inMsg, err error) *refusal {
	msg.buf.free(in.mem)
	msg.refused = true
	r := &refusal{key: msg.key, flags: msg.flags, code: CodeTooLarge, closeCode: CloseMessageTooBig,
		err: fmt.Errorf("message %s#%d refused after %d bytes: %w", typeName(msg.flags), msg.key.number, msg.size, err)}
	if errors.Is(err, errOverSharedMemory) {
		r.code, r.closeCode = CodeUnavailable, CloseTryAgainLater
	}
	return r
}

// freeAll gives back the buffers of all partial messages (the connection
// is ending).
func (in *inbound) freeAll() {
	for _, m := range in.msgs {
		m.buf.free(in.mem)
	}
}

// msgBuf holds a message's payload as chunks, so that growing never copies
// (and never briefly holds twice the message); bytes joins them at the end.
// held is what it has charged to the memory account.
type msgBuf struct {
	chunks [][]byte
	held   int
}

// Chunk sizes: each new chunk is as big as the message so far, within these.
const (
	minChunk = 512
	maxChunk = 1 << 20
)

func (b *msgBuf) append(p []byte, mem *memAccount) error {
	for {
		if n := len(b.chunks); n > 0 {
			last := b.chunks[n-1]
			k := copy(last[len(last):cap(last)], p)
			b.chunks[n-1] = last[:len(last)+k]
			p = p[k:]
		}
		if len(p) == 0 {
			return nil
		}
		size := min(max(len(p), b.held, minChunk), maxChunk)
		if err := mem.take(size); err != nil {
			return err
		}
		b.held += size
		b.chunks = append(b.chunks, newChunk(size))
	}
}

// Full-size chunks of messages that were joined or refused are reused, so
// a peer sending big messages (or bombs) over and over does not make the
// heap grow with garbage between collections.
var chunkPool sync.Pool // of *[]byte, each maxChunk long

func newChunk(size int) []byte {
	if size == maxChunk {
		if c, ok := chunkPool.Get().(*[]byte); ok {
			return (*c)[:0]
		}
	}
	return make([]byte, 0, size)
}

func recycleChunks(chunks [][]byte) {
	for i := range chunks {
		if cap(chunks[i]) == maxChunk {
			chunkPool.Put(&chunks[i])
		}
	}
}

// bytes returns the whole payload, joining the chunks if there are several.
func (b *msgBuf) bytes(mem *memAccount) ([]byte, error) {
	switch len(b.chunks) {
	case 0:
		return nil, nil
	case 1:
		return b.chunks[0], nil
	}
	total := 0
	for _, c := range b.chunks {
		total += len(c)
	}
	if err := mem.take(total); err != nil {
		b.free(mem)
		return nil, err
	}
	data := make([]byte, 0, total)
	for _, c := range b.chunks {
		data = append(data, c...)
	}
	recycleChunks(b.chunks)
	mem.give(b.held)
	b.chunks, b.held = [][]byte{data}, total
	return data, nil
}

func (b *msgBuf) free(mem *memAccount) {
	recycleChunks(b.chunks)
	mem.give(b.held)
	b.chunks, b.held = nil, 0
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
