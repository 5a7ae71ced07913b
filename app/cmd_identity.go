package app

import (
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

func newIdentityCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "identity", Short: "Create, list, show, import, export and delete TLS identities"}
	var asJSON bool
	withIDs := func(fn func(*tlsid.Store) error) error {
		return g.withEngine(func(e *syncengine.Engine) error {
			ids, err := e.Identities()
			if err != nil {
				return err
			}
			return fn(ids)
		})
	}
	var (
		cn, org, ou, locality, province, country, usage string
		sans                                            []string
		days                                            int
	)
	create := &cobra.Command{
		Use:     "create LABEL --cn NAME",
		Short:   "Create a self-signed identity (ECDSA P-256) for a listener or a client",
		Example: "  peersync identity create office-server --cn office.example --san office.example,192.168.1.20\n  peersync identity create laptop --cn laptop --usage client",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			names, err := tlsid.ParseAltNames(sans)
			if err != nil {
				return fmt.Errorf("--san: %w", err)
			}
			attrs := tlsid.Attributes{CommonName: cn, Organization: org, OrganizationalUnit: ou, Locality: locality, Province: province, Country: country,
				DNSNames: names.DNSNames, IPAddresses: names.IPAddresses}
			var u tlsid.KeyUsage
			for _, part := range strings.Split(usage, ",") {
				switch strings.TrimSpace(part) {
				case "server":
					u |= tlsid.UsageServer
				case "client":
					u |= tlsid.UsageClient
				default:
					return fmt.Errorf("--usage %q: use server, client or server,client", usage)
				}
			}
			return withIDs(func(ids *tlsid.Store) error {
				id, err := ids.CreateSelfSigned(tlsid.CreateOptions{Label: args[0], Attributes: attrs, Usage: u,
					Validity: time.Duration(days) * 24 * time.Hour})
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "created %s (%s keys), SHA-256 %s, expires %s\n", id.Label, ids.Backend(),
					tlsid.FormatFingerprint(id.Fingerprint()), id.Expires().Format(time.DateOnly))
				return nil
			})
		},
	}
	f := create.Flags()
	f.StringVar(&cn, "cn", "", "common name (required)")
	f.StringVar(&org, "org", "", "organization")
	f.StringVar(&ou, "ou", "", "organizational unit")
	f.StringVar(&locality, "locality", "", "locality")
	f.StringVar(&province, "province", "", "state or province")
	f.StringVar(&country, "country", "", "two-letter country code")
	f.StringSliceVar(&sans, "san", nil, "subject alternative name, a host name or IP address (repeatable or comma-separated; a server identity without any gets localhost, this host's name and addresses)")
	f.StringVar(&usage, "usage", "server,client", "server, client, or server,client")
	f.IntVar(&days, "days", 365, "validity in days")

	list := &cobra.Command{
		Use:   "list",
		Short: "List identities with expiry and fingerprint",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withIDs(func(ids *tlsid.Store) error {
				all, err := ids.List()
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]map[string]any, 0, len(all))
					for _, id := range all {
						out = append(out, identityJSON(id))
					}
					return printJSON(g, out)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "LABEL\tSUBJECT\tEXPIRES\tSHA-256")
				for _, id := range all {
					exp := id.Expires().Format(time.DateOnly)
					if id.Expired(time.Now()) {
						exp += " (expired)"
					} else if time.Until(id.Expires()) < 30*24*time.Hour {
						exp += " (soon)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id.Label, id.Certificate().Subject.CommonName, exp, tlsid.FormatFingerprint(id.Fingerprint()))
				}
				return tw.Flush()
			})
		},
	}
	show := &cobra.Command{
		Use:   "show LABEL",
		Short: "Show an identity's certificate chain, usage, expiry and fingerprint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(func(ids *tlsid.Store) error {
				id, err := ids.Get(args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, identityJSON(id))
				}
				c := id.Certificate()
				fmt.Fprintf(g.stdout, "label:    %s\nsubject:  %s\nissuer:   %s\nusage:    %s\nnames:    %s\nexpires:  %s\nsha-256:  %s\nchain:    %d certificate(s)\n",
					id.Label, c.Subject, c.Issuer, id.Usage(), strings.Join(altNames(c), ", "), id.Expires().Format(time.RFC3339), tlsid.FormatFingerprint(id.Fingerprint()), len(id.Chain))
				return nil
			})
		},
	}
	var password, passwordFile string
	importCmd := &cobra.Command{
		Use:     "import LABEL FILE",
		Short:   "Import an identity from PEM (chain + key) or PKCS#12 (.p12/.pfx, with --password-file)",
		Example: "  peersync identity import office office.pem\n  peersync identity import office office.p12 --password-file p12pass.txt",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			if passwordFile != "" {
				if password, err = readPassword(passwordFile); err != nil {
					return err
				}
			}
			return withIDs(func(ids *tlsid.Store) error {
				var id *tlsid.Identity
				if strings.Contains(string(data), "-----BEGIN") {
					id, err = ids.ImportPEM(args[0], data)
				} else {
					id, err = ids.ImportPKCS12(args[0], data, password)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "imported %s, SHA-256 %s\n", id.Label, tlsid.FormatFingerprint(id.Fingerprint()))
				return nil
			})
		},
	}
	importCmd.Flags().StringVar(&passwordFile, "password-file", "", "file holding the PKCS#12 password")
	var withKey bool
	export := &cobra.Command{
		Use:     "export LABEL",
		Short:   "Print the certificate chain as PEM (and the private key only with --private-key)",
		Example: "  peersync identity export office > office-chain.pem",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(func(ids *tlsid.Store) error {
				id, err := ids.Get(args[0])
				if err != nil {
					return err
				}
				g.stdout.Write(id.ChainPEM())
				if withKey {
					key, err := id.PrivateKeyPEM()
					if err != nil {
						return err
					}
					g.stdout.Write(key)
				}
				return nil
			})
		},
	}
	export.Flags().BoolVar(&withKey, "private-key", false, "also print the private key (keep it secret)")
	del := &cobra.Command{
		Use:   "delete LABEL",
		Short: "Delete an identity (certificate and key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(func(ids *tlsid.Store) error {
				if err := ids.Delete(args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "deleted %s\n", args[0])
				return nil
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(create, list, show, importCmd, export, del)
	return cmd
}

func identityJSON(id *tlsid.Identity) map[string]any {
	return map[string]any{"label": id.Label, "subject": id.Certificate().Subject.String(), "expires": id.Expires(),
		"sha256": id.Fingerprint(), "usage": id.Usage().String(), "chain_length": len(id.Chain), "san": altNames(id.Certificate())}
}

// altNames lists a certificate's DNS and IP subject alternative names.
func altNames(c *x509.Certificate) []string {
	out := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}
