package repl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"peersync/syncengine/blip"
	"peersync/syncengine/delta"
	"peersync/syncengine/hlv"
	"peersync/syncengine/revtree"
	"peersync/syncengine/store"
)

// Incoming revisions are group-committed: each transaction takes every
// revision already queued (up to insertBatch), so revisions that arrive
// while one commit is syncing go together in the next. Nothing waits for a
// batch to fill.
const (
	insertBatch = 200
	insertQueue = 1000
)

// receiver is the receiving half of a session: it answers changes and
// proposeChanges, and saves incoming revs in batched transactions.
type receiver struct {
	s     *Session
	queue chan *incoming
	done  chan struct{}
	once  sync.Once

	mu    sync.Mutex
	pulls map[string]*pullState // active puller: per collection
}

// pullState is what an active puller knows of one collection's pull. A
// peer may offer a revision more than once (Sync Gateway lists a document
// in its "*" channel twice), in one changes batch or in several, and may
// offer one we already have: each revision is asked for once and each
// sequence tracked once, so the checkpoint neither skips a revision nor
// waits for a second copy the peer will not send.
type pullState struct {
	seqs *seqTracker
	// caughtUp: the peer said once that it is caught up (an empty changes).
	// Sync Gateway says so only the first time, so later batches do not
	// clear it; until they are done, asked keeps the pull busy.
	caughtUp bool
	asked    map[revKey]string // revisions asked for and not yet finished → their sequence key
}

type revKey struct{ id, rev string }

// incoming is one rev waiting to be saved.
type incoming struct {
	req     *blip.Request
	coll    string
	idx     int // the collection's index on the wire
	id, rev string
	seq     string
	history []string
	vec     hlv.Vector // CBMobile_4: the revision's vector (zero for a legacy revision)
	legacy  []string   // CBMobile_4: revision IDs after the vector
	deleted bool
	body    []byte
	err     error
}

func newReceiver(s *Session) *receiver {
	r := &receiver{s: s, queue: make(chan *incoming, insertQueue), done: make(chan struct{}),
		pulls: map[string]*pullState{}}
	s.go_(r.insertLoop)
	return r
}

func (r *receiver) stop() { r.once.Do(func() { close(r.done) }) }

// startPull begins tracking a collection's pull after sequence since.
func (r *receiver) startPull(coll, since string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pulls[coll] = &pullState{seqs: newSeqTracker(since), asked: map[revKey]string{}}
}

func (r *receiver) tracker(coll string) *seqTracker {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.pulls[coll]; st != nil {
		return st.seqs
	}
	return nil
}

// idle reports that the peer said it is caught up and every revision asked
// for has been saved (or failed).
func (r *receiver) idle(coll string) bool {
	up, asked := r.pullProgress(coll)
	return up && asked == 0
}

// pullProgress reports whether the peer said the collection is caught up
// and how many revisions asked for have not arrived or been saved yet.
func (r *receiver) pullProgress(coll string) (caughtUp bool, asked int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.pulls[coll]
	if st == nil {
		return false, 0
	}
	return st.caughtUp, len(st.asked)
}

// pushTarget checks that a push message may be accepted and returns its
// collection and the collection's index on the wire; on failure it has
// already answered with the error.
func (r *receiver) pushTarget(req *blip.Request) (string, int, bool) {
	if r.s.readOnly {
		respondErr(req, httpError(403, "this peer is read-only"))
		return "", 0, false
	}
	coll, idx, perr := r.s.collection(req)
	if perr != nil {
		respondErr(req, perr)
		return "", 0, false
	}
	return coll, idx, true
}

// handleChanges answers which of the offered revisions we want, listing the
// leaves we have so the sender can cut the history short.
func (r *receiver) handleChanges(req *blip.Request) {
	coll, _, ok := r.pushTarget(req)
	if !ok {
		return
	}
	var rows [][]json.RawMessage
	if err := json.Unmarshal(req.Body, &rows); err != nil {
		respondErr(req, httpError(400, "changes: body is not an array of arrays"))
		return
	}
	if len(rows) == 0 {
		r.mu.Lock()
		if st := r.pulls[coll]; st != nil {
			st.caughtUp = true
		}
		r.mu.Unlock()
		req.Respond(nil, []byte("[]"))
		r.s.stateChanged()
		return
	}
	answers := make([]any, len(rows))
	keys := make([]revKey, len(rows))
	var refused []DocEvent
	err := r.s.db.View(func(tx *store.Tx) error {
		for i, row := range rows {
			var id, rev string
			if len(row) < 3 || json.Unmarshal(row[1], &id) != nil || json.Unmarshal(row[2], &rev) != nil {
				return fmt.Errorf("changes: row %d is malformed", i)
			}
			answers[i] = 0
			if r.s.opts.VersionVectors {
				// One bad version refuses its document, not the batch.
				known, name, err := r.knownV4(tx, coll, id, rev)
				if err != nil {
					refused = append(refused, DocEvent{Collection: coll, DocID: id, RevID: rev, Err: httpError(400, "changes: %v", err)})
					continue
				}
				keys[i] = revKey{id, name}
				if known != nil {
					answers[i] = known
				}
				continue
			}
			if _, _, err := revtree.ParseRevID(rev); err != nil {
				return fmt.Errorf("changes: row %d: %v", i, err)
			}
			keys[i] = revKey{id, rev}
			d, err := tx.Get(coll, id)
			if err == nil && d.Tree.Contains(rev) {
				continue
			}
			known := []string{}
			if err == nil {
				for _, l := range d.Tree.Leaves() {
					known = append(known, l.ID)
				}
			}
			answers[i] = known
		}
		return nil
	})
	if err != nil {
		respondErr(req, httpError(400, "%v", err))
		return
	}
	r.s.emit(refused...)
	r.askOnce(coll, rows, keys, answers)
	for len(answers) > 0 && answers[len(answers)-1] == 0 {
		answers = answers[:len(answers)-1]
	}
	body, _ := json.Marshal(answers)
	props := blip.Properties{"blobs": "true"}
	if !r.s.opts.VersionVectors { // a vector needs no history limit
		props["maxHistory"] = fmt.Sprint(r.s.opts.MaxHistory)
	}
	req.Respond(r.replyProps(props), body)
}

// askOnce keeps one request per revision: a row repeating a revision asked
// for earlier in the batch or in an earlier one (and not yet saved) gets 0.
// An active puller also tracks each row's sequence for the checkpoint: one
// it does not ask for is finished at once, except a repeat with the same
// sequence, which finishes when the revision asked for does.
func (r *receiver) askOnce(coll string, rows [][]json.RawMessage, keys []revKey, answers []any) {
	active := r.s.isActive()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.pulls[coll]
	if st == nil || !active {
		inBatch := map[revKey]bool{}
		for i, k := range keys {
			if answers[i] != 0 && inBatch[k] {
				answers[i] = 0
			}
			inBatch[k] = true
		}
		return
	}
	for i, row := range rows {
		seq := string(row[0])
		st.seqs.add(seq)
		if answers[i] == 0 {
			st.seqs.finish(seq)
			continue
		}
		if askedSeq, asked := st.asked[keys[i]]; asked {
			answers[i] = 0
			if askedSeq != seqKey(seq) {
				st.seqs.finish(seq)
			}
			continue
		}
		st.asked[keys[i]] = seqKey(seq)
		r.s.pullTotal.Add(1)
	}
}

// handleProposeChanges tells a pushing peer, per revision: 0 send it,
// 304 we have it, 409 it would conflict (with our current revision).
func (r *receiver) handleProposeChanges(req *blip.Request) {
	coll, _, ok := r.pushTarget(req)
	if !ok {
		return
	}
	var rows [][]json.RawMessage
	if err := json.Unmarshal(req.Body, &rows); err != nil {
		respondErr(req, httpError(400, "proposeChanges: body is not an array of arrays"))
		return
	}
	withRev := req.Properties["conflictIncludesRev"] == "true"
	answers := make([]any, len(rows))
	err := r.s.db.View(func(tx *store.Tx) error {
		for i, row := range rows {
			var id, rev, parent string
			if len(row) < 2 || json.Unmarshal(row[0], &id) != nil || json.Unmarshal(row[1], &rev) != nil {
				return fmt.Errorf("proposeChanges: row %d is malformed", i)
			}
			if len(row) > 2 && json.Unmarshal(row[2], &parent) != nil { // null means a new document
				return fmt.Errorf("proposeChanges: row %d: parent is not a revision ID", i)
			}
			answers[i] = 0
			if r.s.opts.VersionVectors {
				answers[i] = r.proposedV4(tx, coll, id, rev, parent, withRev)
				continue
			}
			d, err := tx.Get(coll, id)
			switch {
			case err != nil:
			case d.Tree.Contains(rev):
				answers[i] = 304
			case d.RevID == parent, d.Deleted && (parent == "" || d.Tree.Contains(parent)):
			case withRev:
				answers[i] = map[string]any{"status": 409, "rev": d.RevID}
			default:
				answers[i] = 409
			}
		}
		return nil
	})
	if err != nil {
		respondErr(req, httpError(400, "%v", err))
		return
	}
	for len(answers) > 0 && answers[len(answers)-1] == 0 {
		answers = answers[:len(answers)-1]
	}
	body, _ := json.Marshal(answers)
	// blobs:"true", as Couchbase Lite answers: without it the pusher adds
	// stand-in "_attachments" entries for its blobs.
	req.Respond(r.replyProps(blip.Properties{"blobs": "true"}), body)
}

// replyProps adds deltas:"true" when we accept deltas.
func (r *receiver) replyProps(p blip.Properties) blip.Properties {
	if r.s.opts.EnableDelta {
		p["deltas"] = "true"
	}
	return p
}

// handleRev receives a revision: it fetches missing blobs, then queues the
// revision for the next batched transaction; the reply waits for the commit.
func (r *receiver) handleRev(req *blip.Request) {
	coll, idx, ok := r.pushTarget(req)
	if !ok {
		return
	}
	p := req.Properties
	in := &incoming{req: req, coll: coll, idx: idx, id: p["id"], rev: p["rev"], seq: p["sequence"],
		deleted: p["deleted"] == "1" || p["deleted"] == "true"}
	if in.id == "" || in.rev == "" {
		respondErr(req, httpError(400, "rev: missing id or rev"))
		return
	}
	in.history = []string{in.rev}
	if r.s.opts.VersionVectors {
		if err := in.parseVersions(p["history"]); err != nil {
			r.reject(in, httpError(400, "rev %s of %q: %v", in.rev, in.id, err))
			return
		}
	} else if h := p["history"]; h != "" {
		in.history = append(in.history, strings.Split(h, ",")...)
	}
	raw := req.Body
	if src := p["deltaSrc"]; src != "" {
		full, e := r.applyDelta(coll, in.id, src, raw)
		if e != nil {
			r.reject(in, e)
			return
		}
		raw = full
		r.s.recvDelta.Add(1)
	} else {
		r.s.recvFull.Add(1)
	}
	body, err := stripSpecial(raw)
	if err != nil {
		r.reject(in, httpError(400, "rev %s of %q: %v", in.rev, in.id, err))
		return
	}
	in.body = body
	if r.s.isActive() && r.s.act.PullFilter != nil {
		f := r.s.act.PullFilter
		var b []byte
		if !in.deleted {
			b = body
		}
		if !f(coll, in.id, in.rev, in.deleted, b) {
			req.Respond(nil, nil)
			r.s.pullDone.Add(1)
			r.finishSeq(in)
			return
		}
	}
	refs := store.BlobRefs(body)
	if len(refs) == 0 {
		r.enqueue(in)
		return
	}
	r.s.go_(func() {
		if err := r.fetchBlobs(in, refs); err != nil {
			r.reject(in, httpError(502, "rev %s of %q: %v", in.rev, in.id, err))
			return
		}
		r.enqueue(in)
	})
}

func (r *receiver) enqueue(in *incoming) {
	select {
	case r.queue <- in:
	case <-r.s.ctx.Done():
	}
}

// applyDelta rebuilds a body from a delta against a revision we have. A
// missing source is a 404 so the sender falls back to the full body.
func (r *receiver) applyDelta(coll, id, src string, d []byte) ([]byte, *blip.Error) {
	if !r.s.opts.EnableDelta {
		return nil, httpError(400, "rev: deltas were not negotiated")
	}
	var base []byte
	err := r.s.db.View(func(tx *store.Tx) error {
		if r.s.opts.VersionVectors { // the source is named by its version
			d, err := tx.Get(coll, id)
			if err != nil {
				return err
			}
			var ok bool
			if src, ok = localRev(d, src); !ok {
				return store.ErrNotFound
			}
		}
		rev, err := tx.GetRevision(coll, id, src)
		if err == nil && !rev.Deleted {
			base = rev.Body
		}
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, httpError(500, "rev of %q: reading delta source: %v", id, err)
	}
	if base == nil {
		return nil, httpError(404, "delta source %s of %q is not available", src, id)
	}
	full, err := delta.Apply(base, d)
	if err != nil {
		return nil, httpError(400, "rev of %q: bad delta: %v", id, err)
	}
	return full, nil
}

// stripSpecial removes the protocol's per-revision keys from a body.
func stripSpecial(body []byte) ([]byte, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return []byte("{}"), nil
	}
	if !bytes.Contains(body, []byte(`"_`)) {
		return body, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errors.New("body is not a JSON object")
	}
	for _, k := range []string{"_id", "_rev", "_deleted", "_revisions", "_exp", "_removed"} {
		delete(m, k)
	}
	out, err := json.Marshal(m)
	if err != nil || m[legacyAttachments] == nil {
		return out, err
	}
	return withoutStandIns(out)
}

// fetchBlobs asks the peer for the blobs we lack and checks their digests.
func (r *receiver) fetchBlobs(in *incoming, refs []store.BlobRef) error {
	for _, ref := range refs {
		has := false
		if err := r.s.db.View(func(tx *store.Tx) error { has = tx.HasBlob(ref.Digest); return nil }); err != nil {
			return err
		}
		if has {
			continue
		}
		// The collection, as Couchbase Lite sends it: Sync Gateway refuses
		// a getAttachment without one after getCollections.
		props := r.s.withCollection(blip.Properties{"Profile": "getAttachment", "digest": ref.Digest, "docID": in.id}, in.idx)
		msg := &blip.Message{Properties: props}
		resp, err := r.s.request(r.s.ctx, msg)
		if err != nil {
			return fmt.Errorf("fetch blob %s: %w", ref.Digest, err)
		}
		if got := store.BlobDigest(resp.Body); got != ref.Digest {
			return fmt.Errorf("blob %s arrived with digest %s", ref.Digest, got)
		}
		if err := r.s.db.Update(func(tx *store.Tx) error { _, err := tx.PutBlob(resp.Body); return err }); err != nil {
			return err
		}
	}
	return nil
}

func (r *receiver) handleNorev(req *blip.Request) {
	coll, _, perr := r.s.collection(req)
	if perr != nil {
		return
	}
	p := req.Properties
	in := &incoming{coll: coll, id: p["id"], rev: p["rev"], seq: p["sequence"]}
	r.s.pullDone.Add(1)
	r.finishSeq(in)
	r.s.emit(DocEvent{Collection: coll, DocID: in.id, RevID: in.rev, Err: fmt.Errorf("peer could not send the revision: %s %s", p["error"], p["reason"])})
}

func (r *receiver) reject(in *incoming, e *blip.Error) {
	respondErr(in.req, e)
	r.s.pullDone.Add(1)
	r.finishSeq(in)
	r.s.emit(DocEvent{Collection: in.coll, DocID: in.id, RevID: in.rev, Deleted: in.deleted, Err: e})
}

// finishSeq ends a revision's part in the pull: it is no longer asked for,
// and its sequence (the one it was asked for under, else the rev's own) is
// done.
func (r *receiver) finishSeq(in *incoming) {
	r.mu.Lock()
	st := r.pulls[in.coll]
	seq := in.seq
	if st != nil {
		k := revKey{in.id, in.rev}
		askedSeq, asked := st.asked[k]
		if !asked && in.seq != "" {
			// A norev may name the sequence without the revision.
			for ak, as := range st.asked {
				if ak.id == in.id && as == seqKey(in.seq) {
					k, askedSeq, asked = ak, as, true
					break
				}
			}
		}
		if asked {
			seq = askedSeq
			delete(st.asked, k)
		}
	}
	r.mu.Unlock()
	if st != nil && seq != "" {
		st.seqs.finish(seq)
	}
	r.s.stateChanged()
}

// insertLoop saves queued revisions in batches.
func (r *receiver) insertLoop() {
	for {
		var batch []*incoming
		select {
		case in := <-r.queue:
			batch = append(batch, in)
		case <-r.done:
			return
		}
	collect:
		for len(batch) < insertBatch {
			select {
			case in := <-r.queue:
				batch = append(batch, in)
			default:
				break collect
			}
		}
		r.save(batch)
	}
}

// badRevision: the error is the revision's fault, not the store's.
func badRevision(err error) bool {
	return errors.Is(err, store.ErrInvalidBody) || errors.Is(err, store.ErrBodyTooLarge) ||
		errors.Is(err, store.ErrInvalidID) || errors.Is(err, revtree.ErrBadHistory) || errors.Is(err, hlv.ErrInvalid)
}

// conflict is a document that an incoming revision put in conflict with
// our local winner.
type conflict struct {
	coll, id, local, remote string
}

// save commits a batch, then answers every rev in it and resolves the
// conflicts it created (active side).
func (r *receiver) save(batch []*incoming) {
	active := r.s.isActive()
	var conflicts []conflict
	err := r.s.db.Update(func(tx *store.Tx) error {
		conflicts = conflicts[:0]
		for _, in := range batch {
			in.err = nil
			var before *store.Document
			if d, err := tx.Get(in.coll, in.id); err == nil {
				before = d
			}
			if !in.vec.IsZero() {
				c, err := r.saveVersioned(tx, in, before)
				if err != nil {
					return err
				}
				if c != nil {
					conflicts = append(conflicts, *c)
				}
				continue
			}
			if !active && before != nil && !before.Deleted && !slices.Contains(in.history, before.RevID) && !before.Tree.Contains(in.rev) {
				in.err = httpError(409, "conflict: %q is at %s", in.id, before.RevID)
				continue
			}
			added, _, err := tx.PutRevision(in.coll, in.id, in.history, in.deleted, in.body)
			if err != nil {
				if badRevision(err) {
					in.err = httpError(400, "rev %s of %q: %v", in.rev, in.id, err)
					continue
				}
				return err
			}
			if active {
				if err := tx.SetRemoteRev(in.coll, r.s.act.RemoteID, in.id, in.rev); err != nil {
					return err
				}
				if added && before != nil && before.RevID != in.rev && !slices.Contains(in.history, before.RevID) {
					conflicts = append(conflicts, conflict{in.coll, in.id, before.RevID, in.rev})
				}
			}
		}
		return nil
	})
	if err == nil && len(conflicts) > 0 {
		r.resolveAll(conflicts)
	}
	evs := make([]DocEvent, 0, len(batch))
	for _, in := range batch {
		e := in.err
		if err != nil {
			e = err
		}
		if e != nil {
			var be *blip.Error
			if !errors.As(e, &be) {
				be = httpError(500, "saving failed: %v", e)
			}
			respondErr(in.req, be)
		} else {
			in.req.Respond(nil, nil)
		}
		r.s.pullDone.Add(1)
		if e == nil || err == nil {
			// A storage failure leaves the sequence unfinished so the
			// checkpoint stays behind it and the revision is pulled again.
			r.finishSeq(in)
		}
		evs = append(evs, DocEvent{Collection: in.coll, DocID: in.id, RevID: in.rev, Deleted: in.deleted, Err: e})
	}
	r.s.emit(evs...)
	if err != nil {
		r.s.fail(fmt.Errorf("saving pulled revisions: %w", err))
	}
}
