package repl

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"

	"peersync/syncengine/blip"
	"peersync/syncengine/store"
)

// Handlers a peer calls to read and write its checkpoints, and to fetch or
// prove blobs. Peer checkpoints are local documents keyed by collection and
// the peer's checkpoint ID.

func peerCheckpointKey(coll, client string) string {
	return "peer-checkpoint/" + coll + "/" + client
}

func (s *Session) handleGetCollections(req *blip.Request) {
	var body struct {
		Collections   []string `json:"collections"`
		CheckpointIDs []string `json:"checkpoint_ids"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil || len(body.Collections) != len(body.CheckpointIDs) {
		respondErr(req, httpError(400, "getCollections: bad body"))
		return
	}
	names := make([]string, len(body.Collections))
	for i, wire := range body.Collections {
		names[i] = fullCollectionName(wire)
		if err := store.ValidateCollectionName(names[i]); err != nil {
			respondErr(req, httpError(400, "getCollections: bad collection name %q", wire))
			return
		}
		if slices.Contains(names[:i], names[i]) {
			respondErr(req, httpError(400, "getCollections: collection %q named twice", wire))
			return
		}
	}
	s.setCollections(names)
	out := make([]json.RawMessage, len(names))
	err := s.db.View(func(tx *store.Tx) error {
		for i, name := range names {
			if !s.shared(name) {
				out[i] = json.RawMessage("null")
				continue
			}
			rev, cp, err := tx.GetLocal(peerCheckpointKey(name, body.CheckpointIDs[i]))
			switch {
			case errors.Is(err, store.ErrNotFound):
				out[i] = json.RawMessage("{}")
			case err != nil:
				return err
			default:
				out[i] = withRev(cp, rev)
			}
		}
		return nil
	})
	if err != nil {
		respondErr(req, httpError(500, "getCollections: %v", err))
		return
	}
	resp, _ := json.Marshal(out)
	req.Respond(nil, resp)
}

// withRev adds the checkpoint's revision to a JSON object so the peer can
// update it: as "_rev", as Sync Gateway's getCollections reply does, and as
// "rev", where Couchbase Lite reads it.
func withRev(body []byte, rev string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m == nil {
		m = map[string]json.RawMessage{}
	}
	m["_rev"], _ = json.Marshal(rev)
	m["rev"] = m["_rev"]
	out, _ := json.Marshal(m)
	return out
}

func (s *Session) handleGetCheckpoint(req *blip.Request) {
	coll, _, perr := s.collection(req)
	if perr != nil {
		respondErr(req, perr)
		return
	}
	client := req.Properties["client"]
	if client == "" {
		respondErr(req, httpError(400, "getCheckpoint: missing client"))
		return
	}
	var rev string
	var body []byte
	err := s.db.View(func(tx *store.Tx) (err error) {
		rev, body, err = tx.GetLocal(peerCheckpointKey(coll, client))
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		respondErr(req, httpError(404, "no checkpoint"))
	case err != nil:
		respondErr(req, httpError(500, "getCheckpoint: %v", err))
	default:
		req.Respond(blip.Properties{"rev": rev}, body)
	}
}

func (s *Session) handleSetCheckpoint(req *blip.Request) {
	coll, _, perr := s.collection(req)
	if perr != nil {
		respondErr(req, perr)
		return
	}
	client := req.Properties["client"]
	if client == "" || !json.Valid(req.Body) {
		respondErr(req, httpError(400, "setCheckpoint: missing client or bad body"))
		return
	}
	var rev string
	err := s.db.Update(func(tx *store.Tx) (err error) {
		rev, err = tx.PutLocal(peerCheckpointKey(coll, client), stripRev(req.Body), req.Properties["rev"])
		return err
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		respondErr(req, httpError(409, "checkpoint revision mismatch"))
	case err != nil:
		respondErr(req, httpError(500, "setCheckpoint: %v", err))
	default:
		req.Respond(blip.Properties{"rev": rev}, nil)
	}
}

func stripRev(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m["_rev"] == nil {
		return body
	}
	delete(m, "_rev")
	out, _ := json.Marshal(m)
	return out
}

// handleGetAttachment serves a blob that a document the peer may see
// references.
func (s *Session) handleGetAttachment(req *blip.Request) {
	digest, docID := req.Properties["digest"], req.Properties["docID"]
	var data []byte
	err := s.db.View(func(tx *store.Tx) error {
		if docID != "" && !s.docReferences(tx, docID, digest) {
			return store.ErrNotFound
		}
		var err error
		data, err = tx.GetBlob(digest)
		return err
	})
	if err != nil {
		respondErr(req, httpError(404, "no such blob %s", digest))
		return
	}
	if req.Properties["compress"] == "true" {
		req.RespondCompressed(nil, data)
		return
	}
	req.Respond(nil, data)
}

// docReferences reports whether any kept revision of docID in a shared
// collection references digest.
func (s *Session) docReferences(tx *store.Tx, docID, digest string) bool {
	for _, coll := range s.opts.Collections {
		d, err := tx.Get(coll, docID)
		if err != nil {
			continue
		}
		for _, r := range d.Tree.Revs() {
			for _, ref := range store.BlobRefs(r.Body) {
				if ref.Digest == digest {
					return true
				}
			}
		}
	}
	return false
}

// handleProveAttachment proves we hold a blob: SHA-1 over the nonce's
// length byte, the nonce and the blob.
func (s *Session) handleProveAttachment(req *blip.Request) {
	nonce := req.Body
	if len(nonce) == 0 || len(nonce) > 255 {
		respondErr(req, httpError(400, "proveAttachment: bad nonce"))
		return
	}
	var data []byte
	err := s.db.View(func(tx *store.Tx) (err error) {
		data, err = tx.GetBlob(req.Properties["digest"])
		return err
	})
	if err != nil {
		respondErr(req, httpError(404, "no such blob"))
		return
	}
	req.Respond(nil, []byte(blobProof(nonce, data)))
}

func blobProof(nonce, data []byte) string {
	h := sha1.New()
	h.Write([]byte{byte(len(nonce))})
	h.Write(nonce)
	h.Write(data)
	return "sha1-" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// handleSubChanges starts sending changes to a pulling peer.
func (s *Session) handleSubChanges(req *blip.Request) {
	coll, idx, perr := s.collection(req)
	if perr != nil {
		respondErr(req, perr)
		return
	}
	if v := req.Properties["versioning"]; s.opts.VersionVectors && v != versioningVectors && (v != "" || !s.syncGatewayPeer) {
		// Couchbase Lite's answer: a puller must know it gets vectors.
		// Sync Gateway's replicator never sends the property.
		respondErr(req, &blip.Error{Domain: "LiteCore", Code: 501, Message: "Incompatible document versioning."})
		return
	}
	if f := req.Properties["filter"]; f != "" && f != "sync_gateway/bychannel" {
		respondErr(req, httpError(501, "filter %q is not supported by this peer", f))
		return
	}
	since, err := parseLocalSeq(req.Properties["since"])
	if err != nil {
		respondErr(req, httpError(400, "subChanges: bad since %q", req.Properties["since"]))
		return
	}
	var docIDs []string
	if len(req.Body) > 0 {
		var body struct {
			DocIDs []string `json:"docIDs"`
		}
		if json.Unmarshal(req.Body, &body) != nil {
			respondErr(req, httpError(400, "subChanges: bad body"))
			return
		}
		docIDs = body.DocIDs
	}
	batch, _ := strconv.Atoi(req.Properties["batch"])
	p := newPusher(s, pushConfig{
		coll: coll, idx: idx, since: since,
		continuous: req.Properties["continuous"] == "true",
		activeOnly: req.Properties["activeOnly"] == "true",
		docIDs:     docIDs, batch: batch,
	})
	req.Respond(nil, nil)
	s.startPusher(p)
}

// parseLocalSeq reads a sequence we sent earlier: a JSON number or a
// string holding one ("" and "0" mean the beginning).
func parseLocalSeq(v string) (uint64, error) {
	if v == "" {
		return 0, nil
	}
	var raw any
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return 0, err
	}
	switch x := raw.(type) {
	case float64:
		if x < 0 {
			return 0, errors.New("negative")
		}
		return uint64(x), nil
	case string:
		return strconv.ParseUint(x, 10, 64)
	}
	return 0, errors.New("not a sequence")
}
