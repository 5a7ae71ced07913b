package app

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"peersync/syncengine"
)

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
				check, err := c.CheckJSONLines(in)
				if err != nil {
					return err
				}
				bad := check.Bad
				if len(bad) > 0 && !keepGoing {
					return badLinesError(bad)
				}
				for _, b := range bad {
					fmt.Fprintf(g.stderr, "peersync: skipped %s\n", b)
				}
				if _, err := src.Seek(0, io.SeekStart); err != nil {
					return err
				}
				skip := map[int]bool{}
				for _, b := range bad {
					skip[b.Line] = true
				}
				bar := newProgress(g, -1, "importing", progressbar.OptionShowCount())
				defer bar.Finish() // stops a terminal's spinner on failure too
				n, err := c.ImportJSONLines(src, syncengine.ImportOptions{Skip: skip, Progress: func(n int) { bar.Set(n) }})
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

// badLinesError names the first bad lines in one line.
func badLinesError(bad []syncengine.BadLine) error {
	const shown = 10
	msgs := make([]string, 0, shown)
	for _, b := range bad[:min(len(bad), shown)] {
		msgs = append(msgs, b.String())
	}
	more := ""
	if len(bad) > shown {
		more = fmt.Sprintf("; and %d more", len(bad)-shown)
	}
	return fmt.Errorf("%d bad lines, nothing imported (--keep-going skips them): %s%s", len(bad), strings.Join(msgs, "; "), more)
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
				_, err := c.ExportJSONLines(g.stdout, syncengine.ExportOptions{})
				return err
			})
		},
	}
	f.register(cmd)
	return cmd
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
