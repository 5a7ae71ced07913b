package repl

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
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

// checkpoint is the body saved locally and on the peer.
type checkpoint struct {
	Time   int64           `json:"time"`
	Local  uint64          `json:"local"`  // our sequence: everything up to it was pushed
	Remote json.RawMessage `json:"remote"` // the peer's sequence: everything up to it was pulled
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

func (s *Session) isActive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

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
	active, runs, cfg, pushers := s.active, s.runs, s.runCfg, slices.Clone(s.pushers)
	s.mu.Unlock()
	if !active {
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
func (s *Session) Run(ctx context.Context, cfg RunConfig) error {
	s.mu.Lock()
	s.active, s.runCfg = true, cfg
	s.mu.Unlock()
	runs, err := s.prepare(ctx, cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.runs = runs
	s.mu.Unlock()
	for _, c := range runs {
		if cfg.Push {
			c.pusher = newPusher(s, pushConfig{coll: c.name, idx: c.idx, since: c.saved.Local, proposeMode: true,
				continuous: cfg.Continuous, docIDs: s.opts.DocIDs})
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
			s.saveCheckpoints(runs)
			return nil
		case <-s.ctx.Done():
			s.saveCheckpoints(runs)
			if err := s.Err(); err != nil {
				return err
			}
			if err := s.conn.Err(); err != nil {
				return err
			}
			return errors.New("replication connection closed")
		case <-tick.C:
			s.saveCheckpoints(runs)
		case now := <-stall:
			if m := s.progressMark(); m != mark {
				mark, markAt = m, now
			} else if now.Sub(markAt) >= cfg.NoProgressTimeout {
				err := fmt.Errorf("%w for %v: %s", ErrNoProgress, cfg.NoProgressTimeout, s.stallReason(runs, cfg))
				s.saveCheckpoints(runs)
				return err
			}
		case <-s.state:
			if !cfg.Continuous && s.Idle() {
				return s.saveCheckpoints(runs)
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

// prepare picks the protocol mode and reads the checkpoints.
func (s *Session) prepare(ctx context.Context, cfg RunConfig) ([]*collRun, error) {
	names := s.opts.Collections
	runs := make([]*collRun, len(names))
	for i, n := range names {
		runs[i] = &collRun{name: n, idx: i, id: s.checkpointID(n, cfg)}
	}
	remote := make([][]byte, len(names))
	if len(names) == 1 && names[0] == store.DefaultCollection {
		c := runs[0]
		resp, err := s.request(ctx, &blip.Message{Properties: blip.Properties{"Profile": "getCheckpoint", "client": c.id}})
		var be *blip.Error
		switch {
		case errors.As(err, &be) && be.Code == 404:
		case err != nil:
			return nil, fmt.Errorf("getCheckpoint: %w", err)
		default:
			c.remoteRev, remote[0] = resp.Properties["rev"], resp.Body
		}
	} else {
		s.setCollections(names)
		ids, wire := make([]string, len(runs)), make([]string, len(runs))
		for i, c := range runs {
			ids[i], wire[i] = c.id, wireCollectionName(c.name)
		}
		body, _ := json.Marshal(map[string]any{"collections": wire, "checkpoint_ids": ids})
		resp, err := s.request(ctx, &blip.Message{Properties: blip.Properties{"Profile": "getCollections"}, Body: body})
		if err != nil {
			return nil, fmt.Errorf("getCollections: %w", err)
		}
		var cps []json.RawMessage
		if json.Unmarshal(resp.Body, &cps) != nil || len(cps) != len(names) {
			return nil, fmt.Errorf("%w: bad getCollections reply", ErrProtocol)
		}
		for i, cp := range cps {
			if string(cp) == "null" {
				return nil, fmt.Errorf("%w: the peer has no collection %s", ErrNotShared, names[i])
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(cp, &m); err != nil {
				return nil, fmt.Errorf("%w: bad getCollections reply for %s: %v", ErrProtocol, names[i], err)
			}
			key := "_rev"
			if _, ok := m[key]; !ok {
				key = "rev" // a Couchbase Lite peer's spelling
			}
			if rev, ok := m[key]; ok {
				if err := json.Unmarshal(rev, &runs[i].remoteRev); err != nil {
					return nil, fmt.Errorf("%w: bad getCollections reply for %s: %s: %v", ErrProtocol, names[i], key, err)
				}
			}
			remote[i] = cp
		}
	}
	for i, c := range runs {
		var local checkpoint
		err := s.db.View(func(tx *store.Tx) error {
			rev, body, err := tx.GetLocal(localCheckpointKey(c.name, c.id))
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			c.localRev = rev
			if err := json.Unmarshal(body, &local); err != nil {
				// Starting over is safe: at worst revisions go again.
				s.log.Warn("replication: local checkpoint unreadable; starting over", "collection", c.name, "error", err)
				local = checkpoint{}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		var peer checkpoint
		if len(remote[i]) > 0 {
			if err := json.Unmarshal(remote[i], &peer); err != nil {
				s.log.Warn("replication: the peer's checkpoint is unreadable; pushing from the start", "collection", c.name, "error", err)
				peer = checkpoint{}
			}
		}
		if !cfg.Reset {
			// Our copy knows what we saved; the peer's copy knows what it
			// kept. Push from the older of the two so nothing is skipped.
			c.saved.Local = min(local.Local, peer.Local)
			c.saved.Remote = local.Remote
		}
	}
	return runs, nil
}

// ErrNotShared reports a collection the peer does not share.
var ErrNotShared = errors.New("collection not shared by the peer")

func localCheckpointKey(coll, id string) string { return "checkpoint/" + coll + "/" + id }

// checkpointID names this replication's checkpoint: the local database,
// the peer's identity, the collection and what is replicated.
func (s *Session) checkpointID(coll string, cfg RunConfig) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%v\x00%v\x00%s", s.db.UUID(), s.opts.RemoteID, coll, cfg.Push, cfg.Pull,
		strings.Join(s.opts.DocIDs, ","))
	return "cp-" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// subscribe asks the peer to send changes after the checkpoint.
func (s *Session) subscribe(ctx context.Context, c *collRun, cfg RunConfig) error {
	since := "0"
	if len(c.saved.Remote) > 0 && string(c.saved.Remote) != "null" {
		since = string(c.saved.Remote)
	}
	s.recv.startPull(c.name, since)
	props := blip.Properties{"Profile": "subChanges", "since": since, "batch": strconv.Itoa(s.opts.BatchSize),
		"versioning": "rev-trees"}
	if cfg.Continuous {
		props["continuous"] = "true"
	}
	var body []byte
	if len(s.opts.DocIDs) > 0 {
		body, _ = json.Marshal(map[string]any{"docIDs": s.opts.DocIDs})
	}
	_, err := s.request(ctx, &blip.Message{Properties: s.withCollection(props, c.idx), Body: body})
	if err != nil {
		return fmt.Errorf("subChanges: %w", err)
	}
	return nil
}

// saveCheckpoints saves each collection's progress locally and on the
// peer, when it moved.
func (s *Session) saveCheckpoints(runs []*collRun) error {
	var errs []error
	for _, c := range runs {
		cp := c.saved
		if c.pusher != nil {
			if err := c.pusher.flushRemoteRevs(); err != nil {
				errs = append(errs, err)
				continue
			}
			cp.Local = c.pusher.checkpoint()
		}
		if t := s.recv.tracker(c.name); t != nil {
			cp.Remote = json.RawMessage(t.checkpoint())
		}
		if cp.Local == c.saved.Local && string(cp.Remote) == string(c.saved.Remote) && c.localRev != "" {
			continue
		}
		cp.Time = time.Now().Unix()
		body, _ := json.Marshal(cp)
		err := s.db.Update(func(tx *store.Tx) (err error) {
			c.localRev, err = tx.PutLocal(localCheckpointKey(c.name, c.id), body, c.localRev)
			return err
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.saved = cp
		if s.conn.Err() != nil {
			continue // the connection is gone; the local copy will do
		}
		// Not ctx of Run: the final save runs after it is cancelled. One
		// deadline covers the whole exchange, so a peer that never answers
		// holds up Stop for checkpointTimeout at most.
		ctx, cancel := context.WithTimeout(context.Background(), checkpointTimeout)
		props := blip.Properties{"Profile": "setCheckpoint", "client": c.id}
		if c.remoteRev != "" {
			props["rev"] = c.remoteRev
		}
		resp, err := s.request(ctx, &blip.Message{Properties: s.withCollection(props, c.idx), Body: body})
		var be *blip.Error
		if errors.As(err, &be) && be.Code == 409 {
			c.remoteRev = "" // someone else wrote it; take over from the next save
			if got, gerr := s.request(ctx, &blip.Message{Properties: s.withCollection(blip.Properties{"Profile": "getCheckpoint", "client": c.id}, c.idx)}); gerr == nil {
				c.remoteRev = got.Properties["rev"]
			}
			cancel()
			continue
		}
		cancel()
		if err == nil {
			c.remoteRev = resp.Properties["rev"]
		}
	}
	return errors.Join(errs...)
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
func (s *Session) PushCheckpoint(coll string) uint64 {
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
