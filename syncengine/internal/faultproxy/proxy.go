package faultproxy

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Stats count what the proxy did.
type Stats struct {
	Accepted int64 // connections accepted
	Dropped  int64 // connections the proxy cut on purpose
	Bytes    int64 // bytes forwarded in both directions
}

// Proxy forwards TCP connections from its own address to a target.
type Proxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	cond     *sync.Cond // signalled when stall is lifted or the proxy closes
	conns    map[*pipe]struct{}
	rng      *rand.Rand
	dropMin  int64
	dropMax  int64
	split    int
	delay    time.Duration
	stalled  bool
	refusing bool
	closed   bool

	accepted, dropped, bytes atomic.Int64
	wg                       sync.WaitGroup
}

// New listens on 127.0.0.1:0 and forwards every connection to target
// (host:port). seed makes the random choices repeatable.
func New(target string, seed uint64) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[*pipe]struct{}{}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetTarget changes where new connections go.
func (p *Proxy) SetTarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// SetRandomDrops cuts each new connection after a random number of
// forwarded bytes between min and max; max 0 turns drops off.
func (p *Proxy) SetRandomDrops(min, max int64) {
	p.mu.Lock()
	p.dropMin, p.dropMax = min, max
	p.mu.Unlock()
}

// SetSplit cuts every forwarded write into pieces of 1..n bytes (0 = whole).
func (p *Proxy) SetSplit(n int) {
	p.mu.Lock()
	p.split = n
	p.mu.Unlock()
}

// SetDelay waits d before forwarding each piece.
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// SetStall stops (true) or resumes (false) forwarding in both directions on
// every connection, without closing anything: a peer that stops answering.
func (p *Proxy) SetStall(on bool) {
	p.mu.Lock()
	p.stalled = on
	p.mu.Unlock()
	p.cond.Broadcast()
}

// SetRefuse makes the proxy close new connections at once.
func (p *Proxy) SetRefuse(on bool) {
	p.mu.Lock()
	p.refusing = on
	p.mu.Unlock()
}

// DropAll cuts every open connection and returns how many there were.
func (p *Proxy) DropAll() int {
	p.mu.Lock()
	list := make([]*pipe, 0, len(p.conns))
	for c := range p.conns {
		list = append(list, c)
	}
	p.mu.Unlock()
	for _, c := range list {
		c.drop(p)
	}
	return len(list)
}

// Open returns how many connections are open.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	return Stats{Accepted: p.accepted.Load(), Dropped: p.dropped.Load(), Bytes: p.bytes.Load()}
}

// Close stops listening, cuts every connection and waits for them.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cond.Broadcast()
	err := p.ln.Close()
	for c := range p.snapshot() {
		c.close()
	}
	p.wg.Wait()
	return err
}

func (p *Proxy) snapshot() map[*pipe]struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[*pipe]struct{}, len(p.conns))
	for c := range p.conns {
		m[c] = struct{}{}
	}
	return m
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.accepted.Add(1)
		p.mu.Lock()
		refusing, target := p.refusing || p.closed, p.target
		p.mu.Unlock()
		if refusing {
			down.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(down, target)
	}
}

// pipe is one proxied connection.
type pipe struct {
	down, up net.Conn
	budget   atomic.Int64 // bytes left before a random drop; <0 = no drop
	once     sync.Once
}

func (c *pipe) close() {
	c.once.Do(func() {
		c.down.Close()
		c.up.Close()
	})
}

func (c *pipe) drop(p *Proxy) {
	dropped := false
	c.once.Do(func() {
		dropped = true
		// RST rather than FIN: the peers see the connection vanish.
		if tc, ok := c.down.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		if tc, ok := c.up.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.down.Close()
		c.up.Close()
	})
	if dropped {
		p.dropped.Add(1)
	}
}

func (p *Proxy) serve(down net.Conn, target string) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		down.Close()
		return
	}
	c := &pipe{down: down, up: up}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.close()
		return
	}
	c.budget.Store(-1)
	if p.dropMax > 0 {
		c.budget.Store(p.dropMin + p.rng.Int64N(max(p.dropMax-p.dropMin, 0)+1))
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.copy(c, up, down) }()
	go func() { defer wg.Done(); p.copy(c, down, up) }()
	wg.Wait()
	c.close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// copy forwards src to dst, applying the faults, until either side fails.
// A clean EOF is passed on as a half-close; anything else ends both ways.
func (p *Proxy) copy(c *pipe, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.forward(c, dst, buf[:n]) {
			c.close()
			return
		}
		if err == io.EOF {
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
				return
			}
		}
		if err != nil {
			c.close()
			return
		}
	}
}

// forward writes data in pieces, honouring stall, delay and the drop budget.
// It returns false when the connection is finished.
func (p *Proxy) forward(c *pipe, dst net.Conn, data []byte) bool {
	for len(data) > 0 {
		p.mu.Lock()
		for p.stalled && !p.closed {
			p.cond.Wait()
		}
		closed, split, delay := p.closed, p.split, p.delay
		piece := len(data)
		if split > 0 {
			piece = min(piece, 1+p.rng.IntN(split))
		}
		p.mu.Unlock()
		if closed {
			return false
		}
		if delay > 0 {
			time.Sleep(delay)
		}
		if b := c.budget.Load(); b >= 0 {
			if int64(piece) >= b {
				if b > 0 {
					dst.Write(data[:b]) // the drop lands mid-write
				}
				c.drop(p)
				return false
			}
			c.budget.Add(-int64(piece))
		}
		n, err := dst.Write(data[:piece])
		p.bytes.Add(int64(n))
		if err != nil {
			return false
		}
		data = data[piece:]
	}
	return true
}
