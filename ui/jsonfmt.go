package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// prettyJSON indents a body for reading; bodies that do not parse are shown
// as they are.
func prettyJSON(body []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return string(body)
	}
	return out.String()
}

// checkBody mirrors the engine's body rules so the editor can say what is
// wrong while the user types: a JSON object whose top-level keys do not
// start with '_'. Syntax errors name the line and column.
func checkBody(text string) error {
	if !utf8.ValidString(text) {
		return errors.New("the body is not valid UTF-8 text")
	}
	trimmed := strings.TrimSpace(text)
	if trimmed == "" || trimmed[0] != '{' {
		return errors.New("the body must be a JSON object: {…}")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			// Offset counts the offending byte; point at it.
			line, col := lineCol(text, syn.Offset-1)
			return fmt.Errorf("line %d, column %d: %v", line, col, syn)
		}
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if strings.HasPrefix(k, "_") {
			return fmt.Errorf("top-level key %q is reserved: keys may not start with '_'", k)
		}
	}
	return nil
}

// lineCol turns a byte offset into 1-based line and column numbers.
func lineCol(text string, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(text)))
	before := text[:offset]
	line = strings.Count(before, "\n") + 1
	col = len(before) - strings.LastIndexByte(before, '\n')
	return line, col
}

// topLevel splits an object body into its keys, sorted, and their values
// (compacted, so equal values compare equal). Non-objects give no keys.
func topLevel(body []byte) ([]string, map[string]string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil, nil
	}
	vals := make(map[string]string, len(top))
	for k, v := range top {
		var c bytes.Buffer
		if json.Compact(&c, v) != nil {
			vals[k] = string(v)
			continue
		}
		vals[k] = c.String()
	}
	return slices.Sorted(maps.Keys(vals)), vals
}

// differingKeys returns the top-level keys whose values are not the same
// in every body (including keys missing from some).
func differingKeys(bodies [][]byte) map[string]bool {
	tops := make([]map[string]string, len(bodies))
	all := map[string]bool{}
	for i, b := range bodies {
		keys, vals := topLevel(b)
		tops[i] = vals
		for _, k := range keys {
			all[k] = true
		}
	}
	diff := map[string]bool{}
	for k := range all {
		for _, t := range tops[1:] {
			a, okA := tops[0][k]
			b, okB := t[k]
			if okA != okB || a != b {
				diff[k] = true
				break
			}
		}
	}
	return diff
}

// keyBlock is one top-level member of an object, pretty-printed.
type keyBlock struct {
	Key  string
	Text string // `  "key": value` (indented, without the trailing comma)
}

// objectBlocks pretty-prints an object member by member, in key order, so
// the conflict view can colour members separately.
func objectBlocks(body []byte) ([]keyBlock, bool) {
	keys, vals := topLevel(body)
	if vals == nil {
		return nil, false
	}
	blocks := make([]keyBlock, 0, len(keys))
	for _, k := range keys {
		name, _ := json.Marshal(k)
		var v bytes.Buffer
		if json.Indent(&v, []byte(vals[k]), "  ", "  ") != nil {
			v.WriteString(vals[k])
		}
		blocks = append(blocks, keyBlock{Key: k, Text: "  " + string(name) + ": " + v.String()})
	}
	return blocks, true
}
