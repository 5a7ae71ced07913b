package store

import (
	"encoding/binary"
	"slices"

	"peersync/syncengine/hlv"
	"peersync/syncengine/revtree"
)

// revVector is the version vector recorded for one revision of a document.
type revVector struct {
	rev string
	vec hlv.Vector
}

// VectorOf returns the version vector of one revision: the one recorded
// when this database made it, or else its legacy version (source
// Revision+Tree+Encoding, see hlv.LegacyVersion), as for revisions written
// before version vectors or received with a revision-tree history. It is
// the zero Vector for a revision ID that has no legacy version.
func (d *Document) VectorOf(rev string) hlv.Vector {
	for _, rv := range d.vectors {
		if rv.rev == rev {
			return rv.vec
		}
	}
	return legacyVector(rev)
}

// legacyVector is the vector of a revision that has none of its own.
func legacyVector(rev string) hlv.Vector {
	v, err := hlv.LegacyVersion(rev)
	if err != nil {
		return hlv.Vector{}
	}
	return hlv.Vector{Current: v}
}

// inheritVector records the vector of rev, received with a revision-tree
// history on top of parent: rev's legacy version after parent's vector, as
// Sync Gateway gives a version to what a CBMobile_3 client writes. Without
// it, a peer that compares vectors could not see that rev descends from
// versions it has. Nothing is recorded when parent has no vector of its
// own: the tree says everything there is.
func (d *Document) inheritVector(rev, parent string) {
	pv := d.VectorOf(parent)
	if pv.IsZero() || (pv.Current.IsLegacy() && len(pv.Previous) == 0 && len(pv.Merges) == 0) {
		return
	}
	if lv, err := hlv.LegacyVersion(rev); err == nil {
		d.setVector(rev, pv.Add(lv))
	}
}

// setVector records rev's vector. The slice is copied, never changed in
// place: a Document copied before the edit keeps its own.
func (d *Document) setVector(rev string, v hlv.Vector) {
	out := make([]revVector, 0, len(d.vectors)+1)
	for _, rv := range d.vectors {
		if rv.rev != rev {
			out = append(out, rv)
		}
	}
	d.vectors = append(out, revVector{rev, v})
}

// Encoding of the vectors of a record (present when flagVectors is set),
// before the tree: uvarint(number of sources) and each source's 16 bytes;
// uvarint(number of entries); per entry uvarint(index of the revision in
// the tree), uvarint(merges), uvarint(previous), then the current version,
// the merges and the previous versions, each uvarint(source index) and
// an 8-byte big-endian time. Sources are written once per record because
// most versions of a document share a few authors.

func appendVectors(buf []byte, tree *revtree.Tree, vectors []revVector) []byte {
	revs := tree.Revs()
	// Most documents have one or two authors: keep the table on the stack.
	var table [4]hlv.SourceID
	sources := table[:0]
	var entries [][2]int // index in vectors, index in revs
	var entryBuf [4][2]int
	entries = entryBuf[:0]
	for i, rv := range vectors {
		r := slices.IndexFunc(revs, func(r revtree.Rev) bool { return r.ID == rv.rev })
		if r < 0 {
			continue // pruned from the tree
		}
		entries = append(entries, [2]int{i, r})
		sources = addSource(sources, rv.vec.Current.Source)
		for _, m := range rv.vec.Merges {
			sources = addSource(sources, m.Source)
		}
		for _, p := range rv.vec.Previous {
			sources = addSource(sources, p.Source)
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(sources)))
	for _, s := range sources {
		buf = append(buf, s[:]...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	for _, e := range entries {
		v := vectors[e[0]].vec
		buf = binary.AppendUvarint(buf, uint64(e[1]))
		buf = binary.AppendUvarint(buf, uint64(len(v.Merges)))
		buf = binary.AppendUvarint(buf, uint64(len(v.Previous)))
		buf = appendVersion(buf, sources, v.Current)
		for _, m := range v.Merges {
			buf = appendVersion(buf, sources, m)
		}
		for _, p := range v.Previous {
			buf = appendVersion(buf, sources, p)
		}
	}
	return buf
}

func addSource(sources []hlv.SourceID, s hlv.SourceID) []hlv.SourceID {
	if slices.Contains(sources, s) {
		return sources
	}
	return append(sources, s)
}

func appendVersion(buf []byte, sources []hlv.SourceID, v hlv.Version) []byte {
	buf = binary.AppendUvarint(buf, uint64(slices.Index(sources, v.Source)))
	return binary.BigEndian.AppendUint64(buf, v.Time)
}

// vectorEntry is a decoded entry whose revision is known only by index
// until the tree that follows is decoded.
type vectorEntry struct {
	rev int
	vec hlv.Vector
}

// readVectors decodes what appendVectors wrote and returns the rest of
// data; ok is false for a corrupt encoding.
func readVectors(data []byte) (entries []vectorEntry, rest []byte, ok bool) {
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(data)
		if n <= 0 {
			return 0, false
		}
		data = data[n:]
		return v, true
	}
	nSources, ok := uvarint()
	if !ok || nSources > uint64(len(data))/16 {
		return nil, nil, false
	}
	sources := make([]hlv.SourceID, nSources)
	for i := range sources {
		copy(sources[i][:], data[:16])
		data = data[16:]
	}
	nEntries, ok := uvarint()
	if !ok || nEntries > uint64(len(data))/12 { // an entry is at least 12 bytes
		return nil, nil, false
	}
	version := func() (hlv.Version, bool) {
		i, ok := uvarint()
		if !ok || i >= nSources || len(data) < 8 {
			return hlv.Version{}, false
		}
		v := hlv.Version{Source: sources[i], Time: binary.BigEndian.Uint64(data)}
		data = data[8:]
		return v, true
	}
	list := func(n uint64) ([]hlv.Version, bool) {
		if n == 0 {
			return nil, true
		}
		if n > uint64(len(data))/9 {
			return nil, false
		}
		out := make([]hlv.Version, n)
		for i := range out {
			v, ok := version()
			if !ok {
				return nil, false
			}
			out[i] = v
		}
		return out, true
	}
	entries = make([]vectorEntry, 0, nEntries)
	for range nEntries {
		rev, ok1 := uvarint()
		nMerges, ok2 := uvarint()
		nPrevious, ok3 := uvarint()
		if !ok1 || !ok2 || !ok3 || rev >= 1<<31 {
			return nil, nil, false
		}
		e := vectorEntry{rev: int(rev)}
		var ok bool
		if e.vec.Current, ok = version(); !ok {
			return nil, nil, false
		}
		if e.vec.Merges, ok = list(nMerges); !ok {
			return nil, nil, false
		}
		if e.vec.Previous, ok = list(nPrevious); !ok {
			return nil, nil, false
		}
		entries = append(entries, e)
	}
	return entries, data, true
}
