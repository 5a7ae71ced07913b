package boltfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// MaxProblems bounds how many problems a Report lists.
const MaxProblems = 100

// Report is what Check found.
type Report struct {
	Pages    int64    // pages walked
	Problems []string // the first MaxProblems problems; empty when sound
	More     int      // problems found beyond those listed
}

// Sound reports whether Check found nothing wrong.
func (r Report) Sound() bool { return len(r.Problems) == 0 }

// Check walks every bucket's tree and checks each page's ID, type, bounds
// and key order, that every page lies below the high-water mark and is
// referenced once. It stops after limit problems (0 = MaxProblems).
// progress, if not nil, hears pages walked out of Pages().
func (bf *File) Check(limit int, progress func(done, total int64)) Report {
	if limit <= 0 || limit > MaxProblems {
		limit = MaxProblems
	}
	c := &walker{bf: bf, seen: map[uint64]bool{}, limit: limit, progress: progress}
	if t := bf.truncated(); t != "" {
		c.problem("", "%s", t)
	}
	c.tree(bf.root, nil, nil, "", 0)
	if !c.stopped() {
		c.freelist()
	}
	if progress != nil {
		progress(c.rep.Pages, bf.Pages())
	}
	return c.rep
}

type walker struct {
	bf       *File
	seen     map[uint64]bool
	limit    int
	progress func(done, total int64)
	rep      Report
	// entry, when set, is called for each leaf entry the walk reaches in
	// the bucket it targets (ForEach).
	entry func(e elem) error
	err   error
	bufs  [][]byte // one page buffer per tree level, reused by Check
}

func (c *walker) problem(path string, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = "bucket " + path + ": " + msg
	}
	if len(c.rep.Problems) < c.limit {
		c.rep.Problems = append(c.rep.Problems, msg)
	} else {
		c.rep.More++
	}
}

func (c *walker) stopped() bool {
	return c.err != nil || (c.entry == nil && len(c.rep.Problems) >= c.limit)
}

// tree walks the pages under id, whose keys must lie in [lo, hi).
func (c *walker) tree(id uint64, lo, hi []byte, path string, depth int) {
	if c.stopped() {
		return
	}
	if depth > maxDepth {
		c.problem(path, "page %d: tree deeper than %d levels", id, maxDepth)
		return
	}
	if c.seen[id] {
		c.problem(path, "page %d: referenced more than once", id)
		return
	}
	var buf []byte
	if c.entry == nil {
		// A level's page is done with once its subtrees are walked.
		for len(c.bufs) <= depth {
			c.bufs = append(c.bufs, make([]byte, c.bf.pageSize))
		}
		buf = c.bufs[depth]
	}
	p, err := c.bf.readPage(id, buf)
	if buf != nil && p != nil && cap(p.data) > cap(buf) {
		c.bufs[depth] = p.data // keep the larger buffer
	}
	if err != nil {
		c.problem(path, "%v", err)
		return
	}
	for i := range p.span {
		if c.seen[id+i] {
			c.problem(path, "page %d: referenced more than once", id+i)
			return
		}
		c.seen[id+i] = true
	}
	c.rep.Pages += int64(p.span)
	if c.progress != nil && c.rep.Pages%256 == 0 {
		c.progress(c.rep.Pages, c.bf.Pages())
	}
	c.elems(p, lo, hi, path, depth)
}

// freelist checks the free list bbolt wrote, if it wrote one: bbolt
// trusts it when it opens the file, and a damaged one would make it hand
// out pages still in use. Every page it lists must lie inside the file, in
// ascending order, and be referenced by no tree; its own pages are
// referenced once, like a tree's.
func (c *walker) freelist() {
	bf := c.bf
	id := bf.freelist
	if id == noFreelist {
		return
	}
	if id < 2 || id >= bf.hwm {
		c.problem("", "free list: page %d outside the file's %d pages", id, bf.hwm)
		return
	}
	first := make([]byte, bf.pageSize)
	if err := bf.readAt(first, int64(id)*int64(bf.pageSize), id); err != nil {
		c.problem("", "free list: %v", err)
		return
	}
	le := binary.LittleEndian
	span := 1 + uint64(le.Uint32(first[12:]))
	switch {
	case le.Uint64(first) != id:
		c.problem("", "free list: page %d says it is page %d", id, le.Uint64(first))
		return
	case le.Uint16(first[8:]) != flagFreelist:
		c.problem("", "free list: page %d is not a free list page (flags %#x)", id, le.Uint16(first[8:]))
		return
	case span > bf.hwm-id:
		c.problem("", "free list: page %d: %d overflow pages run past the file's %d pages", id, span-1, bf.hwm)
		return
	}
	data := first
	if span > 1 {
		data = make([]byte, int(span)*bf.pageSize)
		if err := bf.readAt(data, int64(id)*int64(bf.pageSize), id); err != nil {
			c.problem("", "free list: %v", err)
			return
		}
	}
	for i := range span {
		if c.seen[id+i] {
			c.problem("", "free list: page %d is also in a tree", id+i)
			return
		}
		c.seen[id+i] = true
	}
	ids := data[pageHeaderSize:]
	count := uint64(le.Uint16(data[10:]))
	if count == 0xFFFF { // a long list keeps its count in the first slot
		if len(ids) < 8 {
			c.problem("", "free list: page %d is too short for its count", id)
			return
		}
		count, ids = le.Uint64(ids), ids[8:]
	}
	if count > uint64(len(ids)/8) {
		c.problem("", "free list: %d entries do not fit its %d pages", count, span)
		return
	}
	var prev uint64
	for i := range count {
		free := le.Uint64(ids[i*8:])
		switch {
		case free < 2 || free >= bf.hwm:
			c.problem("", "free list: entry %d, page %d, outside the file's %d pages", i, free, bf.hwm)
			return
		case i > 0 && free <= prev:
			c.problem("", "free list: entry %d, page %d, is not after page %d", i, free, prev)
			return
		case c.seen[free]:
			c.problem("", "free list: page %d is free and in use", free)
			return
		}
		prev = free
	}
}

// elems checks a parsed page's keys against [lo, hi) and descends.
func (c *walker) elems(p *page, lo, hi []byte, path string, depth int) {
	for i := range p.count {
		if c.stopped() {
			return
		}
		e, _ := p.elem(i) // parsePage checked every element
		if i == 0 && lo != nil && bytes.Compare(e.key, lo) < 0 || hi != nil && bytes.Compare(e.key, hi) >= 0 {
			c.problem(path, "page %d: key %d lies outside the range its parent gives", p.id, i)
			return
		}
		if !p.leaf {
			next := hi
			if i+1 < p.count {
				n, _ := p.elem(i + 1)
				next = n.key
			}
			c.tree(e.child, e.key, next, path, depth+1)
			continue
		}
		if c.entry != nil && path == "" {
			if c.err = c.entry(e); c.err != nil {
				return
			}
		}
		if e.bucket && c.entry == nil {
			c.bucket(e.value, path+"/"+printable(e.key), depth+1)
		}
	}
}

// bucket walks a nested bucket given its header (and inline page).
func (c *walker) bucket(value []byte, path string, depth int) {
	root := binary.LittleEndian.Uint64(value)
	if root != 0 {
		c.tree(root, nil, nil, path, depth)
		return
	}
	p, err := parsePage(value[bucketHeader:])
	switch {
	case err != nil:
		c.problem(path, "inline page: %v", err)
	case !p.leaf:
		c.problem(path, "inline page is not a leaf page")
	default:
		c.elems(p, nil, nil, path, depth)
	}
}

// printable shows a bucket name for a problem report.
func printable(k []byte) string {
	if strings.IndexFunc(string(k), func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0xfffd }) >= 0 {
		return fmt.Sprintf("%x", k)
	}
	return string(k)
}

// ErrNoBucket means a bucket on the path is missing or could not be read.
var ErrNoBucket = errors.New("bucket not found")

// ForEach calls fn for every entry of the bucket at path (names from the
// root bucket) that can be read, in key order within each page. Keys and
// values are copies fn may keep; bucket tells a nested bucket from a
// value. Damaged pages are skipped and listed in the returned report.
// An error from fn stops the walk and is returned.
func (bf *File) ForEach(path [][]byte, fn func(key, value []byte, bucket bool) error) (Report, error) {
	var rep Report
	header, inline := bf.root, []byte(nil)
	for depth, name := range path {
		var found []byte
		r, err := bf.entries(header, inline, func(e elem) error {
			if e.bucket && bytes.Equal(e.key, name) {
				found = e.value
			}
			return nil
		})
		rep.Pages += r.Pages
		rep.Problems = append(rep.Problems, r.Problems...)
		rep.More += r.More
		if err != nil {
			return rep, err
		}
		if found == nil {
			return rep, fmt.Errorf("%w: %s", ErrNoBucket, joinPath(path[:depth+1]))
		}
		header, inline = binary.LittleEndian.Uint64(found), nil
		if header == 0 {
			inline = found[bucketHeader:]
		}
	}
	r, err := bf.entries(header, inline, func(e elem) error { return fn(e.key, e.value, e.bucket) })
	rep.Pages += r.Pages
	rep.Problems = append(rep.Problems, r.Problems...)
	rep.More += r.More
	return rep, err
}

// entries walks one bucket's tree (or inline page), calling fn per entry.
func (bf *File) entries(root uint64, inline []byte, fn func(elem) error) (Report, error) {
	c := &walker{bf: bf, seen: map[uint64]bool{}, limit: MaxProblems, entry: fn}
	if inline != nil {
		c.bucket(append(make([]byte, bucketHeader), inline...), "", 0)
	} else {
		c.tree(root, nil, nil, "", 0)
	}
	return c.rep, c.err
}

func joinPath(path [][]byte) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = printable(p)
	}
	return strings.Join(parts, "/")
}

// ScanLeaves reads every page of the file in order, whether or not a tree
// still reaches it, and calls fn for each entry of each readable leaf page
// (and of the inline buckets in them). It finds what damage cut off from
// the tree, but also old versions left on pages bbolt has freed: callers
// must prefer what ForEach gives. Keys and values are copies.
func (bf *File) ScanLeaves(fn func(key, value []byte) error) error {
	pages := min(bf.hwm, uint64(bf.size/int64(bf.pageSize)))
	for id := uint64(2); id < pages; id++ {
		p, err := bf.readPage(id, nil)
		if err != nil {
			continue
		}
		id += p.span - 1
		if !p.leaf {
			continue
		}
		if err := scanPage(p, fn, 0); err != nil {
			return err
		}
	}
	return nil
}

func scanPage(p *page, fn func(key, value []byte) error, depth int) error {
	for i := range p.count {
		e, _ := p.elem(i)
		if !e.bucket {
			if err := fn(e.key, e.value); err != nil {
				return err
			}
			continue
		}
		if binary.LittleEndian.Uint64(e.value) != 0 || depth >= maxDepth {
			continue
		}
		if in, err := parsePage(e.value[bucketHeader:]); err == nil && in.leaf {
			if err := scanPage(in, fn, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
