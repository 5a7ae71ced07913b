package blip

import "slices"

// outMsg is an outgoing message being cut into frames.
type outMsg struct {
	key   msgKey
	flags uint8 // type and message flags; MoreComing is added per frame
	head  []byte
	body  []byte
	pos   int // message bytes already framed

	flowSent int // bytes counted against flow control
	acked    int // highest byte count the peer acknowledged
	started  bool
	paused   bool
}

func (m *outMsg) size() int      { return len(m.head) + len(m.body) }
func (m *outMsg) remaining() int { return m.size() - m.pos }
func (m *outMsg) urgent() bool   { return m.flags&flagUrgent != 0 }

// chunk returns the next n message bytes as up to two slices (head and body)
// and advances pos.
func (m *outMsg) chunk(n int) (a, b []byte) {
	if m.pos < len(m.head) {
		a = m.head[m.pos:min(len(m.head), m.pos+n)]
	}
	if rest := n - len(a); rest > 0 {
		off := m.pos + len(a) - len(m.head)
		b = m.body[off : off+rest]
	}
	m.pos += n
	return a, b
}

// needsPause reports whether flow control says to stop sending m until an ACK.
func (m *outMsg) needsPause() bool { return m.flowSent-m.acked > maxUnackedBytes }

// outbox orders outgoing messages: round-robin, urgent ones ahead of normal
// ones without starving them, and messages begun in the order queued.
type outbox struct {
	queue  []*outMsg
	store  []*outMsg // backing array, reused whenever the queue empties
	urgent int       // urgent messages in queue
}

// push adds m. first is true when m has never been queued before.
func (q *outbox) push(m *outMsg, first bool) {
	if len(q.queue) == 0 && q.store != nil {
		q.queue = q.store[:0]
	}
	idx := len(q.queue)
	if m.urgent() {
		idx = q.urgentSlot()
		if first {
			// Messages must begin in order: go after any not yet started.
			for i := len(q.queue) - 1; i >= idx; i-- {
				if !q.queue[i].started {
					idx = i + 1
					break
				}
			}
		}
		q.urgent++
	}
	q.queue = slices.Insert(q.queue, idx, m)
	if cap(q.queue) > cap(q.store) {
		q.store = q.queue[:0]
	}
}

// urgentSlot is where a newly ready urgent message goes: after the last
// urgent message and then after one normal message, so normal ones still move.
func (q *outbox) urgentSlot() int {
	last := -1
	for i := len(q.queue) - 1; i >= 0; i-- {
		if q.queue[i].urgent() {
			last = i
			break
		}
	}
	return min(last+2, len(q.queue))
}

// pop removes and returns the head of the queue, or nil.
func (q *outbox) pop() *outMsg {
	if len(q.queue) == 0 {
		return nil
	}
	m := q.queue[0]
	q.queue[0] = nil
	q.queue = q.queue[1:]
	if m.urgent() {
		q.urgent--
	}
	return m
}

// frameSize is how many message bytes m's next frame may carry.
func (q *outbox) frameSize(m *outMsg) int {
	if !m.urgent() && q.urgent > 0 {
		return urgentFrameSize
	}
	return maxFrameSize
}
