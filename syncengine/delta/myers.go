package delta

// myers finds a shortest edit script from a to b with Myers' O(ND) greedy
// algorithm, giving up (ok=false) if more than maxEdits insertions plus
// deletions are needed. The script lists changed regions in token indices.
func myers(a, b []rune, maxEdits int) (script []change, ok bool) {
	n, m := len(a), len(b)
	if n-m > maxEdits || m-n > maxEdits {
		return nil, false
	}
	offset := maxEdits + 1
	v := make([]int32, 2*maxEdits+3) // v[k+offset]: furthest x on diagonal k
	// trace holds v[-d..d] after each step d, laid out back to back: step d
	// starts at d*d. Backtracking reads it to recover the path.
	var trace []int32
	final := -1
	for d := 0; d <= maxEdits; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[k-1+offset] < v[k+1+offset]) {
				x = int(v[k+1+offset]) // step down: insert b[y]
			} else {
				x = int(v[k-1+offset]) + 1 // step right: delete a[x]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[k+offset] = int32(x)
		}
		trace = append(trace, v[offset-d:offset+d+1]...)
		// Diagonal n-m holds this step's value only when its parity matches d.
		if k := n - m; k >= -d && k <= d && (k+d)&1 == 0 && int(v[k+offset]) >= n {
			final = d
			break
		}
	}
	if final < 0 {
		return nil, false
	}

	// Walk back from (n, m), collecting single-token edits in reverse.
	type edit struct {
		insert bool
		x, y   int // position in a and b before the edit
	}
	edits := make([]edit, 0, final)
	x, y := n, m
	for d := final; d > 0; d-- {
		prev := trace[(d-1)*(d-1) : d*d] // v[-(d-1)..d-1] after step d-1
		at := func(k int) int { return int(prev[k+d-1]) }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		if prevK == k+1 {
			edits = append(edits, edit{insert: true, x: prevX, y: prevY})
		} else {
			edits = append(edits, edit{insert: false, x: prevX, y: prevY})
		}
		x, y = prevX, prevY
	}

	// Replay forwards, grouping edits with no equal tokens between them.
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		endX, endY := e.x, e.y
		if e.insert {
			endY++
		} else {
			endX++
		}
		if len(script) > 0 {
			last := &script[len(script)-1]
			if last.oldEnd == e.x && last.newEnd == e.y {
				last.oldEnd, last.newEnd = endX, endY
				continue
			}
		}
		script = append(script, change{e.x, endX, e.y, endY})
	}
	return script, true
}
