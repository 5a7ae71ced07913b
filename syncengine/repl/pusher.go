package repl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"peersync/syncengine/blip"
	"peersync/syncengine/delta"
	"peersync/syncengine/hlv"
	"peersync/syncengine/revtree"
	"peersync/syncengine/store"
)

// maxChangesInFlight bounds proposeChanges messages awaiting replies.
const maxChangesInFlight = 4

// changesInFlight is how many change batches may await replies. A puller
// records sequences in the order changes messages arrive and checkpoints
// over them in that order, so a serving pusher sends one at a time: a later
// batch that overtook an earlier one could move the peer's checkpoint past
// revisions it never received. Revs still overlap with the next batch.
// The active peer offers with proposeChanges, the passive one with changes.
func changesInFlight(active bool) int {
	if active {
		return maxChangesInFlight
	}
	return 1
}

type pushConfig struct {
	coll       string
	idx        int    // collection index on the wire
	since      uint64 // local sequence to start after
	continuous bool
	activeOnly bool // skip tombstones
	docIDs     []string
	batch      int
}

// pusher sends a collection's revisions to the peer.
type pusher struct {
	s   *Session
	cfg pushConfig

	tracker    *seqTracker // local sequences, for the push checkpoint
	changesSem chan struct{}
	changesWG  sync.WaitGroup
	revs       *semaphore.Weighted // bytes of revs in flight
	revCount   chan struct{}       // revs in flight
	wake       chan struct{}

	since    atomic.Uint64 // the feed has been read up to here
	drained  atomic.Bool   // the last read found nothing new
	finished chan struct{} // closed when a one-shot passive pusher ends

	remoteMu   sync.Mutex
	remoteRevs map[string]string // docID → rev the peer now has (active), flushed in batches
}

func newPusher(s *Session, cfg pushConfig) *pusher {
	if cfg.batch <= 0 || cfg.batch > 1000 {
		cfg.batch = s.opts.BatchSize
	}
	p := &pusher{
		s: s, cfg: cfg,
		tracker:    newSeqTracker(strconv.FormatUint(cfg.since, 10)),
		changesSem: make(chan struct{}, changesInFlight(s.isActive())),
		revs:       semaphore.NewWeighted(int64(s.opts.MaxBytesInFlight)),
		revCount:   make(chan struct{}, s.opts.MaxRevsInFlight),
		wake:       make(chan struct{}, 1),
		finished:   make(chan struct{}),
		remoteRevs: map[string]string{},
	}
	p.since.Store(cfg.since)
	return p
}

func (s *Session) startPusher(p *pusher) {
	s.mu.Lock()
	s.pushers = append(s.pushers, p)
	s.mu.Unlock()
	s.go_(p.run)
}

// idle reports that everything up to the collection's latest sequence has
// been offered and finished.
func (p *pusher) idle() bool {
	if !p.drained.Load() || p.tracker.busy() > 0 || len(p.wake) > 0 {
		return false
	}
	var last uint64
	err := p.s.db.View(func(tx *store.Tx) (err error) {
		last, err = tx.LastSequence(p.cfg.coll)
		return err
	})
	return err == nil && p.since.Load() >= last
}

// done reports that the pusher has stopped (a one-shot pull it served has
// ended, or the session is closing).
func (p *pusher) done() bool {
	select {
	case <-p.finished:
		return true
	default:
		return false
	}
}

// checkpoint returns the local sequence up to which everything was pushed.
func (p *pusher) checkpoint() uint64 {
	n, _ := strconv.ParseUint(p.tracker.checkpoint(), 10, 64)
	return n
}

func (p *pusher) run() {
	defer close(p.finished)
	stopObserving := p.s.db.Observe(func(cs []store.Change) {
		for _, c := range cs {
			if c.Collection == p.cfg.coll {
				select {
				case p.wake <- struct{}{}:
				default:
				}
				return
			}
		}
	})
	defer stopObserving()
	ctx := p.s.ctx
	caughtUpSent := false
	for ctx.Err() == nil {
		n, err := p.offerBatch(ctx)
		if err != nil {
			p.s.fail(err)
			return
		}
		if n > 0 {
			caughtUpSent = false
			continue
		}
		p.drained.Store(true)
		p.s.stateChanged()
		if !p.s.isActive() && !caughtUpSent {
			// Tell the puller it is caught up only after every earlier
			// changes message was answered, so it cannot overtake them.
			p.changesWG.Wait()
			if !p.sendChanges(ctx, nil) {
				return
			}
			caughtUpSent = true
			if !p.cfg.continuous {
				p.waitRevs(ctx)
				return
			}
		}
		select {
		case <-p.wake:
			p.drained.Store(false)
		case <-ctx.Done():
		}
	}
}

// waitRevs waits until every rev sent has been answered.
func (p *pusher) waitRevs(ctx context.Context) {
	for i := 0; i < cap(p.revCount); i++ {
		select {
		case p.revCount <- struct{}{}:
		case <-ctx.Done():
			return
		}
	}
	for i := 0; i < cap(p.revCount); i++ {
		<-p.revCount
	}
}

// offerBatch reads the next batch of changes and offers them; it returns
// how many feed entries it consumed.
func (p *pusher) offerBatch(ctx context.Context) (int, error) {
	p.remoteMu.Lock()
	full := len(p.remoteRevs) >= maxUnsavedRemoteRevs
	p.remoteMu.Unlock()
	if full {
		if err := p.flushRemoteRevs(); err != nil {
			return 0, err
		}
	}
	var changes []store.Change
	rows := []offer{}
	err := p.s.db.View(func(tx *store.Tx) (err error) {
		changes, err = tx.ChangesSince(p.cfg.coll, p.since.Load(), p.cfg.batch)
		if err != nil {
			return err
		}
		for _, c := range changes {
			want, err := p.wanted(tx, c)
			if err != nil {
				return err
			}
			if want {
				o := offer{change: c}
				if p.s.isActive() {
					o.parent = tx.RemoteRev(p.cfg.coll, p.s.act.RemoteID, c.DocID)
				}
				if p.s.opts.VersionVectors {
					if o.vec, err = tx.VectorOf(p.cfg.coll, c.DocID, c.RevID); err != nil {
						return err
					}
				}
				rows = append(rows, o)
			}
		}
		return nil
	})
	if err != nil || len(changes) == 0 {
		return 0, err
	}
	for _, c := range changes {
		p.tracker.add(seqString(c.Sequence))
	}
	p.since.Store(changes[len(changes)-1].Sequence)
	offered := map[uint64]bool{}
	for _, o := range rows {
		offered[o.change.Sequence] = true
	}
	for _, c := range changes {
		if !offered[c.Sequence] {
			p.tracker.finish(seqString(c.Sequence))
		}
	}
	if len(rows) == 0 {
		return len(changes), nil
	}
	p.s.pushTotal.Add(int64(len(rows)))
	select {
	case p.changesSem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	p.changesWG.Add(1)
	p.s.go_(func() {
		defer func() { <-p.changesSem; p.changesWG.Done() }()
		if p.s.isActive() {
			p.propose(ctx, rows)
		} else {
			p.sendChanges(ctx, rows)
		}
	})
	return len(changes), nil
}

// offer is one change offered to the peer.
type offer struct {
	change store.Change
	parent string     // proposeChanges: the revision the peer is known to have
	vec    hlv.Vector // CBMobile_4: the revision's version vector
}

// name is how the revision is named in changes (and, over CBMobile_4, in
// rev): its revision ID, or its current version.
func (o offer) name(v4 bool) string { return vectorName(v4, o.vec, o.change.RevID) }

func seqString(seq uint64) string { return strconv.FormatUint(seq, 10) }

// wanted applies document-ID, tombstone and push filters.
func (p *pusher) wanted(tx *store.Tx, c store.Change) (bool, error) {
	if c.Deleted && p.cfg.activeOnly {
		return false, nil
	}
	if len(p.cfg.docIDs) > 0 && !slices.Contains(p.cfg.docIDs, c.DocID) {
		return false, nil
	}
	if p.s.isActive() && p.s.act.PushFilter != nil {
		f := p.s.act.PushFilter
		var body []byte
		if !c.Deleted {
			d, err := tx.Get(p.cfg.coll, c.DocID)
			if err != nil {
				return false, err
			}
			body = d.Body
		}
		return f(p.cfg.coll, c.DocID, c.RevID, c.Deleted, body), nil
	}
	return true, nil
}

// sendChanges sends a changes message (passive pusher) and sends the revs
// the peer asks for. An empty rows list tells the peer it is caught up.
func (p *pusher) sendChanges(ctx context.Context, rows []offer) bool {
	list := make([][]any, 0, len(rows))
	for _, o := range rows {
		c := o.change
		del := 0
		if c.Deleted {
			del = 1
		}
		list = append(list, []any{c.Sequence, c.DocID, o.name(p.s.opts.VersionVectors), del, c.BodySize})
	}
	body, _ := json.Marshal(list)
	// ignoreNoConflicts: Sync Gateway, pulling from us with its own
	// replicator, refuses "changes" without it (409 "Use proposeChanges");
	// its own passive side sets it. Other peers ignore the property.
	props := blip.Properties{"Profile": "changes", "ignoreNoConflicts": "true"}
	msg := &blip.Message{Properties: p.s.withCollection(props, p.cfg.idx), Body: body, Compressed: len(body) > 256}
	resp, err := p.s.request(ctx, msg)
	if err != nil {
		p.s.failSend(err)
		return false
	}
	if len(rows) == 0 {
		return true
	}
	maxHistory, _ := strconv.Atoi(resp.Properties["maxHistory"])
	deltas := p.s.opts.EnableDelta && resp.Properties["deltas"] == "true"
	legacy := resp.Properties["blobs"] != "true"
	var answers []json.RawMessage
	if len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, &answers); err != nil {
			p.s.fail(errors.Join(ErrProtocol, errors.New("bad changes reply")))
			return false
		}
	}
	for i, o := range rows {
		var known []string
		if i < len(answers) {
			var err error
			if known, err = parseChangesAnswer(answers[i]); err != nil {
				p.s.fail(errors.Join(ErrProtocol, fmt.Errorf("bad changes reply: %w", err)))
				return false
			}
		}
		if known == nil {
			p.finish(o.change, nil, false) // not wanted
			continue
		}
		if !p.sendRev(ctx, o.change, known, maxHistory, deltas, legacy) {
			return false
		}
	}
	return true
}

// propose sends a proposeChanges message (active pusher) and sends the revs
// the peer accepts. A conflict whose current revision we already have as an
// ancestor is proposed again with that revision as the parent.
func (p *pusher) propose(ctx context.Context, rows []offer) {
	for len(rows) > 0 && ctx.Err() == nil {
		list := make([][]any, 0, len(rows))
		for _, o := range rows {
			// No parent is "", never null: Sync Gateway reads the
			// parent as a string, and Couchbase Lite writes "" too.
			// CBMobile_4 proposes the whole vector: the peer accepts a
			// revision whose vector includes its current version.
			rev := o.change.RevID
			if p.s.opts.VersionVectors && !isLegacy(o.vec) {
				rev = o.vec.String()
			}
			list = append(list, []any{o.change.DocID, rev, o.parent, o.change.BodySize})
		}
		body, _ := json.Marshal(list)
		props := p.s.withCollection(blip.Properties{"Profile": "proposeChanges", "conflictIncludesRev": "true"}, p.cfg.idx)
		resp, err := p.s.request(ctx, &blip.Message{Properties: props, Body: body, Compressed: len(body) > 256})
		if err != nil {
			p.s.failSend(err)
			return
		}
		var answers []json.RawMessage
		if len(resp.Body) > 0 && json.Unmarshal(resp.Body, &answers) != nil {
			p.s.fail(errors.Join(ErrProtocol, errors.New("bad proposeChanges reply")))
			return
		}
		deltas := p.s.opts.EnableDelta && resp.Properties["deltas"] == "true"
		legacy := resp.Properties["blobs"] != "true"
		var retry []offer
		for i, o := range rows {
			status, current := 0, ""
			if i < len(answers) {
				var err error
				if status, current, err = parseProposeAnswer(answers[i]); err != nil {
					p.s.fail(errors.Join(ErrProtocol, fmt.Errorf("bad proposeChanges reply: %w", err)))
					return
				}
			}
			unacked := p.s.act.Unacknowledged
			if status != 304 {
				unacked.answered(p.cfg.coll, o.change.DocID)
			}
			switch status {
			case 0:
				known := []string{}
				if o.parent != "" {
					known = append(known, o.parent)
				}
				if !p.sendRev(ctx, o.change, known, 0, deltas, legacy) {
					return
				}
			case 304:
				// Already there: pushed by us only if an earlier connection
				// sent it and lost the answer.
				p.noteRemoteRev(o.change.DocID, o.name(p.s.opts.VersionVectors))
				p.finish(o.change, nil, unacked.confirmed(p.cfg.coll, o.change.DocID, o.change.RevID))
			case 409:
				if current != "" && current != o.parent {
					ancestor, err := p.isAncestor(o, current)
					if err != nil {
						p.s.fail(err)
						return
					}
					if ancestor {
						o.parent = current
						if p.s.opts.VersionVectors && !hlv.IsRevID(current) {
							cv, _ := hlv.CurrentOf(current)
							o.parent = cv.String()
						}
						retry = append(retry, o)
						continue
					}
				}
				p.finish(o.change, errConflict, true)
			default:
				p.finish(o.change, httpError(status, "peer refused the revision"), true)
			}
		}
		rows = retry
	}
}

var errConflict = httpError(409, "conflict: the peer has a different revision")

// parseProposeAnswer reads one element of a proposeChanges reply: a status,
// or {"status":409,"rev":…} with conflictIncludesRev.
func parseProposeAnswer(raw json.RawMessage) (int, string, error) {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return n, "", nil
	}
	var obj struct {
		Status int    `json:"status"`
		Rev    string `json:"rev"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return 0, "", fmt.Errorf("answer %.40s is neither a status nor an object with one", raw)
	}
	return obj.Status, obj.Rev, nil
}

// parseChangesAnswer reads one element of a changes reply: the revisions
// the peer has (send it), or null or a number such as 0 or 409 (don't).
func parseChangesAnswer(raw json.RawMessage) ([]string, error) {
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		return nil, nil
	}
	known := []string{}
	if err := json.Unmarshal(raw, &known); err != nil {
		return nil, fmt.Errorf("answer %.40s is neither a list of revisions nor a number", raw)
	}
	return known, nil
}

// isAncestor reports whether the peer's current revision rev is one our
// revision includes: an ancestor in the tree or, over CBMobile_4, a version
// our vector dominates. rev is then proposed again as the parent.
func (p *pusher) isAncestor(o offer, rev string) (bool, error) {
	v4 := p.s.opts.VersionVectors
	if v4 && !isLegacy(o.vec) && !hlv.IsRevID(rev) {
		cv, err := hlv.CurrentOf(rev)
		return err == nil && o.vec.Dominates(cv), nil
	}
	c := o.change
	found := false
	err := p.s.db.View(func(tx *store.Tx) error {
		d, err := tx.Get(p.cfg.coll, c.DocID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // purged since: a newer change follows
		}
		if err != nil {
			return err
		}
		if v4 { // the peer may name it by its version
			var ok bool
			if rev, ok = localRev(d, rev); !ok {
				return nil
			}
		}
		found = slices.Contains(d.Tree.History(c.RevID, 0), rev)
		return nil
	})
	return found, err
}

// sendRev sends one revision, with history up to the first revision the
// peer has, and finishes it when the peer answers. legacy adds stand-ins
// for blobs to "_attachments" for a peer that did not say blobs:"true".
func (p *pusher) sendRev(ctx context.Context, c store.Change, known []string, maxHistory int, deltas, legacy bool) bool {
	if maxHistory <= 0 || maxHistory > p.s.opts.MaxHistory {
		maxHistory = p.s.opts.MaxHistory
	}
	v4 := p.s.opts.VersionVectors
	var rev struct {
		name     string // the revision ID, or over CBMobile_4 the current version
		body     []byte
		deleted  bool
		history  []string
		revTree  []string // for Sync Gateway's replicator over CBMobile_4
		deltaSrc string
		delta    []byte
	}
	err := p.s.db.View(func(tx *store.Tx) error {
		d, err := tx.Get(p.cfg.coll, c.DocID)
		if err != nil {
			return err
		}
		r, ok := d.Tree.Get(c.RevID)
		if !ok || r.Body == nil {
			return store.ErrNotFound
		}
		rev.body, rev.deleted = r.Body, r.Deleted
		if legacy && !r.Deleted {
			if gen, _, err := revtree.ParseRevID(c.RevID); err == nil {
				var withStandIns bool
				if rev.body, withStandIns = withLegacyAttachments(r.Body, gen); withStandIns {
					deltas = false // a delta would be against the body without stand-ins
				}
			}
		}
		if deltas && !r.Deleted && len(r.Body) >= minDeltaBody {
			rev.deltaSrc, rev.delta = deltaAgainst(d, r.Body, known, v4)
		}
		rev.name = p.s.wireName(d, c.RevID)
		if v4 {
			rev.history = versionHistory(d, c.RevID, known, maxHistory)
			// Sync Gateway's replicator keeps its revision tree from this
			// property over CBMobile_4 (it fails on a vector without it).
			if p.s.syncGatewayPeer && !isLegacy(d.VectorOf(c.RevID)) {
				rev.revTree = append([]string{c.RevID}, treeHistory(d, c.RevID, known, maxHistory)...)
			}
			return nil
		}
		rev.history = treeHistory(d, c.RevID, known, maxHistory)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.s.fail(err)
		return false
	}
	if err != nil {
		// Purged or superseded since it was offered: a newer change follows.
		name := p.s.offerName(c)
		props := p.s.withCollection(blip.Properties{"Profile": "norev", "id": c.DocID, "rev": name,
			"sequence": seqString(c.Sequence), "error": "404", "reason": "revision no longer available"}, p.cfg.idx)
		p.s.request(ctx, &blip.Message{Properties: props, NoReply: true})
		p.finish(c, nil, false)
		return true
	}
	props := blip.Properties{"Profile": "rev", "id": c.DocID, "rev": rev.name, "sequence": seqString(c.Sequence)}
	if len(rev.history) > 0 {
		props["history"] = strings.Join(rev.history, ",")
	}
	if len(rev.revTree) > 0 {
		props["revTree"] = strings.Join(rev.revTree, ",")
	}
	if rev.deleted {
		props["deleted"] = "1"
	}
	props = p.s.withCollection(props, p.cfg.idx)
	body := rev.body
	if rev.deltaSrc != "" {
		props["deltaSrc"] = rev.deltaSrc
		body = rev.delta
	}
	size := int64(min(len(body), p.s.opts.MaxBytesInFlight))
	select {
	case p.revCount <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	if err := p.revs.Acquire(ctx, size); err != nil {
		<-p.revCount
		return false
	}
	unacked := p.s.unacknowledged()
	unacked.sent(p.cfg.coll, c.DocID, c.RevID)
	p.s.go_(func() {
		defer func() { p.revs.Release(size); <-p.revCount }()
		_, err := p.s.request(ctx, &blip.Message{Properties: props, Body: body})
		var berr *blip.Error
		if rev.deltaSrc != "" && errors.As(err, &berr) && berr.Code != 403 && berr.Code != 409 {
			// The peer could not use the delta: send the full body.
			delete(props, "deltaSrc")
			body, rev.deltaSrc = rev.body, ""
			_, err = p.s.request(ctx, &blip.Message{Properties: props, Body: body})
		}
		if err == nil {
			p.s.bodyBytesSent.Add(int64(len(body)))
			if rev.deltaSrc != "" {
				p.s.sentDelta.Add(1)
				p.s.bytesSaved.Add(int64(len(rev.body) - len(body)))
			} else {
				p.s.sentFull.Add(1)
			}
		}
		if err == nil || errors.As(err, &berr) {
			unacked.answered(p.cfg.coll, c.DocID) // else in doubt: the connection ended first
		}
		switch {
		case err == nil:
			p.noteRemoteRev(c.DocID, rev.name)
			p.finish(c, nil, true)
		case errors.As(err, &berr):
			if berr.Domain == "HTTP" && berr.Code == 403 {
				p.s.fail(ErrReadOnly)
			}
			p.finish(c, berr, true)
		default:
			p.s.failSend(err)
		}
	})
	return true
}

// minDeltaBody is the smallest body worth sending as a delta.
const minDeltaBody = 200

// deltaAgainst returns a delta from the first known revision whose body we
// kept, when it is smaller than the body itself, and the delta's source as
// the peer named it (over CBMobile_4, a version: the first known one is the
// base the peer offers).
func deltaAgainst(d *store.Document, body []byte, known []string, v4 bool) (string, []byte) {
	for _, k := range known {
		id, ok := k, true
		if v4 {
			id, ok = localRev(d, k)
		}
		src, found := d.Tree.Get(id)
		if !ok || !found || src.Deleted || src.Body == nil {
			continue
		}
		dl, err := delta.Create(src.Body, body)
		if err == nil && len(dl) < len(body) {
			if v4 && !hlv.IsRevID(k) {
				cv, _ := hlv.CurrentOf(k)
				k = cv.String()
			}
			return k, dl
		}
		return "", nil
	}
	return "", nil
}

// finish records a change as done; report says whether it is a document
// event (sent or failed) rather than a skip.
func (p *pusher) finish(c store.Change, err error, report bool) {
	p.tracker.finish(seqString(c.Sequence))
	p.s.pushDone.Add(1)
	if report {
		p.s.emit(DocEvent{Collection: p.cfg.coll, DocID: c.DocID, RevID: c.RevID, Pushed: true, Deleted: c.Deleted, Err: err})
	}
	p.s.stateChanged()
}

// noteRemoteRev remembers that the peer has rev (active side only).
func (p *pusher) noteRemoteRev(docID, rev string) {
	if !p.s.isActive() {
		return
	}
	p.remoteMu.Lock()
	p.remoteRevs[docID] = rev
	p.remoteMu.Unlock()
}

// maxUnsavedRemoteRevs bounds remembered remote revisions between saves.
const maxUnsavedRemoteRevs = 5000

// flushRemoteRevs saves the remembered remote revisions in one transaction.
func (p *pusher) flushRemoteRevs() error {
	p.remoteMu.Lock()
	revs := p.remoteRevs
	p.remoteRevs = map[string]string{}
	p.remoteMu.Unlock()
	if len(revs) == 0 {
		return nil
	}
	// In key order: bbolt then appends to its pages instead of inserting into
	// the middle of them, which halves the cost of a flush of 5,000.
	ids := slices.Sorted(maps.Keys(revs))
	return p.s.db.Update(func(tx *store.Tx) error {
		for _, id := range ids {
			if err := tx.SetRemoteRev(p.cfg.coll, p.s.act.RemoteID, id, revs[id]); err != nil {
				return err
			}
		}
		return nil
	})
}
