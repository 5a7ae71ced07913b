package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"peersync/syncengine"
)

// importBatch is how many documents import commits per transaction.
const importBatch = 1000

func newImportCommand(g *globals) *cobra.Command {
	var f docFlags
	cmd := &cobra.Command{
		Use:   "import [FILE|-]",
		Short: "Import documents from JSON lines (one object per line with an \"_id\")",
		Long: `Import documents from JSON lines: one JSON object per line, its "_id" the
document ID and its other keys the body ("_rev" and "_deleted" are ignored).
Each document is saved as a new revision on top of what is there. Lines
commit in batches of 1000; a bad line stops the import with its line
number, and the batches before it stay saved.`,
		Example: "  peersync import --db notes notes.jsonl\n  peersync export --db a | peersync import --db b",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := g.stdin
			if len(args) == 1 && args[0] != "-" {
				file, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer file.Close()
				in = file
			}
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				n, err := importLines(c, in, newProgress(g, -1, "importing"))
				fmt.Fprintf(g.stdout, "imported %d documents\n", n)
				return err
			})
		},
	}
	f.register(cmd)
	return cmd
}

func importLines(c *syncengine.Collection, in io.Reader, bar *progressbar.ProgressBar) (int, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 32<<20)
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
		if len(sc.Bytes()) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			return total, fmt.Errorf("line %d: not a JSON object: %v", line, err)
		}
		var id string
		if err := json.Unmarshal(obj["_id"], &id); err != nil || id == "" {
			return total, fmt.Errorf("line %d: missing \"_id\" string", line)
		}
		delete(obj, "_id")
		delete(obj, "_rev")
		delete(obj, "_deleted")
		body, _ := json.Marshal(obj)
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
		return total, flush()
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
// a silent one otherwise. total < 0 means unknown.
func newProgress(g *globals, total int64, what string) *progressbar.ProgressBar {
	if f, ok := g.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return progressbar.NewOptions64(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100e6))
	}
	// Invisible, not DefaultSilent: that one keeps a spinner goroutine
	// running until the bar counts as finished, which an unknown length
	// never does.
	return progressbar.NewOptions64(total, progressbar.OptionSetVisibility(false))
}
