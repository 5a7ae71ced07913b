package app

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"peersync/syncengine"
)

func newDBCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Create, list, inspect, compact and delete databases"}
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
		Short:   "List databases with document counts and sizes",
		Example: "  peersync db list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withEngine(func(e *syncengine.Engine) error {
				names, err := e.DatabaseNames()
				if err != nil {
					return err
				}
				infos := make([]syncengine.Info, 0, len(names))
				for _, n := range names {
					info, err := databaseInfo(e, n)
					if err != nil {
						return err
					}
					infos = append(infos, info)
				}
				if asJSON {
					return printJSON(g, infos)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tDOCUMENTS\tSIZE")
				for _, i := range infos {
					fmt.Fprintf(tw, "%s\t%d\t%s\n", i.Name, i.DocumentCount, humanBytes(i.Size))
				}
				return tw.Flush()
			})
		},
	}
	info := &cobra.Command{
		Use:     "info NAME",
		Short:   "Show a database's UUID, collections, document count and size",
		Example: "  peersync db info notes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *syncengine.Engine) error {
				i, err := databaseInfo(e, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, i)
				}
				fmt.Fprintf(g.stdout, "name:        %s\nuuid:        %s\npath:        %s\nsize:        %s\ndocuments:   %d\ncollections: %v\n",
					i.Name, i.UUID, i.Path, humanBytes(i.Size), i.DocumentCount, i.Collections)
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
					fmt.Fprintf(g.stdout, "compacted %s: %s → %s, %d unused blobs removed\n", args[0], humanBytes(before), humanBytes(db.Store().Size()), n)
				}
				return err
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	info.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(create, list, info, del, compact)
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

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
