package repl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/store"
)

// checkpointInterval is how often a running replication saves checkpoints;
// checkpointTimeout bounds one checkpoint exchange with the peer.
const (
	checkpointInterval = 5 * time.Second
	checkpointTimeout  = 10 * time.Second
)

// RunConfig says what an active session does.
type RunConfig struct {
	Push, Pull bool
	Continuous bool
	Reset      bool // ignore saved checkpoints and start from the beginning
	// NoProgressTimeout ends a one-shot run with ErrNoProgress when nothing
	// moves for this long (0 = wait for ever), so a peer that stops short
	// cannot make it hang.
	NoProgressTimeout time.Duration
}

// collRun is the active side's state for one collection.
type collRun struct {
	name      string
	idx       int
	id        string // checkpoint ID
	remoteRev string // the peer's rev of our checkpoint
	localRev  string
	saved     checkpoint
	pusher    *pusher
}

// Active is the session of the peer that dialled: it reads the
// checkpoints, pushes and subscribes to the peer's changes as its
// RunConfig says.
type Active struct {
	*Session
}

// isActive says whether this is the active peer's session; fixed when the
// session is made.
func (s *Session) isActive() bool { return s.act != nil }

// stateChanged wakes Run to re-check whether the replication is idle.
func (s *Session) stateChanged() {
	select {
	case s.state <- struct{}{}:
	default:
	}
}

// fail ends the session with err (the first error wins).
func (s *Session) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.cancel()
}

// failSend fails the session unless it is already ending.
func (s *Session) failSend(err error) {
	if s.ctx.Err() == nil {
		s.fail(err)
	}
}

// Err returns why the session failed, if it did.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Idle reports that every collection is caught up in each direction run
// (active), or that nothing is being transferred (passive): no pull being
// served is busy and the peer waits for no answer, such as a rev being
// saved. An idle continuous peer is idle.
func (s *Session) Idle() bool {
	s.mu.Lock()
	runs, pushers := s.runs, slices.Clone(s.pushers)
	s.mu.Unlock()
	if s.act == nil {
		if s.conn.Unanswered() > 0 {
			return false
		}
		for _, p := range pushers {
			if !p.done() && !p.idle() {
				return false
			}
		}
		return true
	}
	if runs == nil {
		return false // still reading checkpoints
	}
	cfg := s.act.Run
	for _, c := range runs {
		if cfg.Push && !c.pusher.idle() {
			return false
		}
		if cfg.Pull && !s.recv.idle(c.name) {
			return false
		}
	}
	return true
}

// Run replicates as the active peer until a one-shot replication has
// finished (nil), ctx is cancelled (nil, after saving checkpoints), or the
// connection or the peer fails (the error).
func (a *Active) Run(ctx context.Context) error {
	s, cfg := a.Session, a.act.Run
	ck := newCheckpointer(s, cfg)
	if err := ck.load(ctx); err != nil {
		return err
	}
	runs := ck.runs
	// Every run gets its pusher before the runs are published: Idle and
	// PushCheckpoint read them from other goroutines.
	for _, c := range runs {
		if cfg.Push {
			c.pusher = newPusher(s, pushConfig{coll: c.name, idx: c.idx, since: c.saved.Local,
				continuous: cfg.Continuous, docIDs: s.act.DocIDs})
		}
	}
	s.mu.Lock()
	s.runs = runs
	s.mu.Unlock()
	for _, c := range runs {
		if c.pusher != nil {
			s.startPusher(c.pusher)
		}
		if cfg.Pull {
			if err := s.subscribe(ctx, c, cfg); err != nil {
				return err
			}
		}
	}
	tick := time.NewTicker(checkpointInterval)
	defer tick.Stop()
	var stall <-chan time.Time
	if !cfg.Continuous && cfg.NoProgressTimeout > 0 {
		t := time.NewTicker(max(cfg.NoProgressTimeout/4, time.Millisecond))
		defer t.Stop()
		stall = t.C
	}
	mark, markAt := s.progressMark(), time.Now()
	for {
		select {
		case <-ctx.Done():
			ck.save()
			return nil
		case <-s.ctx.Done():
			ck.save()
			if err := s.Err(); err != nil {
				return err
			}
			if err := s.conn.Err(); err != nil {
				return err
			}
			return errors.New("replication connection closed")
		case <-tick.C:
			ck.save()
		case now := <-stall:
			if m := s.progressMark(); m != mark {
				mark, markAt = m, now
			} else if now.Sub(markAt) >= cfg.NoProgressTimeout {
				err := fmt.Errorf("%w for %v: %s", ErrNoProgress, cfg.NoProgressTimeout, s.stallReason(runs, cfg))
				ck.save()
				return err
			}
		case <-s.state:
			if !cfg.Continuous && s.Idle() {
				return ck.save()
			}
		}
	}
}

// progressMark changes whenever the session moves: revisions offered or
// finished, or message bytes (not heartbeats) in either direction.
func (s *Session) progressMark() [6]int64 {
	st, cs := s.Stats(), s.conn.Stats()
	return [6]int64{st.PushTotal, st.PushDone, st.PullTotal, st.PullDone, cs.BytesReceived, cs.BytesSent}
}

// stallReason says what a stalled run is waiting for.
func (s *Session) stallReason(runs []*collRun, cfg RunConfig) string {
	var waits []string
	for _, c := range runs {
		if cfg.Pull {
			up, asked := s.recv.pullProgress(c.name)
			if asked > 0 {
				waits = append(waits, fmt.Sprintf("%d revision(s) of %s that the peer offered and has not sent", asked, c.name))
			} else if !up {
				waits = append(waits, fmt.Sprintf("the peer has not said that %s is caught up", c.name))
			}
		}
		if cfg.Push && c.pusher != nil && !c.pusher.idle() {
			waits = append(waits, fmt.Sprintf("the peer has not answered revisions of %s pushed to it", c.name))
		}
	}
	if len(waits) == 0 {
		return "waiting for the peer"
	}
	return "waiting for " + strings.Join(waits, "; ")
}

// subscribe asks the peer to send changes after the checkpoint.
func (s *Session) subscribe(ctx context.Context, c *collRun, cfg RunConfig) error {
	since := "0"
	if len(c.saved.Remote) > 0 && string(c.saved.Remote) != "null" {
		since = string(c.saved.Remote)
	}
	s.recv.startPull(c.name, since)
	props := blip.Properties{"Profile": "subChanges", "since": since, "batch": strconv.Itoa(s.opts.BatchSize),
		"versioning": s.versioning()}
	if cfg.Continuous {
		props["continuous"] = "true"
	}
	var body []byte
	if len(s.act.DocIDs) > 0 {
		body, _ = json.Marshal(map[string]any{"docIDs": s.act.DocIDs})
	}
	_, err := s.request(ctx, &blip.Message{Properties: s.withCollection(props, c.idx), Body: body})
	if err != nil {
		return fmt.Errorf("subChanges: %w", err)
	}
	return nil
}

// PendingDocumentIDs lists documents changed locally and not yet pushed,
// for a session that is running or has run.
func PendingDocumentIDs(db *store.DB, coll string, since uint64, docIDs []string, filter Filter) ([]string, error) {
	var ids []string
	err := db.View(func(tx *store.Tx) error {
		cs, err := tx.ChangesSince(coll, since, 0)
		for _, c := range cs {
			if len(docIDs) > 0 && !slices.Contains(docIDs, c.DocID) {
				continue
			}
			if filter != nil {
				var body []byte
				if d, err := tx.Get(coll, c.DocID); err == nil && !c.Deleted {
					body = d.Body
				}
				if !filter(coll, c.DocID, c.RevID, c.Deleted, body) {
					continue
				}
			}
			ids = append(ids, c.DocID)
		}
		return err
	})
	return ids, err
}

// PushCheckpoint returns the local sequence up to which a collection was
// pushed in this session (0 when it does not push that collection).
func (s *Active) PushCheckpoint(coll string) uint64 {
	s.mu.Lock()
	runs := s.runs
	s.mu.Unlock()
	for _, c := range runs {
		if c.name == coll && c.pusher != nil {
			return c.pusher.checkpoint()
		}
	}
	return 0
}
