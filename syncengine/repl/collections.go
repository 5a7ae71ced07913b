package repl

import "strings"

// Collection names on the wire. Couchbase Lite writes a collection of the
// default scope without the scope: "_default" for the default collection,
// "foo" for "_default.foo", and "scope.name" for any other. Sync Gateway
// reads both forms. PeerSync names collections "scope.name" everywhere
// else, so names are converted where they cross the wire.

const defaultScopePrefix = "_default."

// fullCollectionName turns a name from the wire into "scope.name".
func fullCollectionName(wire string) string {
	if strings.Contains(wire, ".") {
		return wire
	}
	return defaultScopePrefix + wire
}

// wireCollectionName spells a collection as Couchbase Lite sends it.
func wireCollectionName(full string) string {
	if name, ok := strings.CutPrefix(full, defaultScopePrefix); ok && name != "" && !strings.Contains(name, ".") {
		return name
	}
	return full
}
