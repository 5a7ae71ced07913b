// Package boltfile reads a bbolt file's pages directly, with plain reads
// instead of bbolt's memory map, so a damaged file can be examined without
// bbolt panicking or faulting on it.
//
// Check walks every bucket's B+tree from the current meta page and reports
// what is wrong: a file it passes can be opened by bbolt, whose open-time
// page walk would otherwise panic on a goroutine nobody can recover.
// ForEach reads whatever entries of a bucket are still readable, skipping
// damaged pages, and ScanLeaves every leaf page whether a tree reaches it
// or not, which is how a damaged database is salvaged.
//
// The format is bbolt's version 2, in little-endian byte order (every
// platform PeerSync runs on).
package boltfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

const (
	magic   = 0xED0CDAED
	version = 2

	pageHeaderSize = 16
	elemSize       = 16 // branch and leaf elements are both 16 bytes
	bucketHeader   = 16 // root page ID, sequence

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagFreelist = 0x10
	flagBucket   = 0x01 // leaf element holding a nested bucket

	maxDepth = 64 // deeper than any sound tree; stops cycles early

	noFreelist = ^uint64(0) // meta's free list page when none was written
)

// ErrUnreadable means the file is empty, has no valid meta page, or is
// shorter than its pages need.
var ErrUnreadable = errors.New("not a readable bbolt file")

// unreadable is an ErrUnreadable that says why.
type unreadable string

func (u unreadable) Error() string        { return string(u) }
func (u unreadable) Is(target error) bool { return target == ErrUnreadable }

// File is an open bbolt file, read with ReadAt. It never writes.
type File struct {
	f        *os.File
	size     int64
	pageSize int
	hwm      uint64 // pages below this ID are allocated
	root     uint64 // root bucket's page
	freelist uint64 // the free list's page, or noFreelist
}

// Open reads the meta pages of the file at path. An empty file or one
// whose meta pages are both invalid fails with an ErrUnreadable error; a
// truncated one opens, and Check reports it.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	bf, err := open(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return bf, nil
}

func open(f *os.File) (*File, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	bf := &File{f: f, size: fi.Size()}
	if bf.size == 0 {
		return nil, unreadable("the file is empty (0 bytes)")
	}
	// Like bbolt: the valid meta page with the higher transaction ID wins.
	m0, err0 := bf.readMeta(0, 0)
	var m1 meta
	var err1 error
	if err0 == nil {
		m1, err1 = bf.readMeta(int64(m0.pageSize), 1)
	} else {
		err1 = err0
		for _, ps := range []int64{4096, 8192, 16384, 32768, 65536} {
			if m1, err1 = bf.readMeta(ps, 1); err1 == nil {
				break
			}
		}
	}
	var m meta
	switch {
	case err0 == nil && (err1 != nil || m0.txid >= m1.txid):
		m = m0
	case err1 == nil:
		m = m1
	default:
		return nil, unreadable(fmt.Sprintf("no valid meta page: %v", err0))
	}
	bf.pageSize, bf.hwm, bf.root, bf.freelist = int(m.pageSize), m.pgid, m.root, m.freelist
	return bf, nil
}

// Close closes the file.
func (bf *File) Close() error { return bf.f.Close() }

// Pages returns the number of allocated pages (the high-water mark).
func (bf *File) Pages() int64 { return int64(bf.hwm) }

// truncated describes a file shorter than its pages need, or is "".
func (bf *File) truncated() string {
	if need := int64(bf.hwm) * int64(bf.pageSize); need > bf.size {
		return fmt.Sprintf("the file is truncated: %d bytes, its pages need %d", bf.size, need)
	}
	return ""
}

type meta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

func (bf *File) readMeta(off int64, id uint64) (meta, error) {
	buf := make([]byte, pageHeaderSize+64)
	if _, err := bf.f.ReadAt(buf, off); err != nil {
		return meta{}, fmt.Errorf("meta page %d: %w", id, err)
	}
	le := binary.LittleEndian
	b := buf[pageHeaderSize:]
	h := fnv.New64a()
	h.Write(b[:56])
	switch {
	case le.Uint32(b[0:]) != magic:
		return meta{}, fmt.Errorf("meta page %d: bad magic number", id)
	case le.Uint32(b[4:]) != version:
		return meta{}, fmt.Errorf("meta page %d: unsupported version %d", id, le.Uint32(b[4:]))
	case le.Uint64(b[56:]) != h.Sum64():
		return meta{}, fmt.Errorf("meta page %d: checksum mismatch", id)
	}
	m := meta{pageSize: le.Uint32(b[8:]), root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]), pgid: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}
	if m.pageSize < 512 || m.pageSize > 1<<20 || m.pageSize&(m.pageSize-1) != 0 {
		return meta{}, fmt.Errorf("meta page %d: bad page size %d", id, m.pageSize)
	}
	if m.pgid < 3 || m.root < 2 || m.root >= m.pgid {
		return meta{}, fmt.Errorf("meta page %d: bad root page %d or page count %d", id, m.root, m.pgid)
	}
	return m, nil
}

// page is one parsed branch or leaf page (with its overflow pages), or an
// inline bucket's page.
type page struct {
	id    uint64
	leaf  bool
	count int
	span  uint64 // pages covered: 1 + overflow
	data  []byte // the whole page, header included
}

// elem is a page element: a branch element has child, a leaf element has
// value and may be a bucket.
type elem struct {
	key, value []byte
	child      uint64
	bucket     bool
}

// readPage reads page id and checks its header and element bounds. The
// page is read into buf when it fits (Check reuses one buffer; ForEach
// passes nil, so what it hands out stays valid).
func (bf *File) readPage(id uint64, buf []byte) (*page, error) {
	if id < 2 || id >= bf.hwm {
		return nil, fmt.Errorf("page %d: outside the file's %d pages", id, bf.hwm)
	}
	off := int64(id) * int64(bf.pageSize)
	first := grow(buf, bf.pageSize)
	if err := bf.readAt(first, off, id); err != nil {
		return nil, err
	}
	span := 1 + uint64(binary.LittleEndian.Uint32(first[12:]))
	if span > bf.hwm-id {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the file's %d pages", id, span-1, bf.hwm)
	}
	data := first
	if span > 1 {
		data = grow(buf, int(span)*bf.pageSize)
		if err := bf.readAt(data, off, id); err != nil {
			return nil, err
		}
	}
	p, err := parsePage(data)
	if err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if p.id != id {
		return nil, fmt.Errorf("page %d: says it is page %d", id, p.id)
	}
	p.span = span
	return p, nil
}

func (bf *File) readAt(b []byte, off int64, id uint64) error {
	if _, err := bf.f.ReadAt(b, off); errors.Is(err, io.EOF) {
		return fmt.Errorf("page %d: past the end of the file", id)
	} else if err != nil {
		return fmt.Errorf("page %d: %w", id, err)
	}
	return nil
}

// grow returns buf resized to n bytes, or a new slice when buf is nil or
// too small.
func grow(buf []byte, n int) []byte {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]byte, n)
}

// parsePage checks a page's type and that every element lies inside it.
func parsePage(data []byte) (*page, error) {
	if len(data) < pageHeaderSize {
		return nil, errors.New("shorter than a page header")
	}
	le := binary.LittleEndian
	p := &page{id: le.Uint64(data), count: int(le.Uint16(data[10:])), data: data}
	switch flags := le.Uint16(data[8:]); flags {
	case flagBranch:
	case flagLeaf:
		p.leaf = true
	default:
		return nil, fmt.Errorf("not a branch or leaf page (flags %#x)", flags)
	}
	if pageHeaderSize+p.count*elemSize > len(data) {
		return nil, fmt.Errorf("%d elements do not fit", p.count)
	}
	var prev []byte
	for i := range p.count {
		e, err := p.elem(i)
		if err != nil {
			return nil, err
		}
		if i > 0 && bytes.Compare(prev, e.key) >= 0 {
			return nil, fmt.Errorf("key %d is not after key %d", i, i-1)
		}
		prev = e.key
	}
	return p, nil
}

func (p *page) elem(i int) (elem, error) {
	le := binary.LittleEndian
	at := pageHeaderSize + i*elemSize
	b := p.data[at : at+elemSize]
	var e elem
	var pos, ksize, vsize uint64
	if p.leaf {
		e.bucket = le.Uint32(b)&flagBucket != 0
		pos, ksize, vsize = uint64(le.Uint32(b[4:])), uint64(le.Uint32(b[8:])), uint64(le.Uint32(b[12:]))
	} else {
		pos, ksize, e.child = uint64(le.Uint32(b)), uint64(le.Uint32(b[4:])), le.Uint64(b[8:])
	}
	start := uint64(at) + pos
	if end := start + ksize + vsize; end > uint64(len(p.data)) {
		return elem{}, fmt.Errorf("element %d runs past the page", i)
	}
	e.key = p.data[start : start+ksize]
	e.value = p.data[start+ksize : start+ksize+vsize]
	if e.bucket && (len(e.value) < bucketHeader || le.Uint64(e.value) == 0 && len(e.value) < bucketHeader+pageHeaderSize) {
		return elem{}, fmt.Errorf("element %d: bucket header too short", i)
	}
	return e, nil
}
