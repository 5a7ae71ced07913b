package blip

import (
	"encoding/binary"
	"errors"
)

// Frame type values (the low three bits of the flags).
const (
	typeMSG    = 0
	typeRPY    = 1
	typeERR    = 2
	typeACKMSG = 4
	typeACKRPY = 5
)

// Frame flag bits.
const (
	flagTypeMask   = 0x07
	flagCompressed = 0x08
	flagUrgent     = 0x10
	flagNoReply    = 0x20
	flagMoreComing = 0x40
)

// Protocol constants shared by both ends.
const (
	maxFrameSize       = 16 * 1024 // message bytes per frame normally
	urgentFrameSize    = 4 * 1024  // ... while an urgent message waits
	ackInterval        = 50000     // receiver ACKs every this many bytes of a message
	maxUnackedBytes    = 128000    // sender pauses a message beyond this
	checksumSize       = 4
	maxFrameHeaderSize = 2 * binary.MaxVarintLen64
)

var (
	errEmptyFrame   = errors.New("empty frame")
	errBadVarint    = errors.New("bad varint in frame header")
	errShortFrame   = errors.New("frame too short for its checksum")
	errBadChecksum  = errors.New("frame checksum mismatch")
	errTooBig       = errors.New("message exceeds the maximum message size")
	errBadDeflate   = errors.New("bad deflate data in compressed frame")
	errTextFrame    = errors.New("text WebSocket message (BLIP uses binary messages only)")
	errPropsTooBig  = errors.New("properties exceed the maximum properties size")
	errPropsLength  = errors.New("properties length runs past the message")
	errPropsNoNUL   = errors.New("properties do not end with NUL")
	errPropsOdd     = errors.New("properties have a key without a value")
	errPropsUTF8    = errors.New("property is not valid UTF-8")
	errPropsHasNUL  = errors.New("property key or value contains NUL")
	errBadMsgLength = errors.New("bad properties length varint")
)

// isACK reports whether a frame type is an acknowledgement (no checksum).
func isACK(typ uint8) bool { return typ == typeACKMSG || typ == typeACKRPY }

// parseFrameHeader splits a frame into its number, flags and the rest.
func parseFrameHeader(frame []byte) (number uint64, flags uint64, rest []byte, err error) {
	if len(frame) == 0 {
		return 0, 0, nil, errEmptyFrame
	}
	number, n := binary.Uvarint(frame)
	if n <= 0 {
		return 0, 0, nil, errBadVarint
	}
	frame = frame[n:]
	if len(frame) == 0 {
		return 0, 0, nil, errEmptyFrame
	}
	flags, n = binary.Uvarint(frame)
	if n <= 0 {
		return 0, 0, nil, errBadVarint
	}
	return number, flags, frame[n:], nil
}

// appendFrameHeader appends varint(number) varint(flags).
func appendFrameHeader(dst []byte, number uint64, flags uint8) []byte {
	dst = binary.AppendUvarint(dst, number)
	return binary.AppendUvarint(dst, uint64(flags))
}
