package discovery

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/mdns"
)

const (
	defaultQueryInterval = time.Second
	// defaultMissedQueries is how many rounds a peer may miss before it is
	// reported lost, when LostAfter is not set.
	defaultMissedQueries = 3
	// entryBuffer bounds the answers one round can hold; the library drops
	// answers rather than block, so this must cover a busy network.
	entryBuffer = 512
)

// BrowserOptions tunes a Browser. Zero values pick the defaults.
type BrowserOptions struct {
	// Interface limits queries to one network interface; nil uses the
	// system's default multicast interface.
	Interface *net.Interface
	// QueryInterval is how often the network is asked (default 1s). Each
	// query listens for answers for a quarter of the interval (at least
	// 100ms, at most half), so a new peer shows within about 1.25 intervals.
	QueryInterval time.Duration
	// LostAfter is how long a peer may go unheard before it is reported lost
	// (default three intervals; never less than two).
	LostAfter time.Duration
	// IgnorePeerID skips our own announcements.
	IgnorePeerID string
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Browser keeps the list of PeerSync peers on the network, plus the ones
// added by hand, and tells subscribers when it changes.
type Browser struct {
	// Constant after NewBrowser.
	opts    BrowserOptions
	window  time.Duration
	log     *slog.Logger
	libLog  *log.Logger
	dropped atomic.Uint64

	wg sync.WaitGroup

	mu      sync.Mutex // guards the fields below
	started bool
	stopped bool
	cancel  context.CancelFunc
	tracker *tracker
	manual  map[string]Peer
	subs    map[*subscription]struct{}
	lastErr string // last query error logged, to avoid repeating it every round
}

// NewBrowser returns a browser that has not started querying yet. Manual
// peers and subscriptions work before Start.
func NewBrowser(opts BrowserOptions) *Browser {
	if opts.QueryInterval <= 0 {
		opts.QueryInterval = defaultQueryInterval
	}
	if opts.LostAfter <= 0 {
		opts.LostAfter = defaultMissedQueries * opts.QueryInterval
	}
	opts.LostAfter = max(opts.LostAfter, 2*opts.QueryInterval)
	logger := orDiscard(opts.Logger)
	return &Browser{
		opts:    opts,
		window:  queryWindow(opts.QueryInterval),
		log:     logger,
		libLog:  libraryLogger(logger),
		tracker: newTracker(opts.LostAfter),
		manual:  make(map[string]Peer),
		subs:    make(map[*subscription]struct{}),
	}
}

// Start begins querying the network until ctx ends or Stop is called. A
// browser starts once.
func (b *Browser) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.stopped:
		return errors.New("discovery: browser already stopped")
	case b.started:
		return errors.New("discovery: browser already started")
	}
	b.started = true
	ctx, b.cancel = context.WithCancel(ctx)
	b.wg.Add(1)
	go b.run(ctx)
	return nil
}

// Stop ends querying, waits for the browser's goroutine and closes every
// subscription channel. It is safe to call more than once.
func (b *Browser) Stop() {
	b.mu.Lock()
	if b.cancel != nil {
		b.cancel()
	}
	b.stopped = true
	b.mu.Unlock()

	b.wg.Wait()

	b.mu.Lock()
	defer b.mu.Unlock()
	for sub := range b.subs {
		sub.close()
		delete(b.subs, sub)
	}
}

// Peers returns discovered and manual peers sorted by Key.
func (b *Browser) Peers() []Peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peersLocked()
}

func (b *Browser) peersLocked() []Peer {
	peers := b.tracker.list()
	for _, p := range b.manual {
		peers = append(peers, clonePeer(p))
	}
	slices.SortFunc(peers, func(a, c Peer) int { return strings.Compare(a.Key(), c.Key()) })
	return peers
}

// run queries once per interval until ctx ends.
func (b *Browser) run(ctx context.Context) {
	defer b.wg.Done()
	ticker := time.NewTicker(b.opts.QueryInterval)
	defer ticker.Stop()
	for {
		sightings := b.queryOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		b.apply(time.Now(), sightings)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// queryOnce asks the network once and collects the answers. The library
// keeps writing to an answer it has handed over while the query runs, so
// answers are read only after QueryContext has returned.
func (b *Browser) queryOnce(ctx context.Context) []sighting {
	entries := make(chan *mdns.ServiceEntry, entryBuffer)
	err := mdns.QueryContext(ctx, &mdns.QueryParam{
		Service:   ServiceType,
		Domain:    "local",
		Timeout:   b.window,
		Interface: b.opts.Interface,
		Entries:   entries,
		Logger:    b.libLog,
	})
	close(entries)
	b.noteQueryError(err)

	now := time.Now()
	var out []sighting
	for e := range entries {
		s, err := sightingFromEntry(e, now)
		if err != nil {
			b.log.Debug("discovery: ignoring answer", "err", err)
			continue
		}
		if b.opts.IgnorePeerID != "" && s.peer.PeerID == b.opts.IgnorePeerID {
			continue
		}
		out = append(out, s)
	}
	return out
}

// noteQueryError logs a failed query once, not every round.
func (b *Browser) noteQueryError(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	b.mu.Lock()
	changed := msg != b.lastErr
	b.lastErr = msg
	b.mu.Unlock()
	switch {
	case changed && err != nil:
		b.log.Warn("discovery: mDNS query failed", "err", err)
	case changed:
		b.log.Info("discovery: mDNS queries work again")
	}
}

// apply feeds a round into the tracker and publishes what changed.
func (b *Browser) apply(now time.Time, sightings []sighting) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ev := range b.tracker.observe(now, sightings) {
		b.publishLocked(ev)
	}
}

// queryWindow is how long one query listens for answers. Answers are only
// read once it ends, so a short window keeps new peers quick to appear; mDNS
// responders answer within about 120ms (RFC 6762 §6).
func queryWindow(interval time.Duration) time.Duration {
	return min(max(interval/4, 100*time.Millisecond), interval/2)
}
