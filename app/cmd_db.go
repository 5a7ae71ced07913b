package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"peersync/service"
	"peersync/syncengine"
)

func newDBCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Create, list, inspect, compact, check, salvage and delete databases"}
	var asJSON bool
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create an empty database",
		Example: "  peersync db create notes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *syncengine.Engine) error {
				_, err := e.CreateDatabase(args[0])
				if err == nil {
					fmt.Fprintf(g.stdout, "created database %s\n", args[0])
				}
				return err
			})
		},
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List databases with document counts and sizes; a damaged one is marked damaged",
		Example: "  peersync db list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withEngine(func(e *syncengine.Engine) error {
				names, err := e.DatabaseNames()
				if err != nil {
					return err
				}
				entries := make([]dbListEntry, 0, len(names))
				for _, n := range names {
					info, err := databaseInfo(e, n)
					entry := dbListEntry{Info: info}
					if errors.Is(err, syncengine.ErrDamaged) {
						// Listed, so it can be checked, salvaged or deleted.
						entry.Info = syncengine.Info{Name: n, Path: filepath.Join(e.DataDir(), n+".peersync")}
						if fi, serr := os.Stat(entry.Path); serr == nil {
							entry.Size = fi.Size()
						}
						entry.Damaged, entry.Error = true, err.Error()
					} else if err != nil {
						return err
					}
					entries = append(entries, entry)
				}
				if asJSON {
					return printJSON(g, entries)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tDOCUMENTS\tSIZE")
				for _, i := range entries {
					count := strconv.Itoa(i.DocumentCount)
					if i.Damaged {
						count = "damaged"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", i.Name, count, service.FormatBytes(i.Size))
				}
				return tw.Flush()
			})
		},
	}
	info := &cobra.Command{
		Use:     "info NAME",
		Short:   "Show a database's UUID, source ID, collections, document count and size",
		Example: "  peersync db info notes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *syncengine.Engine) error {
				i, err := databaseInfo(e, args[0])
				if err != nil {
					return err
				}
				db, err := e.OpenDatabase(args[0])
				if err != nil {
					return err
				}
				out := dbInfo{Info: i, SourceID: db.Store().SourceID().String()}
				if asJSON {
					return printJSON(g, out)
				}
				fmt.Fprintf(g.stdout, "name:        %s\nuuid:        %s\nsource ID:   %s\npath:        %s\nsize:        %s\ndocuments:   %d\ncollections: %v\n",
					i.Name, i.UUID, out.SourceID, i.Path, service.FormatBytes(i.Size), i.DocumentCount, i.Collections)
				return nil
			})
		},
	}
	del := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a database and its file",
		Example: "  peersync db delete notes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *syncengine.Engine) error {
				err := e.DeleteDatabase(args[0])
				if err == nil {
					fmt.Fprintf(g.stdout, "deleted database %s\n", args[0])
				}
				return err
			})
		},
	}
	compact := &cobra.Command{
		Use:     "compact NAME",
		Short:   "Remove unreferenced blobs and shrink the file",
		Example: "  peersync db compact notes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withDatabase(args[0], func(db *syncengine.Database) error {
				before := db.Store().Size()
				n, err := db.Compact()
				if err == nil {
					fmt.Fprintf(g.stdout, "compacted %s: %s → %s, %d unused blobs removed\n", args[0], service.FormatBytes(before), service.FormatBytes(db.Store().Size()), n)
				}
				return err
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	info.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(create, list, info, del, compact, newDBCheckCommand(g), newDBSalvageCommand(g))
	return cmd
}

// dbInfo is what `db info` shows: the engine's Info and the source ID that
// names the database's versions in version vectors.
type dbInfo struct {
	syncengine.Info
	SourceID string
}

// dbListEntry is a line of `db list`: a damaged database has only its name,
// path and size, and says why it is damaged.
type dbListEntry struct {
	syncengine.Info
	Damaged bool
	Error   string `json:",omitempty"`
}

func newDBCheckCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check NAME",
		Short: "Check a database file for damage (exit status 1 when damaged)",
		Long: `Check a database file: bbolt's consistency check over its pages, then the
store's own check of every document, change-feed entry, local document and
blob. Prints one line; with --json, the whole report. Exits 1 when the
database is damaged. The file is not changed.`,
		Example: "  peersync db check notes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			return g.withEngine(func(e *syncengine.Engine) error {
				bar := newProgress(g, -1, "checking "+name, progressbar.OptionShowCount())
				rep, err := e.CheckDatabase(name, func(phase string, done, total int64) {
					if total > 0 {
						bar.ChangeMax64(total)
					}
					bar.Describe("checking " + name + ": " + phase)
					bar.Set64(done)
				})
				bar.Finish()
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(g, rep); err != nil {
						return err
					}
				}
				if rep.Damaged() {
					more := ""
					if n := len(rep.Problems); n > 1 {
						more = fmt.Sprintf(" (and %d more problems; --json lists them)", n-1)
					}
					return &syncengine.DamagedError{Database: name, Err: errors.New(rep.Problems[0] + more)}
				}
				if !asJSON {
					fmt.Fprintf(g.stdout, "database %s is sound: %d documents, %d pages checked\n", name, rep.Documents, rep.Pages)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func newDBSalvageCommand(g *globals) *cobra.Command {
	var into string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "salvage NAME [--into NEW]",
		Short: "Copy what can be read from a damaged database into a new one",
		Long: `Copy every document (with its revision tree), local document and blob that
can still be read from database NAME into a new database (NAME-salvaged
unless --into names it), skipping what cannot be read, and print what was
lost. The damaged file is not changed; delete it once the copy is as good
as it gets. The copy has a new identity, so peers send it everything again,
which brings back from them what was lost here.`,
		Example: "  peersync db salvage notes\n  peersync db salvage notes --into notes2 && peersync db delete notes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			return g.withEngine(func(e *syncengine.Engine) error {
				rep, err := e.SalvageDatabase(name, into)
				if errors.Is(err, syncengine.ErrDamaged) {
					// Not a DamagedError: its advice is this command.
					return fmt.Errorf("%s; nothing was copied (\"peersync db delete %s\" removes it)", err, name)
				}
				if err != nil {
					return err
				}
				if into == "" {
					into = name + "-salvaged"
				}
				if asJSON {
					return printJSON(g, rep)
				}
				recovered := ""
				if rep.Recovered > 0 {
					recovered = fmt.Sprintf(" (%d of them found on pages cut off from the tree: perhaps older versions)", rep.Recovered)
				}
				fmt.Fprintf(g.stdout, "salvaged %s into %s: %d documents%s, %d local documents, %d blobs copied; lost %d known documents, %d blobs; %d problems\n",
					name, into, rep.Documents, recovered, rep.LocalDocuments, rep.Blobs, len(rep.LostDocuments), len(rep.LostBlobs), len(rep.Problems))
				for _, id := range rep.LostDocuments {
					fmt.Fprintf(g.stdout, "lost document %s\n", id)
				}
				for _, d := range rep.LostBlobs {
					fmt.Fprintf(g.stdout, "lost blob %s\n", d)
				}
				for _, p := range rep.Problems {
					fmt.Fprintf(g.stdout, "unreadable: %s\n", p)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&into, "into", "", "name of the new database (default NAME-salvaged)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func databaseInfo(e *syncengine.Engine, name string) (syncengine.Info, error) {
	db, err := e.OpenDatabase(name)
	if err != nil {
		return syncengine.Info{}, err
	}
	return db.Info()
}

func printJSON(g *globals, v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
