package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"peersync/service"
)

func newUserCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Helpers for listener users"}
	var passwordFile string
	hash := &cobra.Command{
		Use:   "hash --password-file FILE",
		Short: "Print a bcrypt hash of a password, for a listener's users in the configuration",
		Example: "  peersync user hash --password-file pw.txt\n" +
			"  # then in peersync.toml:\n  # [[listener.users]]\n  # name = \"alice\"\n  # password_hash = \"$2a$10$...\"",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := readPassword(passwordFile)
			if err != nil {
				return err
			}
			h, err := service.HashPassword(pw)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, h)
			return nil
		},
	}
	hash.Flags().StringVar(&passwordFile, "password-file", "", "file holding the password")
	cmd.AddCommand(hash)
	return cmd
}
