package repl

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"peersync/syncengine/blip"
	"peersync/syncengine/store"
)

// checkpoint is the body saved locally and on the peer.
type checkpoint struct {
	Time   int64           `json:"time"`
	Local  uint64          `json:"local"`  // our sequence: everything up to it was pushed
	Remote json.RawMessage `json:"remote"` // the peer's sequence: everything up to it was pulled
}

// checkpointer reads and saves an active replication's checkpoints. Each
// collection has two copies: ours in a local document, and the peer's,
// read with getCheckpoint (or getCollections) and written with
// setCheckpoint. A run resumes from the older of the two, so a copy that
// was lost or is behind never makes it skip revisions.
type checkpointer struct {
	s    *Session
	cfg  RunConfig
	runs []*collRun // one per replicated collection, once loaded
}

func newCheckpointer(s *Session, cfg RunConfig) *checkpointer { return &checkpointer{s: s, cfg: cfg} }

// load picks the protocol mode (collections addressed by index or not)
// and reads both copies of each collection's checkpoint.
func (k *checkpointer) load(ctx context.Context) error {
	s, cfg := k.s, k.cfg
	names := s.opts.Collections
	runs := make([]*collRun, len(names))
	for i, n := range names {
		runs[i] = &collRun{name: n, idx: i, id: checkpointID(s.db, s.act.RemoteID, n, cfg, s.act.DocIDs)}
	}
	remote := make([][]byte, len(names))
	if len(names) == 1 && names[0] == store.DefaultCollection {
		c := runs[0]
		resp, err := s.request(ctx, &blip.Message{Properties: blip.Properties{"Profile": "getCheckpoint", "client": c.id}})
		var be *blip.Error
		switch {
		case errors.As(err, &be) && be.Code == 404:
		case err != nil:
			return fmt.Errorf("getCheckpoint: %w", err)
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
			return fmt.Errorf("getCollections: %w", err)
		}
		var cps []json.RawMessage
		if json.Unmarshal(resp.Body, &cps) != nil || len(cps) != len(names) {
			return fmt.Errorf("%w: bad getCollections reply", ErrProtocol)
		}
		for i, cp := range cps {
			if string(cp) == "null" {
				return fmt.Errorf("%w: the peer has no collection %s", ErrNotShared, names[i])
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(cp, &m); err != nil {
				return fmt.Errorf("%w: bad getCollections reply for %s: %v", ErrProtocol, names[i], err)
			}
			key := "_rev"
			if _, ok := m[key]; !ok {
				key = "rev" // a Couchbase Lite peer's spelling
			}
			if rev, ok := m[key]; ok {
				if err := json.Unmarshal(rev, &runs[i].remoteRev); err != nil {
					return fmt.Errorf("%w: bad getCollections reply for %s: %s: %v", ErrProtocol, names[i], key, err)
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
			return err
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
	k.runs = runs
	return nil
}

// ErrNotShared reports a collection the peer does not share.
var ErrNotShared = errors.New("collection not shared by the peer")

func localCheckpointKey(coll, id string) string { return "checkpoint/" + coll + "/" + id }

// checkpointID names a replication's checkpoint: the local database,
// the peer's identity, the collection and what is replicated.
func checkpointID(db *store.DB, remoteID, coll string, cfg RunConfig, docIDs []string) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%v\x00%v\x00%s", db.UUID(), remoteID, coll, cfg.Push, cfg.Pull,
		strings.Join(docIDs, ","))
	return "cp-" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// save saves each collection's progress locally and on the peer, when it
// moved: what the pusher has had answered, what the puller has saved.
func (k *checkpointer) save() error {
	s, runs := k.s, k.runs
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
