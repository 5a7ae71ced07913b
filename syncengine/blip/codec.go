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
			w, err := flate.NewWriter(&o.zbuf, flate.DefaultCompression)
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

// inflateMinSpace is the free space each inflater Read gets. The flate reader
// hands out at most one window (32 KiB) of pending output per step, so a
// larger buffer is always drained by one Read; reading again once the input
// is used up would make it look for the next block and fail.
const inflateMinSpace = 32*1024 + 1

// inCodec decodes incoming frame payloads. Used only by the reader goroutine.
type inCodec struct {
	crc      uint32
	src      bytes.Reader
	inBuf    []byte // payload + sync tail, reused
	inflater io.ReadCloser
	broken   bool
}

// inflate appends the decompression of payload to dst, failing with
// errTooBig if dst would grow past limit.
func (c *inCodec) inflate(dst, payload []byte, limit int) ([]byte, error) {
	if c.broken {
		return dst, errBadDeflate
	}
	c.inBuf = append(append(c.inBuf[:0], payload...), syncFlushTail...)
	c.src.Reset(c.inBuf)
	if c.inflater == nil {
		c.inflater = flate.NewReader(&c.src)
	}
	for c.src.Len() > 0 {
		if cap(dst)-len(dst) < inflateMinSpace {
			if len(dst) >= limit+1 {
				c.broken = true
				return dst, errTooBig
			}
			dst = growSlice(dst, inflateMinSpace)
		}
		n, err := c.inflater.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst) > limit {
			c.broken = true
			return dst, errTooBig
		}
		if err != nil {
			c.broken = true
			return dst, errBadDeflate
		}
	}
	return dst, nil
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
