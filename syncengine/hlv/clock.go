package hlv

import (
	"fmt"
	"math"
	"sync"
	"time"
)

const (
	// MinTime is the oldest time a version may carry (2^40 ns, early 1970):
	// Couchbase Lite refuses anything below it.
	MinTime = 1 << 40
	// MaxSkew is how far ahead of the local wall clock a received time may
	// be. Couchbase Lite refuses times further ahead, so PeerSync refuses
	// them too rather than store what it could never pass on.
	MaxSkew = 2 * time.Minute

	counterBits = 0xFFFF
)

// CheckTime reports whether t is a time Couchbase Lite would accept from a
// peer whose wall clock reads now. Legacy versions are exempt: their times
// encode a generation and a digest, not a moment.
func CheckTime(v Version, now time.Time) error {
	if v.IsLegacy() {
		return nil
	}
	if v.Time < MinTime || v.Time > math.MaxInt64 {
		return fmt.Errorf("%w: %s: time out of range", ErrInvalid, v)
	}
	if limit := uint64(now.Add(MaxSkew).UnixNano()); v.Time > limit {
		return fmt.Errorf("%w: %s is more than %v ahead of this clock", ErrInvalid, v, MaxSkew)
	}
	return nil
}

// CheckTimes runs CheckTime on every version of v.
func (v Vector) CheckTimes(now time.Time) error {
	var err error
	v.each(func(x Version) {
		if err == nil {
			err = CheckTime(x, now)
		}
	})
	return err
}

// Clock is a hybrid logical clock: nanoseconds since the Unix epoch whose low
// 16 bits are a counter, so that times it issues are strictly increasing and
// later than every time it has seen, even when the wall clock stalls or
// steps back. Safe for concurrent use.
type Clock struct {
	wall func() time.Time

	mu   sync.Mutex
	last uint64 // guarded by mu: the newest time issued or seen
}

// NewClock returns a clock that has already issued or seen last (persist
// Last to keep times increasing across restarts). wall nil means time.Now.
func NewClock(last uint64, wall func() time.Time) *Clock {
	if wall == nil {
		wall = time.Now
	}
	return &Clock{wall: wall, last: last}
}

// Now issues a new time: the wall clock with the counter bits cleared, or
// one past the newest time issued or seen when that is not earlier.
func (c *Clock) Now() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := uint64(c.wall().UnixNano()) &^ counterBits
	if next <= c.last {
		next = c.last + 1
	}
	c.last = next
	return next
}

// See checks a received version's time and advances the clock past it, so a
// later local edit is newer than anything received. A refused time leaves
// the clock as it was.
func (c *Clock) See(v Version) error {
	if err := CheckTime(v, c.wall()); err != nil {
		return err
	}
	if v.IsLegacy() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v.Time > c.last {
		c.last = v.Time
	}
	return nil
}

// Last returns the newest time issued or seen.
func (c *Clock) Last() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// ParseStrict is Parse followed by CheckTimes: it refuses everything
// Couchbase Lite refuses in a received vector, times included (below
// MinTime, or more than MaxSkew ahead of now). Use it on what arrives from
// a peer; Parse alone suits text this database wrote itself.
func ParseStrict(s string, now time.Time) (Vector, []string, error) {
	v, legacy, err := Parse(s)
	if err != nil {
		return Vector{}, nil, err
	}
	if err := v.CheckTimes(now); err != nil {
		return Vector{}, nil, err
	}
	return v, legacy, nil
}
