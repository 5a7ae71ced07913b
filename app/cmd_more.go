package app

import (
	"encoding/json"
	"fmt"
	"mime"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"peersync/syncengine"
)

func newCollectionCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "collection", Short: "Create, list and delete collections (scope.name)"}
	var db string
	list := &cobra.Command{
		Use: "list --db NAME", Short: "List a database's collections", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withDatabase(db, func(d *syncengine.Database) error {
				names, err := d.Collections()
				for _, n := range names {
					fmt.Fprintln(g.stdout, n)
				}
				return err
			})
		},
	}
	create := &cobra.Command{
		Use: "create --db NAME SCOPE.COLLECTION", Short: "Create a collection", Args: cobra.ExactArgs(1),
		Example: "  peersync collection create --db notes app.tasks",
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withDatabase(db, func(d *syncengine.Database) error {
				_, err := d.CreateCollection(args[0])
				return err
			})
		},
	}
	del := &cobra.Command{
		Use: "delete --db NAME SCOPE.COLLECTION", Short: "Delete a collection and its documents", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withDatabase(db, func(d *syncengine.Database) error { return d.DeleteCollection(args[0]) })
		},
	}
	for _, c := range []*cobra.Command{list, create, del} {
		c.Flags().StringVar(&db, "db", "", "database name (required)")
		c.MarkFlagRequired("db")
	}
	cmd.AddCommand(list, create, del)
	return cmd
}

func newBlobCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "blob", Short: "Store and read blobs (attachments)"}
	var f docFlags
	var contentType string
	put := &cobra.Command{
		Use:   "put --db NAME FILE",
		Short: "Store a file as a blob and print the reference to put in a document body",
		Example: "  ref=$(peersync blob put --db notes photo.jpg)\n" +
			"  echo \"{\\\"photo\\\":$ref}\" | peersync doc put --db notes p1",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			ct := contentType
			if ct == "" {
				ct = mime.TypeByExtension(filepath.Ext(args[0]))
			}
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				ref, err := c.SaveBlob(data, ct)
				if err != nil {
					return err
				}
				out, _ := json.Marshal(map[string]any{"@type": "blob", "digest": ref.Digest, "length": ref.Length, "content_type": ref.ContentType})
				fmt.Fprintln(g.stdout, string(out))
				return nil
			})
		},
	}
	put.Flags().StringVar(&contentType, "content-type", "", "MIME type (default from the file extension)")
	get := &cobra.Command{
		Use:     "get --db NAME DIGEST",
		Short:   "Write a blob's bytes to stdout",
		Example: "  peersync blob get --db notes sha1-... > photo.jpg",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				data, err := c.GetBlob(args[0])
				if err == nil {
					_, err = g.stdout.Write(data)
				}
				return err
			})
		},
	}
	for _, c := range []*cobra.Command{put, get} {
		f.register(c)
	}
	cmd.AddCommand(put, get)
	return cmd
}

func newResolveCommand(g *globals) *cobra.Command {
	var f docFlags
	var winner, mergedFile string
	cmd := &cobra.Command{
		Use:   "resolve --db NAME ID --winner REV [--merged FILE]",
		Short: "Resolve a document's conflict: keep one revision, or save a merged body on top of it",
		Long: `Resolve a conflict. The other live revisions get tombstones and, with
--merged, the merged body is saved as a new revision on top of --winner. The
resolution is ordinary revisions, so it replicates. See the revisions with
'peersync doc conflicts --db NAME ID'.`,
		Example: "  peersync resolve --db notes n1 --winner 3-abc\n  peersync resolve --db notes n1 --winner 3-abc --merged merged.json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var merged []byte
			if mergedFile != "" {
				var err error
				if merged, err = os.ReadFile(mergedFile); err != nil {
					return err
				}
			}
			return g.withCollection(&f, func(c *syncengine.Collection) error {
				d, err := c.Resolve(args[0], winner, merged)
				if err == nil {
					fmt.Fprintln(g.stdout, d.RevID)
				}
				return err
			})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&winner, "winner", "", "the revision that wins (required)")
	cmd.Flags().StringVar(&mergedFile, "merged", "", "a JSON file with the merged body")
	cmd.MarkFlagRequired("winner")
	return cmd
}
