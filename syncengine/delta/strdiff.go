package delta

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// minStringPatchLen is the new-string length below which Create replaces a
// string instead of patching it; Couchbase Lite uses the same cut-off.
const minStringPatchLen = 60

// maxDiffEdits bounds the edit distance the character diff searches for. Past
// it the changed middle becomes one replacement, which keeps Create's time
// and memory bounded (O(n·maxDiffEdits) and O(maxDiffEdits²)) for any input.
const maxDiffEdits = 256

// maxDiffChars bounds the changed middle (old plus new, in characters) that
// the character diff is tried on; larger middles become one replacement.
const maxDiffChars = 1 << 16

// change replaces old[oldStart:oldEnd] with new[newStart:newEnd] (byte offsets).
type change struct {
	oldStart, oldEnd, newStart, newEnd int
}

// stringPatch returns the patch text ("N=", "N-", "N+bytes|" ops) that turns
// old into new. Edits never split a UTF-8 character because the diff works on
// characters and only converts to byte counts at the end.
func stringPatch(old, new string) string {
	changes := diffStrings(old, new)
	changes = mergeCloseChanges(changes)
	var b strings.Builder
	pos := 0
	for _, c := range changes {
		if c.oldStart > pos {
			b.WriteString(strconv.Itoa(c.oldStart - pos))
			b.WriteByte('=')
		}
		if c.oldEnd > c.oldStart {
			b.WriteString(strconv.Itoa(c.oldEnd - c.oldStart))
			b.WriteByte('-')
		}
		if c.newEnd > c.newStart {
			b.WriteString(strconv.Itoa(c.newEnd - c.newStart))
			b.WriteByte('+')
			b.WriteString(new[c.newStart:c.newEnd])
			b.WriteByte('|')
		}
		pos = c.oldEnd
	}
	if pos < len(old) {
		b.WriteString(strconv.Itoa(len(old) - pos))
		b.WriteByte('=')
	}
	return b.String()
}

// diffStrings lists the changed regions between old and new, in order.
func diffStrings(old, new string) []change {
	a, aOff := splitChars(old)
	b, bOff := splitChars(new)

	// Trim the common prefix and suffix; most edits touch one small region.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	a, b = a[pre:len(a)-suf], b[pre:len(b)-suf]
	aOff, bOff = aOff[pre:len(aOff)-suf], bOff[pre:len(bOff)-suf]
	if len(a) == 0 && len(b) == 0 {
		return nil
	}

	var script []change
	ok := false
	if len(a)+len(b) <= maxDiffChars {
		script, ok = myers(a, b, maxDiffEdits)
	}
	if !ok {
		return []change{{aOff[0], aOff[len(a)], bOff[0], bOff[len(b)]}}
	}
	changes := make([]change, 0, len(script))
	for _, s := range script {
		changes = append(changes, change{aOff[s.oldStart], aOff[s.oldEnd], bOff[s.newStart], bOff[s.newEnd]})
	}
	return changes
}

// splitChars returns the characters of s as comparable tokens, and the byte
// offset of each token plus a final offset of len(s). Bytes that are not
// valid UTF-8 become tokens of their own, distinct from every rune.
func splitChars(s string) (tokens []rune, offsets []int) {
	tokens = make([]rune, 0, len(s))
	offsets = make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			r = utf8.MaxRune + 1 + rune(s[i])
		}
		tokens = append(tokens, r)
		offsets = append(offsets, i)
		i += n
	}
	return tokens, append(offsets, len(s))
}

// mergeCloseChanges joins neighbouring changes when copying the few bytes
// between them costs more patch text than deleting and re-inserting them.
func mergeCloseChanges(changes []change) []change {
	if len(changes) < 2 {
		return changes
	}
	merged := changes[:1]
	for _, next := range changes[1:] {
		last := &merged[len(merged)-1]
		joined := change{last.oldStart, next.oldEnd, last.newStart, next.newEnd}
		gap := next.oldStart - last.oldEnd
		separate := changeCost(*last) + digits(gap) + 1 + changeCost(next)
		if changeCost(joined) <= separate {
			*last = joined
		} else {
			merged = append(merged, next)
		}
	}
	return merged
}

// changeCost is the patch text a change needs: "N-" and "N+bytes|".
func changeCost(c change) int {
	cost := 0
	if del := c.oldEnd - c.oldStart; del > 0 {
		cost += digits(del) + 1
	}
	if ins := c.newEnd - c.newStart; ins > 0 {
		cost += digits(ins) + 2 + ins
	}
	return cost
}
