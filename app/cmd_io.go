package app

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"peersync/syncengine"
)

// importBatch is how many documents import commits per transaction.
const importBatch = 1000

func newImportCommand(g *globals) *cobra.Command {
	var f docFlags
	var keepGoing bool
	cmd := &cobra.Command{
		Use:   "import [FILE|-]",
		Short: "Import documents from JSON lines (one object per line with an \"_id\")",
		Long: `Import documents from JSON lines: one JSON object per line, its "_id" the
document ID and its other keys the body ("_rev" and "_deleted" are ignored).
Each document is saved as a new revision on top of what is there.

The whole input is checked first: when any line is bad, nothing is imported
and the error names the bad lines. With --keep-going, bad lines are skipped
(each named on stderr) and the good ones imported. Lines commit in batches
of 1000.`,
		Example: "  peersync import --db notes notes.jsonl\n  peersync export --db a | peersync import --db b\n  peersync import --db notes --keep-going messy.jsonl",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = g.stdin
			if len(args) == 1 && args[0] != "-" {
				file, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer file.Close()
				in = file
			}
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				// Two passes over the input: check every line, then write.
				// Standard input is kept in a temporary file for the second.
				src, ok := in.(io.ReadSeeker)
				if !ok {
					spool, err := os.CreateTemp("", "peersync-import-*.jsonl")
					if err != nil {
						return err
					}
					defer os.Remove(spool.Name())
					defer spool.Close()
					in, src = io.TeeReader(in, spool), spool
				}
				bad, err := checkImport(c, in)
				if err != nil {
					return err
				}
				if len(bad) > 0 && !keepGoing {
					return badLinesError(bad)
				}
				for _, b := range bad {
					fmt.Fprintf(g.stderr, "peersync: skipped %s\n", b.msg)
				}
				if _, err := src.Seek(0, io.SeekStart); err != nil {
					return err
				}
				skip := map[int]bool{}
				for _, b := range bad {
					skip[b.line] = true
				}
				bar := newProgress(g, -1, "importing", progressbar.OptionShowCount())
				defer bar.Finish() // stops a terminal's spinner on failure too
				n, err := importLines(c, src, skip, bar)
				if len(bad) > 0 {
					fmt.Fprintf(g.stdout, "imported %d documents, skipped %d bad lines\n", n, len(bad))
				} else {
					fmt.Fprintf(g.stdout, "imported %d documents\n", n)
				}
				return err
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&keepGoing, "keep-going", false, "skip bad lines (naming each) instead of importing nothing")
	return cmd
}

// badLine is an import line that would not save.
type badLine struct {
	line int
	msg  string // "line N: why"
}

// badLinesError names the first bad lines in one line.
func badLinesError(bad []badLine) error {
	const shown = 10
	msgs := make([]string, 0, shown)
	for _, b := range bad[:min(len(bad), shown)] {
		msgs = append(msgs, b.msg)
	}
	more := ""
	if len(bad) > shown {
		more = fmt.Sprintf("; and %d more", len(bad)-shown)
	}
	return fmt.Errorf("%d bad lines, nothing imported (--keep-going skips them): %s%s", len(bad), strings.Join(msgs, "; "), more)
}

// importScanner reads JSON lines of up to 32 MiB.
func importScanner(in io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 32<<20)
	return sc
}

// parseImportLine splits a line into its document ID and body.
func parseImportLine(data []byte) (string, []byte, error) {
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

// checkImport reads every line and returns those that would not save. It
// writes nothing and keeps no documents.
func checkImport(c *syncengine.Collection, in io.Reader) ([]badLine, error) {
	var bad []badLine
	sc := importScanner(in)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		id, body, err := parseImportLine(sc.Bytes())
		if err == nil {
			err = c.Validate(id, body)
		}
		if err != nil {
			bad = append(bad, badLine{line, fmt.Sprintf("line %d: %v", line, err)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the input: %w (nothing imported)", err)
	}
	return bad, nil
}

func importLines(c *syncengine.Collection, in io.Reader, skip map[int]bool, bar *progressbar.ProgressBar) (int, error) {
	sc := importScanner(in)
	type pending struct {
		line int
		id   string
		body []byte
	}
	var batch []pending
	total := 0
	flush := func() error {
		err := c.Database().Batch(func(b *syncengine.Batch) error {
			for _, p := range batch {
				if _, err := b.Save(c, p.id, p.body, syncengine.SaveOptions{LastWriteWins: true}); err != nil {
					return fmt.Errorf("line %d: %w", p.line, err)
				}
			}
			return nil
		})
		if err == nil {
			total += len(batch)
			bar.Add(len(batch))
		}
		batch = batch[:0]
		return err
	}
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 || skip[line] {
			continue
		}
		id, body, err := parseImportLine(sc.Bytes())
		if err != nil {
			return total, fmt.Errorf("line %d: %v", line, err)
		}
		batch = append(batch, pending{line, id, body})
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return total, err
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return total, err
		}
	}
	bar.Finish()
	return total, nil
}

func newExportCommand(g *globals) *cobra.Command {
	var f docFlags
	cmd := &cobra.Command{
		Use:     "export",
		Short:   "Export live documents as JSON lines (\"_id\", \"_rev\", then the body)",
		Example: "  peersync export --db notes > notes.jsonl",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				w := bufio.NewWriter(g.stdout)
				after := ""
				for {
					docs, err := c.List(syncengine.ListOptions{StartAfter: after, Limit: 1000})
					if err != nil || len(docs) == 0 {
						return joinFlush(w, err)
					}
					for _, d := range docs {
						if err := writeExportLine(w, d); err != nil {
							return err
						}
					}
					after = docs[len(docs)-1].ID
				}
			})
		},
	}
	f.register(cmd)
	return cmd
}

func writeExportLine(w *bufio.Writer, d *syncengine.Document) error {
	id, _ := json.Marshal(d.ID)
	fmt.Fprintf(w, `{"_id":%s,"_rev":%q`, id, d.RevID)
	if len(d.Body) > 2 { // not "{}"
		w.WriteByte(',')
		w.Write(d.Body[1:])
	} else {
		w.WriteByte('}')
	}
	return w.WriteByte('\n')
}

func joinFlush(w *bufio.Writer, err error) error {
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// newProgress returns a progress bar on stderr when it is a terminal, and
// a silent one otherwise. total < 0 means unknown; extra adds options
// (such as showing the count) to the terminal's bar.
func newProgress(g *globals, total int64, what string, extra ...progressbar.Option) *progressbar.ProgressBar {
	if f, ok := g.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts := append([]progressbar.Option{progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(what),
			progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100e6)}, extra...)
		return progressbar.NewOptions64(total, opts...)
	}
	// Invisible, not DefaultSilent: with an unknown total that one starts a
	// spinner goroutine that races with Finish.
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(io.Discard), progressbar.OptionSetVisibility(false))
}
