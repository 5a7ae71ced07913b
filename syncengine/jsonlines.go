package syncengine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// JSON lines are how documents leave and enter a collection in bulk: one
// JSON object per line, its "_id" the document ID and its other keys the
// body. The CLI's import and export and the desktop app's both use what is
// here, so a file written by one reads back in the other.

// ImportBatchSize is how many documents an import commits per transaction.
const ImportBatchSize = 1000

// MaxJSONLine is the longest line an import reads.
const MaxJSONLine = 32 << 20

// BadLine is an import line that would not save.
type BadLine struct {
	Line int   // 1-based
	Err  error // why
}

func (b BadLine) String() string { return fmt.Sprintf("line %d: %v", b.Line, b.Err) }

// LineCheck is what CheckJSONLines found.
type LineCheck struct {
	Good int       // lines that would save
	Bad  []BadLine // in line order
}

// ParseJSONLine splits an import line into its document ID and body;
// "_rev" and "_deleted" are dropped.
func ParseJSONLine(data []byte) (string, []byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return "", nil, fmt.Errorf("not a JSON object: %v", err)
	}
	var id string
	if err := json.Unmarshal(obj["_id"], &id); err != nil || id == "" {
		return "", nil, errors.New(`missing "_id" string`)
	}
	delete(obj, "_id")
	delete(obj, "_rev")
	delete(obj, "_deleted")
	body, err := json.Marshal(obj)
	return id, body, err
}

func lineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxJSONLine)
	return sc
}

// CheckJSONLines reads every line and reports those that would not save
// (not a JSON object, no "_id", a body the store refuses). It writes
// nothing. Empty lines are neither good nor bad. An error means the input
// could not be read to the end.
func (c *Collection) CheckJSONLines(r io.Reader) (LineCheck, error) {
	var res LineCheck
	sc := lineScanner(r)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		id, body, err := ParseJSONLine(sc.Bytes())
		if err == nil {
			err = c.Validate(id, body)
		}
		if err != nil {
			res.Bad = append(res.Bad, BadLine{line, err})
		} else {
			res.Good++
		}
	}
	if err := sc.Err(); err != nil {
		return LineCheck{}, fmt.Errorf("reading the input: %w (nothing imported)", err)
	}
	return res, nil
}

// ImportOptions qualify ImportJSONLines.
type ImportOptions struct {
	// Skip holds line numbers not to import (the bad ones CheckJSONLines
	// found, when the caller goes on without them).
	Skip map[int]bool
	// Progress, when set, is called with the number of documents imported
	// so far after each batch commits.
	Progress func(imported int)
	// Context, when set, stops the import between batches once done; the
	// batches already committed stay.
	Context context.Context
}

// ImportJSONLines saves each line as a new revision on top of whatever is
// current, ImportBatchSize documents per transaction, and returns how many
// it saved. A bad line not in opts.Skip stops the import there (its batch
// is not committed); check the input first with CheckJSONLines.
func (c *Collection) ImportJSONLines(r io.Reader, opts ImportOptions) (int, error) {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	type pending struct {
		line int
		id   string
		body []byte
	}
	var batch []pending
	total := 0
	flush := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := c.db.Batch(func(b *Batch) error {
			for _, p := range batch {
				if _, err := b.Save(c, p.id, p.body, SaveOptions{LastWriteWins: true}); err != nil {
					return fmt.Errorf("line %d: %w", p.line, err)
				}
			}
			return nil
		})
		if err == nil {
			total += len(batch)
			if opts.Progress != nil {
				opts.Progress(total)
			}
		}
		batch = batch[:0]
		return err
	}
	sc := lineScanner(r)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 || opts.Skip[line] {
			continue
		}
		id, body, err := ParseJSONLine(sc.Bytes())
		if err != nil {
			return total, fmt.Errorf("line %d: %v", line, err)
		}
		batch = append(batch, pending{line, id, body})
		if len(batch) == ImportBatchSize {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return total, err
	}
	if len(batch) > 0 {
		return total, flush()
	}
	return total, nil
}

// ExportOptions qualify ExportJSONLines.
type ExportOptions struct {
	// Progress, when set, is called with the number of documents written
	// so far after each page of them.
	Progress func(written int)
	// Context, when set, stops the export between pages once done.
	Context context.Context
}

// ExportJSONLines writes every live document as a line: "_id", "_rev",
// then the body's keys. It returns how many it wrote.
func (c *Collection) ExportJSONLines(w io.Writer, opts ExportOptions) (int, error) {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	bw := bufio.NewWriter(w)
	n, after := 0, ""
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		docs, err := c.List(ListOptions{StartAfter: after, Limit: 1000})
		if err != nil || len(docs) == 0 {
			if ferr := bw.Flush(); err == nil {
				err = ferr
			}
			return n, err
		}
		for _, d := range docs {
			writeJSONLine(bw, d)
		}
		if err := bw.Flush(); err != nil { // also the writer's error so far
			return n, err
		}
		n += len(docs)
		if opts.Progress != nil {
			opts.Progress(n)
		}
		after = docs[len(docs)-1].ID
	}
}

func writeJSONLine(w *bufio.Writer, d *Document) {
	id, _ := json.Marshal(d.ID)
	fmt.Fprintf(w, `{"_id":%s,"_rev":%q`, id, d.RevID)
	if len(d.Body) > 2 { // not "{}"
		w.WriteByte(',')
		w.Write(d.Body[1:])
	} else {
		w.WriteByte('}')
	}
	w.WriteByte('\n')
}
