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
	src      bytes.Reader
	inBuf    []byte // payload + inflateTail, reused
	window   []byte // recent output, the next frame's dictionary
	inflater io.ReadCloser
	broken   bool
}

// inflate appends the decompression of payload to dst, failing with
// errTooBig if dst would grow past limit.
func (c *inCodec) inflate(dst, payload []byte, limit int) ([]byte, error) {
	if c.broken {
		return dst, errBadDeflate
	}
	c.inBuf = append(append(c.inBuf[:0], payload...), inflateTail...)
	c.src.Reset(c.inBuf)
	if c.inflater == nil {
		c.inflater = flate.NewReaderDict(&c.src, c.window)
	} else if err := c.inflater.(flate.Resetter).Reset(&c.src, c.window); err != nil {
		c.broken = true
		return dst, errBadDeflate
	}
	start := len(dst)
	for {
		if len(dst) > limit {
			c.broken = true
			return dst, errTooBig
		}
		if cap(dst)-len(dst) < 512 {
			// Guess 4× the payload first: small messages stay small.
			want := min(max(512, 4*len(payload)), inflateReadChunk)
			dst = growSlice(dst, min(want, limit+1-len(dst)+512))
		}
		n, err := c.inflater.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			c.broken = true
			return dst, errBadDeflate
		}
	}
	if len(dst) > limit {
		c.broken = true
		return dst, errTooBig
	}
	c.remember(dst[start:])
	return dst, nil
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

// growSlice makes room for at least n more bytes after len(b).
func growSlice(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	newCap := 2 * cap(b)
	if newCap < len(b)+n {
		newCap = len(b) + n
	}
	nb := make([]byte, len(b), newCap)
	copy(nb, b)
	return nb
}
