package syncengine

import (
	"peersync/syncengine/revtree"
	"peersync/syncengine/store"
)

// Document helpers for callers (the UI) that need the engine's rules
// without reaching into its storage packages.

// ValidateDocID says what is wrong with a document ID (empty, too long,
// not UTF-8, control characters, a leading underscore), or nil.
func ValidateDocID(id string) error { return store.ValidateDocID(id) }

// BlobRefs lists the blob references anywhere in a JSON document body,
// including the legacy top-level "_attachments" object.
func BlobRefs(body []byte) []BlobRef { return store.BlobRefs(body) }

// RevisionGeneration is the generation of a revision ID (the number
// before the dash), or 0 if the ID is invalid.
func RevisionGeneration(revID string) int { return revtree.Generation(revID) }
