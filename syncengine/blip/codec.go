package blip

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// syncFlushTail ends every sync-flushed deflate block; BLIP strips it on the
// wire and the receiver puts it back.
var syncFlushTail = []byte{0x00, 0x00, 0xff, 0xff}

// outCodec encodes outgoing frames. It is used only by the writer goroutine.
type outCodec struct {
	crc      uint32
	zbuf     bytes.Buffer
	deflater *flate.Writer
}

// appendFrame appends a whole non-ACK frame carrying parts (which together
// are the frame's uncompressed payload) to dst. It returns the new dst and the
// payload's size on the wire.
func (o *outCodec) appendFrame(dst []byte, number uint64, flags uint8, parts ...[]byte) ([]byte, int, error) {
	dst = appendFrameHeader(dst, number, flags)
	start := len(dst)
	for _, p := range parts {
		o.crc = crc32.Update(o.crc, crc32.IEEETable, p)
	}
	if flags&flagCompressed == 0 {
		for _, p := range parts {
			dst = append(dst, p...)
		}
	} else {
		if o.deflater == nil {
			w, err := flate.NewWriter(&o.zbuf, flate.BestSpeed)
			if err != nil {
				return dst, 0, err
			}
			o.deflater = w
		}
		o.zbuf.Reset()
		for _, p := range parts {
			if _, err := o.deflater.Write(p); err != nil {
				return dst, 0, err
			}
		}
		if err := o.deflater.Flush(); err != nil {
			return dst, 0, err
		}
		z := o.zbuf.Bytes()
		// Flush always ends with the sync marker; strip it.
		dst = append(dst, z[:len(z)-len(syncFlushTail)]...)
	}
	wire := len(dst) - start
	dst = binary.BigEndian.AppendUint32(dst, o.crc)
	return dst, wire, nil
}

// appendACKFrame appends an ACK frame: no checksum, not part of the CRC.
func appendACKFrame(dst []byte, number uint64, typ uint8, received uint64) []byte {
	dst = appendFrameHeader(dst, number, typ|flagUrgent|flagNoReply)
	return binary.AppendUvarint(dst, received)
}

// inflateTail goes after each received payload: the stripped sync marker,
// then an empty final block, so the flate reader ends cleanly with io.EOF.
var inflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// Deflate looks back at most 32 KiB; the window keeps that much output
// (compacted once it reaches twice that) to prime the reader for the next frame.
const (
	deflateWindow    = 32 * 1024
	inflateReadChunk = 32 * 1024
)

// inCodec decodes incoming frame payloads. Used only by the reader goroutine.
// Each compressed frame restarts the flate reader with the previous output
// as its dictionary, which continues the peer's single deflate stream.
type inCodec struct {
	crc      uint32
	src      frameSource // payload + inflateTail, without copying
	out      []byte      // one chunk of output, reused
	window   []byte      // recent output, the next frame's dictionary
	inflater io.ReadCloser
	broken   bool
}

// inflate decompresses payload and hands the output to sink in chunks of at
// most inflateReadChunk bytes, so inflating never holds more than one chunk
// itself: the sink decides what to keep. An error from sink stops inflating
// and is returned (the stream is then broken).
func (c *inCodec) inflate(payload []byte, sink func([]byte) error) error {
	if c.broken {
		return errBadDeflate
	}
	c.src = frameSource{parts: [2][]byte{payload, inflateTail}}
	if c.inflater == nil {
		c.inflater = flate.NewReaderDict(&c.src, c.window)
	} else if err := c.inflater.(flate.Resetter).Reset(&c.src, c.window); err != nil {
		c.broken = true
		return errBadDeflate
	}
	if c.out == nil {
		c.out = make([]byte, inflateReadChunk)
	}
	for {
		n, err := c.inflater.Read(c.out)
		if n > 0 {
			c.remember(c.out[:n]) // flate copied the dictionary at Reset
			if serr := sink(c.out[:n]); serr != nil {
				c.broken = true
				return serr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			c.broken = true
			return errBadDeflate
		}
	}
	return nil
}

// frameSource reads a payload and then the inflate tail; it is an
// io.ByteReader so that flate reads it directly, without a bufio copy.
type frameSource struct {
	parts [2][]byte
}

func (s *frameSource) Read(p []byte) (int, error) {
	if !s.next() {
		return 0, io.EOF
	}
	n := copy(p, s.parts[0])
	s.parts[0] = s.parts[0][n:]
	return n, nil
}

func (s *frameSource) ReadByte() (byte, error) {
	if !s.next() {
		return 0, io.EOF
	}
	b := s.parts[0][0]
	s.parts[0] = s.parts[0][1:]
	return b, nil
}

// next moves to the tail once the payload is used up; false at the end.
func (s *frameSource) next() bool {
	if len(s.parts[0]) == 0 {
		s.parts[0], s.parts[1] = s.parts[1], nil
	}
	return len(s.parts[0]) > 0
}

// remember keeps the last 32 KiB of output for the next frame's dictionary.
func (c *inCodec) remember(out []byte) {
	if len(out) >= deflateWindow {
		c.window = append(c.window[:0], out[len(out)-deflateWindow:]...)
		return
	}
	c.window = append(c.window, out...)
	if len(c.window) > 2*deflateWindow {
		n := copy(c.window, c.window[len(c.window)-deflateWindow:])
		c.window = c.window[:n]
	}
}
