package store

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// BlobDigest returns the content address of data: "sha1-" + base64(SHA-1).
func BlobDigest(data []byte) string {
	sum := sha1.Sum(data)
	return "sha1-" + base64.StdEncoding.EncodeToString(sum[:])
}

// BlobRef is a blob reference found in a document body:
// {"@type":"blob","digest":…,"length":…,"content_type":…}.
type BlobRef struct {
	Digest      string `json:"digest"`
	Length      int64  `json:"length"`
	ContentType string `json:"content_type,omitempty"`
}

// PutBlob stores data once under its digest and returns the digest.
func (tx *Tx) PutBlob(data []byte) (string, error) {
	digest := BlobDigest(data)
	b := tx.btx.Bucket(bucketBlobs)
	if b.Get([]byte(digest)) != nil {
		return digest, nil
	}
	return digest, b.Put([]byte(digest), data)
}

// GetBlob returns a copy of a blob's bytes.
func (tx *Tx) GetBlob(digest string) ([]byte, error) {
	v := tx.btx.Bucket(bucketBlobs).Get([]byte(digest))
	if v == nil {
		return nil, fmt.Errorf("blob %s: %w", digest, ErrNotFound)
	}
	return bytes.Clone(v), nil
}

// HasBlob reports whether a blob is stored.
func (tx *Tx) HasBlob(digest string) bool {
	return tx.btx.Bucket(bucketBlobs).Get([]byte(digest)) != nil
}

func (tx *Tx) checkBlobs(body []byte) error {
	for _, ref := range BlobRefs(body) {
		if !tx.HasBlob(ref.Digest) {
			return fmt.Errorf("%w: %s", ErrMissingBlob, ref.Digest)
		}
	}
	return nil
}

// BlobRefs finds the blob references anywhere in a JSON body, including the
// legacy top-level "_attachments" object. Bodies without "digest" are
// skipped cheaply.
func BlobRefs(body []byte) []BlobRef {
	if !bytes.Contains(body, []byte(`"digest"`)) {
		return nil
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var refs []BlobRef
	walkBlobs(v, false, &refs)
	return refs
}

func walkBlobs(v any, inAttachments bool, refs *[]BlobRef) {
	switch x := v.(type) {
	case map[string]any:
		if d, ok := x["digest"].(string); ok && (x["@type"] == "blob" || inAttachments) {
			ref := BlobRef{Digest: d}
			if n, ok := x["length"].(float64); ok {
				ref.Length = int64(n)
			}
			ref.ContentType, _ = x["content_type"].(string)
			*refs = append(*refs, ref)
			return
		}
		for k, child := range x {
			if att, ok := child.(map[string]any); ok && k == "_attachments" {
				for _, a := range att {
					walkBlobs(a, true, refs)
				}
				continue
			}
			walkBlobs(child, false, refs)
		}
	case []any:
		for _, child := range x {
			walkBlobs(child, false, refs)
		}
	}
}
