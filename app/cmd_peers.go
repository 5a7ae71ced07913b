package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"peersync/discovery"
	"peersync/service"
)

func newPeersCommand(g *globals) *cobra.Command {
	var watch, asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "peers [--watch] [--json] [--timeout 3s]",
		Short: "List PeerSync peers announced on the local network",
		Long: `Browse the local network (mDNS) for PeerSync listeners and list them.
With --watch, print a line for every peer that appears, changes or goes
away until interrupted (Ctrl-C).`,
		Example: "  peersync peers\n  peersync peers --json --timeout 5s\n  peersync peers --watch",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 && !watch {
				return errors.New("--timeout must be positive")
			}
			ctx, stop := signal.NotifyContext(contextOf(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runPeers(ctx, g, watch, asJSON, timeout)
		},
	}
	cmd.Flags().BoolVar(&watch, "watch", false, "keep printing peers as they appear and go away, until Ctrl-C")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (with --watch: one event object per line)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to listen before printing (without --watch)")
	return cmd
}

func contextOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// peerJSON is how `peers --json` prints a peer.
type peerJSON struct {
	Event       string   `json:"event,omitempty"` // with --watch: seen, updated or lost
	Name        string   `json:"name"`
	Database    string   `json:"database"`
	URL         string   `json:"url"`
	TLS         bool     `json:"tls"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	PeerID      string   `json:"peer_id"`
	Addresses   []string `json:"addresses"`
}

func toPeerJSON(p discovery.Peer) peerJSON {
	out := peerJSON{Name: p.Name, Database: p.Database, URL: p.URL(), TLS: p.TLS, Fingerprint: p.Fingerprint, PeerID: p.PeerID, Addresses: []string{}}
	for _, ip := range p.Addrs {
		out.Addresses = append(out.Addresses, ip.String())
	}
	return out
}

func runPeers(ctx context.Context, g *globals, watch, asJSON bool, timeout time.Duration) error {
	if err := checkMulticastInterface(); err != nil {
		return err
	}
	failures := &queryFailures{}
	opts := discovery.BrowserOptions{Logger: slog.New(failures)}
	// Leave out our own running instance, if this data directory has one.
	if id, err := discovery.LoadOrCreatePeerID(DataDir(g.dataDir)); err == nil {
		opts.IgnorePeerID = id
	}
	b := discovery.NewBrowser(opts)
	events, _ := b.Subscribe()
	if err := b.Start(ctx); err != nil {
		return err
	}
	defer b.Stop()
	if watch {
		return watchPeers(ctx, g, events, asJSON, failures)
	}
	select {
	case <-ctx.Done():
	case <-time.After(timeout):
	}
	b.Stop()
	peers := b.Peers()
	if len(peers) == 0 {
		if err := failures.last(); err != "" {
			return fmt.Errorf("cannot browse the local network: %s", err)
		}
	}
	if asJSON {
		list := make([]peerJSON, 0, len(peers))
		for _, p := range peers {
			list = append(list, toPeerJSON(p))
		}
		return printJSON(g, list)
	}
	if len(peers) == 0 {
		fmt.Fprintf(g.stdout, "no peers found within %v\n", timeout)
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDATABASE\tURL\tTLS\tFINGERPRINT")
	for _, p := range peers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Database, p.URL(), yesNo(p.TLS), orDash(service.ShortFingerprint(p.Fingerprint)))
	}
	return tw.Flush()
}

// watchPeers prints each event until ctx ends. A query failure is reported
// once on stderr; watching goes on in case the network comes back.
func watchPeers(ctx context.Context, g *globals, events <-chan discovery.Event, asJSON bool, failures *queryFailures) error {
	enc := json.NewEncoder(g.stdout)
	reported := ""
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := failures.last(); err != "" && err != reported {
				fmt.Fprintf(g.stderr, "peersync: cannot browse the local network: %s\n", err)
				reported = err
			}
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			p := ev.Peer
			if asJSON {
				j := toPeerJSON(p)
				j.Event = ev.Kind.String()
				if err := enc.Encode(j); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(g.stdout, "%-7s %s\t%s\t%s\ttls=%s\t%s\n", ev.Kind, p.Name, p.Database, p.URL(), yesNo(p.TLS), orDash(service.ShortFingerprint(p.Fingerprint)))
		}
	}
}

// checkMulticastInterface fails early, in one line, when no interface could
// carry an mDNS query.
func checkMulticastInterface() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("cannot browse the local network: %w", err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagMulticast != 0 && ifc.Flags&net.FlagLoopback == 0 {
			if addrs, err := ifc.Addrs(); err == nil && len(addrs) > 0 {
				return nil
			}
		}
	}
	return errors.New("cannot browse the local network: no network interface that can multicast is up")
}

// queryFailures is a log handler that keeps the browser's last query error,
// so the command can say why it found nothing.
type queryFailures struct {
	mu  sync.Mutex
	err string
}

func (q *queryFailures) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

// Handle keeps a warning's error; the browser's only info message says
// queries work again, which clears it.
func (q *queryFailures) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		q.mu.Lock()
		q.err = ""
		q.mu.Unlock()
		return nil
	}
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			msg = a.Value.String()
			return false
		}
		return true
	})
	q.mu.Lock()
	q.err = msg
	q.mu.Unlock()
	return nil
}

func (q *queryFailures) WithAttrs([]slog.Attr) slog.Handler { return q }
func (q *queryFailures) WithGroup(string) slog.Handler      { return q }

func (q *queryFailures) last() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
