package repl

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Legacy attachments. A peer that does not answer changes or proposeChanges
// with blobs:"true" (Sync Gateway) only knows attachments listed in the
// top-level "_attachments" object. Couchbase Lite then adds a stand-in
// "_attachments" entry named "blob_<JSON pointer>" for every blob in the
// body, and removes those stand-ins again from revisions it receives. We do
// the same so blobs reach such peers and come back unchanged.

const legacyAttachments = "_attachments"

// withLegacyAttachments returns body with a stand-in "_attachments" entry
// for each blob outside "_attachments"; ok is false when the body has no
// blobs (body is then returned unchanged).
func withLegacyAttachments(body []byte, revpos int) (out []byte, ok bool) {
	if !bytes.Contains(body, []byte(`"blob"`)) {
		return body, false
	}
	root, err := decodeObject(body)
	if err != nil {
		return body, false
	}
	atts := map[string]any{}
	if old, isObj := root[legacyAttachments].(map[string]any); isObj {
		for name, a := range old {
			if !strings.HasPrefix(name, "blob_") {
				atts[name] = a
			}
		}
	}
	found := false
	for _, key := range sortedKeys(root) {
		if key == legacyAttachments {
			continue
		}
		walkBlobDicts(root[key], "/"+escapePointer(key), func(pointer string, blob map[string]any) {
			stub := map[string]any{}
			for k, v := range blob {
				if k != "@type" && k != "stub" {
					stub[k] = v
				}
			}
			stub["stub"] = true
			stub["revpos"] = revpos
			atts["blob_"+pointer] = stub
			found = true
		})
	}
	if !found {
		return body, false
	}
	root[legacyAttachments] = atts
	return encodeJSON(root), true
}

// stripLegacyAttachments removes the stand-ins a peer added for blobs in the
// body (and "blob_<n>" ones from older peers); real attachments stay. A
// stand-in whose digest differs from its blob updates the blob, as the
// attachment is what the peer checked.
func stripLegacyAttachments(root map[string]any) {
	atts, isObj := root[legacyAttachments].(map[string]any)
	if !isObj {
		return
	}
	for name, a := range atts {
		pointer, isStandIn := strings.CutPrefix(name, "blob_")
		if !isStandIn {
			continue
		}
		if pointer != "" && pointer[0] >= '0' && pointer[0] <= '9' {
			delete(atts, name)
			continue
		}
		att, _ := a.(map[string]any)
		blob, _ := evalPointer(root, pointer).(map[string]any)
		if att == nil || att["digest"] == nil || blob == nil || blob["@type"] != "blob" {
			continue
		}
		delete(atts, name)
		if att["digest"] != blob["digest"] {
			blob["digest"] = att["digest"]
			for _, k := range []string{"length", "content_type"} {
				if v, has := att[k]; has {
					blob[k] = v
				} else {
					delete(blob, k)
				}
			}
		}
	}
	if len(atts) == 0 {
		delete(root, legacyAttachments)
	}
}

// withoutStandIns returns a received body without blob stand-ins; bodies
// without any are returned as they are.
func withoutStandIns(body []byte) ([]byte, error) {
	if !bytes.Contains(body, []byte(`"blob_`)) {
		return body, nil
	}
	root, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	stripLegacyAttachments(root)
	return encodeJSON(root), nil
}

// walkBlobDicts calls fn for every blob (an object with "@type":"blob" and
// a digest) under v, in a stable order, without looking inside blobs.
func walkBlobDicts(v any, pointer string, fn func(string, map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if _, hasDigest := x["digest"].(string); hasDigest && x["@type"] == "blob" {
			fn(pointer, x)
			return
		}
		for _, k := range sortedKeys(x) {
			walkBlobDicts(x[k], pointer+"/"+escapePointer(k), fn)
		}
	case []any:
		for i, child := range x {
			walkBlobDicts(child, pointer+"/"+strconv.Itoa(i), fn)
		}
	}
}

// evalPointer resolves an RFC 6901 JSON pointer; nil when it names nothing.
func evalPointer(root any, pointer string) any {
	if !strings.HasPrefix(pointer, "/") {
		return nil
	}
	cur := root
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			cur = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			cur = x[i]
		default:
			return nil
		}
	}
	return cur
}

func escapePointer(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// decodeObject parses a JSON object keeping numbers exactly as written.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	if root == nil {
		root = map[string]any{}
	}
	return root, nil
}

// encodeJSON writes v without HTML escaping, so text survives byte for byte.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
