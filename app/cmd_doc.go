package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"peersync/syncengine"
	"peersync/syncengine/hlv"
)

// docFlags are shared by the doc subcommands.
type docFlags struct {
	db, collection, rev string
	asJSON              bool
}

func (f *docFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", "", "database name (required)")
	cmd.Flags().StringVar(&f.collection, "collection", syncengine.DefaultCollection, "collection as scope.name")
	cmd.MarkFlagRequired("db")
}

func (g *globals) withCollection(f *docFlags, fn func(*syncengine.Collection) error) error {
	return g.withDatabase(f.db, func(db *syncengine.Database) error {
		c, err := db.Collection(f.collection)
		if err != nil {
			return err
		}
		return fn(c)
	})
}

func newDocCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "doc", Short: "Put, get, delete, purge and list documents"}
	var f docFlags

	put := &cobra.Command{
		Use:   "put ID [FILE|-]",
		Short: "Save a JSON object as a new revision (body from FILE or stdin)",
		Long: `Save a JSON object as the document's new revision. Without --rev the
save goes on top of whatever is current (last write wins); with --rev it
fails with a conflict if the document has moved on since that revision.`,
		Example: "  peersync doc put --db notes n1 note.json\n  echo '{\"title\":\"hi\"}' | peersync doc put --db notes n1",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readBody(g, args[1:])
			if err != nil {
				return err
			}
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				d, err := c.Save(args[0], body, syncengine.SaveOptions{ParentRev: f.rev, LastWriteWins: f.rev == ""})
				if err != nil {
					return err
				}
				fmt.Fprintln(g.stdout, d.RevID)
				return nil
			})
		},
	}
	get := &cobra.Command{
		Use:     "get ID",
		Short:   "Print a document's body (the winning revision, or --rev)",
		Example: "  peersync doc get --db notes n1\n  peersync doc get --db notes n1 --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				var body []byte
				rev, deleted := f.rev, false
				if f.rev != "" {
					var err error
					if body, deleted, err = c.GetRevision(args[0], f.rev); err != nil {
						return err
					}
				} else {
					d, err := c.Get(args[0])
					if err != nil {
						return err
					}
					body, rev = d.Body, d.RevID
				}
				if f.asJSON {
					return printJSON(g, map[string]any{"id": args[0], "rev": rev, "deleted": deleted, "body": json.RawMessage(body)})
				}
				var out bytes.Buffer
				json.Indent(&out, body, "", "  ")
				fmt.Fprintln(g.stdout, out.String())
				return nil
			})
		},
	}
	del := &cobra.Command{
		Use:     "delete ID",
		Short:   "Delete a document (a tombstone revision that replicates)",
		Example: "  peersync doc delete --db notes n1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				d, err := c.Delete(args[0], f.rev)
				if err == nil {
					fmt.Fprintln(g.stdout, d.RevID)
				}
				return err
			})
		},
	}
	purge := &cobra.Command{
		Use:     "purge ID",
		Short:   "Remove a document and its history locally (does not replicate)",
		Example: "  peersync doc purge --db notes n1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withCollection(&f, func(c *syncengine.Collection) error { return c.Purge(args[0]) })
		},
	}
	var prefix, after string
	var limit int
	list := &cobra.Command{
		Use:     "list",
		Short:   "List document IDs and revisions in ID order",
		Example: "  peersync doc list --db notes --prefix user: --limit 50",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				docs, err := c.List(syncengine.ListOptions{Prefix: prefix, StartAfter: after, Limit: limit})
				if err != nil {
					return err
				}
				if f.asJSON {
					out := make([]map[string]any, 0, len(docs))
					for _, d := range docs {
						out = append(out, map[string]any{"id": d.ID, "rev": d.RevID, "conflicted": d.Conflicted})
					}
					return printJSON(g, out)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				for _, d := range docs {
					mark := ""
					if d.Conflicted {
						mark = "\tconflict"
					}
					fmt.Fprintf(tw, "%s\t%s%s\n", d.ID, d.RevID, mark)
				}
				return tw.Flush()
			})
		},
	}
	history := &cobra.Command{
		Use:     "history ID",
		Short:   "Show a document's revision tree, with each revision's version vector",
		Example: "  peersync doc history --db notes n1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				d, err := c.GetWithTombstone(args[0])
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "REVISION\tPARENT\tVERSION\tSTATE")
				revs := d.Tree.Revs()
				for i := len(revs) - 1; i >= 0; i-- {
					r := revs[i]
					state := ""
					if d.Tree.IsLeaf(r.ID) {
						state = "leaf"
					}
					if r.Deleted {
						state += " deleted"
					}
					if r.ID == d.RevID {
						state += " winner"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Parent, versionText(d.VectorOf(r.ID)), strings.TrimSpace(state))
				}
				return tw.Flush()
			})
		},
	}
	var resolved bool
	var restore, dismiss uint64
	conflicts := &cobra.Command{
		Use:   "conflicts [ID]",
		Short: "List documents in conflict, or show one document's competing revisions",
		Long: `List documents in conflict, or show one document's competing revisions.

With --resolved, list the conflicts replications resolved automatically
(newest first: record number, time, document, the rule that decided, the
losing revision), kept for [storage] keep_resolved_conflicts (30 days by
default). --restore N makes record N's losing revision the document's
current one, as a new edit that replicates; --dismiss N forgets record N.`,
		Example: "  peersync doc conflicts --db notes\n  peersync doc conflicts --db notes n1\n" +
			"  peersync doc conflicts --db notes --resolved\n  peersync doc conflicts --db notes --restore 7",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if resolved || restore != 0 || dismiss != 0 {
				return g.withDatabase(f.db, func(db *syncengine.Database) error {
					return resolvedCommand(g, db, restore, dismiss)
				})
			}
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				if len(args) == 0 {
					ids, err := c.Conflicts()
					for _, id := range ids {
						fmt.Fprintln(g.stdout, id)
					}
					return err
				}
				d, err := c.GetWithTombstone(args[0])
				if err != nil {
					return err
				}
				for _, l := range d.Tree.Leaves() {
					if !l.Deleted {
						fmt.Fprintf(g.stdout, "%s %s %s\n", l.ID, versionText(d.VectorOf(l.ID)), l.Body)
					}
				}
				return nil
			})
		},
	}
	conflicts.Flags().BoolVar(&resolved, "resolved", false, "list conflicts resolved automatically")
	conflicts.Flags().Uint64Var(&restore, "restore", 0, "restore the losing revision of resolved conflict N")
	conflicts.Flags().Uint64Var(&dismiss, "dismiss", 0, "forget resolved conflict N")
	conflicts.MarkFlagsMutuallyExclusive("restore", "dismiss")
	for _, c := range []*cobra.Command{put, get, del, purge, list, history, conflicts} {
		f.register(c)
	}
	for _, c := range []*cobra.Command{put, get, del} {
		c.Flags().StringVar(&f.rev, "rev", "", "revision ID")
	}
	for _, c := range []*cobra.Command{get, list} {
		c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	}
	list.Flags().StringVar(&prefix, "prefix", "", "only IDs with this prefix")
	list.Flags().StringVar(&after, "after", "", "start after this ID (paging)")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many (0 = all)")
	cmd.AddCommand(put, get, del, purge, list, history, conflicts)
	return cmd
}

// resolvedCommand lists, restores or dismisses recorded resolutions.
func resolvedCommand(g *globals, db *syncengine.Database, restore, dismiss uint64) error {
	switch {
	case restore != 0:
		d, err := db.RestoreResolution(restore)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "restored %s at %s\n", d.ID, d.RevID)
		return nil
	case dismiss != 0:
		return db.DismissResolution(dismiss)
	}
	rs, err := db.Resolutions(0)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "N\tWHEN\tDOCUMENT\tRULE\tLOST")
	for _, r := range rs {
		doc := r.DocID
		if r.Collection != syncengine.DefaultCollection {
			doc = r.Collection + "/" + r.DocID
		}
		if full, err := db.Resolution(r.ID); err == nil {
			r = full
		}
		lost := string(r.LoserBody)
		if r.LoserDeleted {
			lost = "(deletion)"
		}
		if r := []rune(lost); len(r) > 60 {
			lost = string(r[:57]) + "..."
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s %s\n", r.ID, r.At.Local().Format("2006-01-02 15:04:05"), doc, r.Rule, r.Loser, lost)
	}
	return tw.Flush()
}

// readBody reads FILE, or stdin when FILE is absent or "-".
func readBody(g *globals, args []string) ([]byte, error) {
	if len(args) == 0 || args[0] == "-" {
		return io.ReadAll(io.LimitReader(g.stdin, 64<<20))
	}
	return os.ReadFile(args[0])
}

// versionText shows a revision's version vector, or "legacy" for one that
// has only the version derived from its revision ID (made before version
// vectors, or received over CBMobile_3).
func versionText(v hlv.Vector) string {
	if v.IsZero() || v.Current.IsLegacy() {
		return "legacy"
	}
	return v.String()
}
