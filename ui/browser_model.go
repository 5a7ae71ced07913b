package ui

import (
	"fmt"
	"slices"

	"peersync/syncengine"
)

// pageSize is how many documents the browser lists at a time.
const pageSize = 100

// pager pages through a collection in ID order with an optional ID prefix.
// It remembers where each page starts, so Previous needs no backwards scan.
type pager struct {
	size    int
	prefix  string
	starts  []string // starts[i] is the ID page i starts after ("" for page 0)
	page    int
	hasNext bool
}

func newPager(size int) *pager { return &pager{size: size, starts: []string{""}} }

// options are the List options for the current page: one extra document
// tells whether there is a next page.
func (p *pager) options() syncengine.ListOptions {
	return syncengine.ListOptions{Prefix: p.prefix, StartAfter: p.starts[p.page], Limit: p.size + 1}
}

// clone copies the pager so a background load can work on its own copy.
func (p *pager) clone() *pager {
	c := *p
	c.starts = slices.Clone(p.starts)
	return &c
}

// fetch lists the current page. When a later page has emptied (documents
// deleted elsewhere) it steps back to the last page with documents.
func (p *pager) fetch(list func(syncengine.ListOptions) ([]*syncengine.Document, error)) ([]*syncengine.Document, error) {
	for {
		docs, err := list(p.options())
		if err != nil {
			return nil, err
		}
		p.hasNext = len(docs) > p.size
		if p.hasNext {
			docs = docs[:p.size]
			p.starts = append(p.starts[:p.page+1], docs[len(docs)-1].ID)
		}
		if len(docs) > 0 || p.page == 0 {
			return docs, nil
		}
		p.page--
	}
}

func (p *pager) next() bool {
	if !p.hasNext {
		return false
	}
	p.page++
	return true
}

func (p *pager) prev() bool {
	if p.page == 0 {
		return false
	}
	p.page--
	return true
}

// setPrefix starts over at page 0 for a new search.
func (p *pager) setPrefix(prefix string) {
	p.prefix, p.page, p.starts, p.hasNext = prefix, 0, []string{""}, false
}

// label says which documents the page shows, of total live documents in
// the collection (the range says which page it is).
func (p *pager) label(shown, total int) string {
	if shown == 0 {
		if p.prefix != "" {
			return fmt.Sprintf("None of %d starts with “%s”", total, p.prefix)
		}
		return "No documents"
	}
	first := p.page*p.size + 1
	if p.prefix != "" {
		return fmt.Sprintf("Documents %d–%d starting with “%s” (of %d)", first, first+shown-1, p.prefix, total)
	}
	return fmt.Sprintf("Documents %d–%d of %d", first, first+shown-1, total)
}
