package app

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

func newListenCommand(g *globals) *cobra.Command {
	var (
		db, iface, tlsMode, user, passwordFile, clientCA string
		port                                             int
		readOnly, delta                                  bool
		collections                                      []string
	)
	cmd := &cobra.Command{
		Use:   "listen --db NAME",
		Short: "Serve a database to replicating peers until Ctrl-C",
		Long: `Serve a database to peers (the passive side of replication). Prints the
URLs peers can use, the TLS certificate fingerprint, and live connection
counts. TLS is on by default with an anonymous self-signed certificate that
is generated once and reused.`,
		Example: "  peersync listen --db notes --port 4984\n  peersync listen --db notes --tls=off --read-only\n  peersync listen --db notes --user alice --password-file pw.txt",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.serving = true
			return g.withDatabase(db, func(d *syncengine.Database) error {
				lc := service.ListenerConfig{Database: db, Port: port, Interface: iface, TLS: tlsMode, ReadOnly: readOnly,
					DeltaSync: delta, Collections: collections, ClientCA: clientCA}
				if user != "" && clientCA != "" {
					return errors.New("use either --user or --client-ca, not both")
				}
				if user != "" {
					pw, err := readPassword(passwordFile)
					if err != nil {
						return err
					}
					hash, err := service.HashPassword(pw)
					if err != nil {
						return err
					}
					lc.Users = []service.UserHash{{Name: user, PasswordHash: hash}}
				}
				cfg, err := lc.Engine(d.Engine())
				if err != nil {
					return err
				}
				l, err := d.Engine().NewListener(cfg)
				if err != nil {
					return err
				}
				if err := l.Start(); err != nil {
					return err
				}
				defer l.Stop()
				for _, u := range l.URLs() {
					fmt.Fprintln(g.stdout, u)
				}
				if id := l.TLSIdentity(); id != nil {
					fmt.Fprintf(g.stdout, "certificate SHA-256: %s\n", tlsid.FormatFingerprint(id.Fingerprint()))
				}
				ctx, stop := signal.NotifyContext(g.context(), syscall.SIGINT, syscall.SIGTERM)
				defer stop()
				last := ""
				t := time.NewTicker(time.Second)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return nil
					case <-t.C:
						st := l.Status()
						line := fmt.Sprintf("connections: %d (%d active%s)\n", st.ConnectionCount, st.ActiveConnectionCount, protocolCounts(st.Protocols))
						if line != last {
							fmt.Fprint(g.stdout, line)
							last = line
						}
					}
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "database to serve (required)")
	f.IntVar(&port, "port", 0, "TCP port (0 picks a free one)")
	f.StringVar(&iface, "interface", "", "network interface name or IP address to bind (default all)")
	f.StringVar(&tlsMode, "tls", "anonymous", "off, anonymous (generated self-signed certificate) or the label of a stored identity")
	f.StringVar(&user, "user", "", "require this user name (with --password-file)")
	f.StringVar(&passwordFile, "password-file", "", "file holding the password for --user")
	f.StringVar(&clientCA, "client-ca", "", "require client certificates issued by the CA certificates in this PEM file")
	f.BoolVar(&readOnly, "read-only", false, "refuse pushes from peers")
	f.BoolVar(&delta, "delta", false, "allow delta sync")
	f.StringSliceVar(&collections, "collections", nil, "collections to share (scope.name, comma-separated; default the default collection)")
	return cmd
}

// readPassword reads --password-file.
func readPassword(file string) (string, error) {
	if file == "" {
		return "", errors.New("a password is needed: give --password-file FILE")
	}
	return service.ReadPasswordFile(file)
}

func newReplicateCommand(g *globals) *cobra.Command {
	var (
		db, target, typ, user, passwordFile, clientCert, pin, resolver, protocol string
		continuous, reset, acceptSelfSigned, delta                               bool
		docIDs, collections                                                      []string
		noProgress                                                               time.Duration
	)
	cmd := &cobra.Command{
		Use:   "replicate --db NAME --target URL",
		Short: "Replicate a database with a peer (one-shot, or --continuous until Ctrl-C)",
		Long: `Replicate with a peer (the active side). Shows a progress bar on a
terminal and a summary at the end; exits 0 only when the replication
completed (Ctrl-C stops a one-shot run cleanly and exits 130). Transient
errors are retried with backoff; permanent ones (wrong password, unknown
database, untrusted certificate) stop at once.
A one-shot run that makes no progress for --no-progress-timeout stops
with an error.`,
		Example: "  peersync replicate --db notes --target wss://192.168.1.20:4984/notes --accept-self-signed\n  peersync replicate --db notes --target ws://127.0.0.1:4984/notes --type pull --continuous",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := syncengine.ParseReplicatorType(typ)
			if err != nil {
				return err
			}
			return g.withDatabase(db, func(d *syncengine.Database) error {
				policy, err := service.ParseConflictPolicy(resolver)
				if err != nil {
					return fmt.Errorf("--conflicts: %w", err)
				}
				if _, err := syncengine.ParseProtocol(protocol); err != nil {
					return fmt.Errorf("--protocol: %w", err)
				}
				if user != "" {
					if _, err := readPassword(passwordFile); err != nil {
						return err
					}
				}
				rc := service.ReplicationConfig{Database: db, Target: target, Type: rt.String(), Continuous: continuous,
					DocIDs: docIDs, Collections: collections, AcceptSelfSigned: acceptSelfSigned, DeltaSync: delta,
					NoProgress: service.Duration{Duration: noProgress}, Conflicts: policy,
					User: user, PasswordFile: passwordFile, ClientCert: clientCert, Pin: pin, Protocol: protocol}
				cfg, err := rc.Engine(d.Engine())
				if err != nil {
					return err
				}
				r, err := d.Engine().NewReplicator(cfg)
				if err != nil {
					return err
				}
				return runReplication(g, r, reset, continuous, g.configuredName(d.Engine(), db, r.Config().Target))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "local database (required)")
	f.StringVar(&target, "target", "", "peer URL: ws[s]://host:port/<db>")
	f.StringVar(&typ, "type", "pushAndPull", "push, pull or pushAndPull")
	f.BoolVar(&continuous, "continuous", false, "keep replicating until Ctrl-C")
	f.BoolVar(&reset, "reset", false, "ignore checkpoints and start from the beginning")
	f.StringSliceVar(&docIDs, "doc-ids", nil, "only these document IDs (comma-separated)")
	f.StringSliceVar(&collections, "collections", nil, "collections to replicate (default the default collection)")
	f.StringVar(&user, "user", "", "user name for the peer (with --password-file)")
	f.StringVar(&passwordFile, "password-file", "", "file holding the password for --user")
	f.StringVar(&clientCert, "client-cert", "", "authenticate with the stored identity of this label")
	f.StringVar(&pin, "pin", "", "trust only this server certificate: a SHA-256 fingerprint or a PEM file")
	f.BoolVar(&acceptSelfSigned, "accept-self-signed", false, "accept self-signed server certificates (CA-issued ones are still verified)")
	f.StringVar(&resolver, "conflicts", "default", "conflict resolution: default, local or remote")
	f.BoolVar(&delta, "delta", false, "use delta sync when the peer allows it")
	f.StringVar(&protocol, "protocol", "auto", "auto (version vectors, falling back to revision trees), v4 or v3")
	f.DurationVar(&noProgress, "no-progress-timeout", syncengine.DefaultNoProgressTimeout,
		"one-shot: stop with an error after this long without progress")
	cmd.MarkFlagRequired("db")
	cmd.MarkFlagRequired("target")
	return cmd
}

// configuredName is the configured replication of database db with target
// (in its shown form), whose run history a run of the same pair adds to; ""
// when the configuration names none, or cannot be read.
func (g *globals) configuredName(e *syncengine.Engine, db, target string) string {
	path := g.config
	if path == "" {
		path = filepath.Join(e.DataDir(), service.ConfigFileName)
	}
	cfg, err := service.LoadConfig(path)
	if err != nil {
		return ""
	}
	for _, rc := range cfg.Replications {
		if rc.Database == db && rc.Target == target {
			return rc.Name
		}
	}
	return ""
}

// runReplication starts r, shows progress, and returns its final error. A
// signal stops it cleanly (saving its checkpoint); a one-shot run stopped
// that way did not complete, so it ends in an interrupted error (exit
// 128+signal), while a continuous one ends as asked. When name is a
// configured replication, the run is recorded in its run history.
func runReplication(g *globals, r *syncengine.Replicator, reset, continuous bool, name string) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	bar := newProgress(g, -1, "replicating")
	var shown progressShown
	var done <-chan struct{}
	stop := r.Stop
	if name != "" {
		run := service.StartTracked(r.Config().Database.Engine().DataDir(), name, r, reset, r.Config().Database.Engine().Logger())
		done, stop = run.Done(), run.Stop
		defer run.Stop() // the record is written before the command returns
	} else {
		r.Start(reset)
		done = r.Done()
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	lastErr := ""
	for {
		select {
		case sig := <-sigs:
			stop()
			bar.Finish()
			printSummary(g, r.Status())
			if continuous {
				return nil
			}
			return interrupted{sig.(syscall.Signal)}
		case <-g.context().Done(): // the forwarding CLI went away
			stop()
			return g.context().Err()
		case <-done:
			bar.Finish()
			st := r.Status()
			printSummary(g, st)
			return st.Error
		case <-t.C:
		}
		st := r.Status()
		if p := st.Progress; p.Total > 0 {
			bar.ChangeMax64(progressScale)
			bar.Set64(shown.update(p.Completed, p.Total))
			bar.Describe(fmt.Sprintf("replicating %d/%d", p.Completed, p.Total))
		}
		if st.Activity == syncengine.Offline && st.Error != nil && st.Error.Error() != lastErr {
			lastErr = st.Error.Error()
			fmt.Fprintf(g.stderr, "peersync: %s (retrying at %s)\n", lastErr, st.NextAttempt.Format(time.TimeOnly))
		}
	}
}

// progressScale is the bar's maximum: it shows thousandths of the work.
const progressScale = 1000

// progressShown is what the replication's bar shows. The total grows as
// the peer announces more changes, so completed/total can drop; the bar
// holds still instead, until the work catches up, and never goes back.
type progressShown struct{ value int64 }

// update returns the bar's value, out of progressScale, for completed of total.
func (p *progressShown) update(completed, total int64) int64 {
	if total > 0 {
		p.value = max(p.value, min(completed, total)*progressScale/total)
	}
	return p.value
}

// interrupted is how a one-shot command ends when a signal stopped it
// before it completed: the shell's convention, exit 128+signal, and no
// error line (the user asked for it).
type interrupted struct{ sig syscall.Signal }

func (e interrupted) Error() string { return "interrupted by " + e.sig.String() }

func (e interrupted) exitCode() int { return 128 + int(e.sig) }

func printSummary(g *globals, st syncengine.ReplicatorStatus) {
	fmt.Fprintf(g.stdout, "pushed %d, pulled %d documents\n", st.Pushed, st.Pulled)
	if d := st.Delta; d.SentAsDelta+d.ReceivedAsDelta > 0 {
		fmt.Fprintf(g.stdout, "delta sync: sent %d as deltas and %d in full, received %d as deltas and %d in full, %s of bodies saved\n",
			d.SentAsDelta, d.SentFull, d.ReceivedAsDelta, d.ReceivedFull, service.FormatBytes(d.BytesSaved))
	}
}
