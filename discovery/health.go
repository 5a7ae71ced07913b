package discovery

// BrowserHealth says how browsing goes, for diagnosis: whether queries run,
// on which interface, and the last query error.
type BrowserHealth struct {
	Running    bool
	Interface  string // "" for the system's default multicast interface
	QueryError string // the last mDNS query's error; "" when queries work
}

// Health reports how browsing goes. It only reads what the browser already
// knows; it sends nothing.
func (b *Browser) Health() BrowserHealth {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := BrowserHealth{Running: b.started && !b.stopped, QueryError: b.lastErr}
	if b.opts.Interface != nil {
		h.Interface = b.opts.Interface.Name
	}
	return h
}
