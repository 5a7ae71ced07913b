package hlv

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Vector is a revision's hybrid logical vector.
//
// Current identifies the revision. Merges holds the current versions of the
// revisions a merge combined (empty unless this revision is a merge).
// Previous holds the latest known version of every other source. A source
// appears at most once across the three, except that Current's source may
// also appear once in Merges with an older time (a merge made by one of the
// two conflicting authors).
//
// Order inside Merges and Previous carries no meaning (Sync Gateway writes
// them in map order); Parse and the operations below keep both sorted by
// descending time so that equal vectors are equal values.
type Vector struct {
	Current  Version
	Merges   []Version
	Previous []Version
}

// IsZero reports whether v has no current version (a legacy-only revision).
func (v Vector) IsZero() bool { return v.Current.IsZero() }

// Parse reads a vector in its text form, "cv[,mv…][;pv…]", optionally
// followed by legacy revision IDs ("cv;pv,3-abc,2-def"), which it returns
// newest first as they came. A ';' ends the current group; with no ';' every
// version is current (cv and merges). Spaces after ',' and ';' are allowed,
// since Couchbase Lite writes them and Sync Gateway does not. A string that
// starts with a revision ID has no vector: Parse returns the zero Vector and
// every ID as legacy.
func Parse(s string) (Vector, []string, error) {
	current, previous, hasSemi := strings.Cut(s, ";")
	var v Vector
	var legacy []string
	add := func(entry string, group *[]Version) error {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return fmt.Errorf("%w: empty entry in %q", ErrInvalid, s)
		}
		if IsRevID(entry) {
			if _, _, err := splitRevID(entry); err != nil {
				return err
			}
			legacy = append(legacy, entry)
			return nil
		}
		if len(legacy) > 0 {
			return fmt.Errorf("%w: version %q after a revision ID in %q", ErrInvalid, entry, s)
		}
		ver, err := ParseVersion(entry)
		if err != nil {
			return err
		}
		if v.Current.IsZero() {
			v.Current = ver
		} else {
			*group = append(*group, ver)
		}
		return nil
	}
	for _, e := range strings.Split(current, ",") {
		if err := add(e, &v.Merges); err != nil {
			return Vector{}, nil, err
		}
	}
	if hasSemi && strings.TrimSpace(previous) != "" {
		if v.Current.IsZero() {
			return Vector{}, nil, fmt.Errorf("%w: %q: ';' after a revision ID", ErrInvalid, s)
		}
		for _, e := range strings.Split(previous, ",") {
			if err := add(e, &v.Previous); err != nil {
				return Vector{}, nil, err
			}
		}
	}
	if v.IsZero() {
		return Vector{}, legacy, nil
	}
	if err := v.Validate(); err != nil {
		return Vector{}, nil, err
	}
	v.sort()
	return v, legacy, nil
}

// ParseRevHistory rebuilds a revision's vector from a rev message's "rev"
// (the current version, or a revision ID for a legacy-only revision) and
// "history" (the rest). A history with a ';' starts with merges; one
// without is all previous versions; legacy revision IDs come last.
func ParseRevHistory(rev, history string) (Vector, []string, error) {
	rev = strings.TrimSpace(rev)
	if IsRevID(rev) {
		legacy := []string{rev}
		if strings.TrimSpace(history) != "" {
			v, more, err := Parse(history)
			if err != nil {
				return Vector{}, nil, err
			}
			if !v.IsZero() {
				return Vector{}, nil, fmt.Errorf("%w: history %q of revision ID %q holds versions", ErrInvalid, history, rev)
			}
			legacy = append(legacy, more...)
		}
		return Vector{}, legacy, nil
	}
	if strings.ContainsAny(rev, ",;") {
		return Vector{}, nil, fmt.Errorf("%w: rev %q holds more than one version", ErrInvalid, rev)
	}
	switch {
	case strings.TrimSpace(history) == "":
		return Parse(rev)
	case strings.Contains(history, ";"):
		return Parse(rev + "," + history)
	default:
		return Parse(rev + ";" + history)
	}
}

// CurrentOf returns the current version of a vector's text form (the text
// before the first ',' or ';'), as a changes row or a proposeChanges revision
// may carry either one version or a whole vector.
func CurrentOf(s string) (Version, error) {
	if i := strings.IndexAny(s, ",;"); i >= 0 {
		s = s[:i]
	}
	return ParseVersion(strings.TrimSpace(s))
}

// Validate checks the "each source once" rule.
func (v Vector) Validate() error {
	if v.Current.IsZero() {
		return fmt.Errorf("%w: no current version", ErrInvalid)
	}
	seen := map[SourceID]bool{v.Current.Source: true}
	for _, m := range v.Merges {
		if m.Source == v.Current.Source {
			if m.Time >= v.Current.Time {
				return fmt.Errorf("%w: merge version %s is not older than the current %s", ErrInvalid, m, v.Current)
			}
			continue
		}
		if seen[m.Source] {
			return fmt.Errorf("%w: source %s appears twice", ErrInvalid, m.Source)
		}
		seen[m.Source] = true
	}
	selfInMerges := 0
	for _, m := range v.Merges {
		if m.Source == v.Current.Source {
			selfInMerges++
		}
	}
	if selfInMerges > 1 {
		return fmt.Errorf("%w: source %s appears twice in the merges", ErrInvalid, v.Current.Source)
	}
	for _, p := range v.Previous {
		if seen[p.Source] {
			return fmt.Errorf("%w: source %s appears twice", ErrInvalid, p.Source)
		}
		seen[p.Source] = true
	}
	return nil
}

// String writes the vector without spaces ("cv,mv1,mv2;pv1,pv2"), with a
// trailing ';' for a merge that has no previous versions, so that the merge
// group survives a round trip.
func (v Vector) String() string {
	var b strings.Builder
	b.WriteString(v.Current.String())
	for _, m := range v.Merges {
		b.WriteByte(',')
		b.WriteString(m.String())
	}
	if len(v.Merges) > 0 || len(v.Previous) > 0 {
		b.WriteByte(';')
	}
	writeList(&b, v.Previous)
	return b.String()
}

// History is the rev message's "history" property: the vector after its
// current version ("mv1,mv2;pv…" for a merge, else "pv…"), then any legacy
// revision IDs. It is empty for a vector of one version without legacy IDs.
func (v Vector) History(legacy ...string) string {
	var b strings.Builder
	if len(v.Merges) > 0 {
		writeList(&b, v.Merges)
		b.WriteByte(';')
	}
	writeList(&b, v.Previous)
	for _, id := range legacy {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), ";") {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	return b.String()
}

func writeList(b *strings.Builder, list []Version) {
	for i, x := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x.String())
	}
}

// TimeOf returns the newest time v holds for source s, or 0.
func (v Vector) TimeOf(s SourceID) uint64 {
	var t uint64
	v.each(func(x Version) {
		if x.Source == s && x.Time > t {
			t = x.Time
		}
	})
	return t
}

// Dominates reports whether v already includes version x: it holds an entry
// for x's source at least as new. A legacy version is included only when v
// holds exactly it, because two legacy versions' times say nothing about
// ancestry (the revision tree does).
func (v Vector) Dominates(x Version) bool {
	if x.IsLegacy() {
		found := false
		v.each(func(y Version) { found = found || y == x })
		return found
	}
	return v.TimeOf(x.Source) >= x.Time
}

func (v Vector) each(f func(Version)) {
	f(v.Current)
	for _, m := range v.Merges {
		f(m)
	}
	for _, p := range v.Previous {
		f(p)
	}
}

// Order is how one vector relates to another.
type Order int

const (
	Same        Order = iota // the same revision
	Newer                    // a includes b
	Older                    // b includes a
	Conflicting              // neither includes the other
)

func (o Order) String() string {
	return [...]string{"same", "newer", "older", "conflicting"}[o]
}

// Compare says how a relates to b by comparing each side's current version
// with the other vector, as Couchbase Lite and Sync Gateway do. Two
// conflicting vectors that record the same non-empty set of merges count as
// the same: the same merge was made on both sides (Sync Gateway's rule).
func Compare(a, b Vector) Order {
	if a.Current == b.Current {
		return Same
	}
	aHasB, bHasA := a.Dominates(b.Current), b.Dominates(a.Current)
	switch {
	case aHasB && !bHasA:
		return Newer
	case bHasA && !aHasB:
		return Older
	case len(a.Merges) > 0 && slices.Equal(a.Merges, b.Merges):
		return Same
	}
	return Conflicting
}

// Add returns the vector of a new local revision made on top of v at
// version x: x becomes current, every other entry of v (its current version
// and merges included) becomes a previous version, newest per source, and
// any earlier entry of x's source is dropped. Merges live only until the
// next edit.
func (v Vector) Add(x Version) Vector {
	out := Vector{Current: x}
	if !v.IsZero() {
		out.Previous = newestExcept(map[SourceID]bool{x.Source: true}, v)
	}
	out.sort()
	return out
}

// FastForward returns the vector to store when incoming includes local's
// current version: incoming, plus any local entry newer than what incoming
// holds for that source as a previous version. An incoming merge entry that
// local has seen newer becomes a previous version.
func FastForward(incoming, local Vector) Vector {
	out := Vector{Current: incoming.Current}
	skip := map[SourceID]bool{incoming.Current.Source: true}
	for _, m := range incoming.Merges {
		if m.Source == incoming.Current.Source || local.TimeOf(m.Source) <= m.Time {
			out.Merges = append(out.Merges, m)
			skip[m.Source] = true
		}
	}
	// Merges local has seen newer are dropped from the merges above, and
	// reappear below as previous versions with local's newer time.
	out.Previous = newestExcept(skip, incoming, local)
	out.sort()
	return out
}

// Merge returns the vector of a merged body made locally at version x from
// two conflicting revisions: x is current, both old current versions are the
// merges, and every other source's newest entry is a previous version.
func Merge(a, b Vector, x Version) Vector {
	out := Vector{Current: x, Merges: []Version{a.Current, b.Current}}
	skip := map[SourceID]bool{x.Source: true, a.Current.Source: true, b.Current.Source: true}
	out.Previous = newestExcept(skip, a, b)
	out.sort()
	return out
}

// TrivialMerge returns the vector that records winner beating loser without a
// new body: winner's current version stays current (so no new version is
// made), and every other source takes the newest time either side holds.
// Winner's merges are kept while loser holds nothing newer for them.
func TrivialMerge(winner, loser Vector) Vector {
	out := Vector{Current: winner.Current}
	keep := true
	for _, m := range winner.Merges {
		if m.Source != winner.Current.Source && loser.TimeOf(m.Source) > m.Time {
			keep = false
		}
	}
	skip := map[SourceID]bool{winner.Current.Source: true}
	if keep {
		out.Merges = slices.Clone(winner.Merges)
		for _, m := range out.Merges {
			skip[m.Source] = true
		}
	}
	out.Previous = newestExcept(skip, winner, loser)
	out.sort()
	return out
}

// LastWriteWins is Couchbase Lite 4's default conflict rule, as Sync Gateway
// writes it: a deletion beats a live revision; otherwise the newer current
// version wins; on a tie the local side wins.
func LastWriteWins(local Vector, localDeleted bool, remote Vector, remoteDeleted bool) (remoteWins bool) {
	if localDeleted != remoteDeleted {
		return remoteDeleted
	}
	return remote.Current.Time > local.Current.Time
}

// newestExcept lists, for every source not in skip, the newest entry any of
// vs holds.
func newestExcept(skip map[SourceID]bool, vs ...Vector) []Version {
	best := map[SourceID]uint64{}
	for _, v := range vs {
		v.each(func(y Version) {
			if !skip[y.Source] && y.Time > best[y.Source] {
				best[y.Source] = y.Time
			}
		})
	}
	out := make([]Version, 0, len(best))
	for s, t := range best {
		out = append(out, Version{Time: t, Source: s})
	}
	return out
}

func (v *Vector) sort() {
	byTime := func(a, b Version) int {
		if c := cmp.Compare(b.Time, a.Time); c != 0 {
			return c
		}
		return slices.Compare(a.Source[:], b.Source[:])
	}
	slices.SortFunc(v.Merges, byTime)
	slices.SortFunc(v.Previous, byTime)
	if len(v.Merges) == 0 {
		v.Merges = nil
	}
	if len(v.Previous) == 0 {
		v.Previous = nil
	}
}
