package store

// Remote ancestors: for each peer a replicator talks to, the revision of
// each document that peer is known to have. The pusher proposes new
// revisions as children of it, which is what a peer that refuses conflicts
// needs to accept them.

var bucketRemotes = []byte("remotes")

func remoteKey(remote, docID string) []byte {
	k := make([]byte, 0, len(remote)+1+len(docID))
	k = append(k, remote...)
	k = append(k, 0)
	return append(k, docID...)
}

// RemoteRev returns the revision of docID that remote is known to have, or "".
func (tx *Tx) RemoteRev(coll, remote, docID string) string {
	b, err := tx.coll(coll)
	if err != nil {
		return ""
	}
	r := b.Bucket(bucketRemotes)
	if r == nil {
		return ""
	}
	return string(r.Get(remoteKey(remote, docID)))
}

// SetRemoteRev records that remote has revision rev of docID.
func (tx *Tx) SetRemoteRev(coll, remote, docID, rev string) error {
	b, err := tx.coll(coll)
	if err != nil {
		return err
	}
	r, err := b.CreateBucketIfNotExists(bucketRemotes)
	if err != nil {
		return err
	}
	return r.Put(remoteKey(remote, docID), []byte(rev))
}
