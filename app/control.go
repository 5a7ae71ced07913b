package app

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/tlsid"
)

// controlHandler is what a running instance answers on its control
// socket: its status, the LAN peers it sees, and CLI commands forwarded to
// it because it holds their database open.
func controlHandler(rn *service.Runner) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(rn.Status())
	})
	mux.HandleFunc("GET /peers", servePeers(rn))
	mux.HandleFunc("POST /run", func(w http.ResponseWriter, r *http.Request) {
		var req forwardRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 128<<20)).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		s := &frameStream{w: w}
		// The command ends when the CLI that forwarded it goes away (its
		// Ctrl-C closes the connection), and its output reaches it as it comes.
		g := &globals{stdin: bytes.NewReader(req.Stdin), stdout: s.writer(false), stderr: s.writer(true),
			engine: rn.Engine(), ctx: r.Context()}
		err := execute(g, req.Args)
		code := exitCode(err)
		if code == 1 {
			fmt.Fprintf(g.stderr, "peersync: %s\n", service.OneLine(err))
		}
		s.send(forwardFrame{Done: true, Code: code})
	})
	return mux
}

// startControl serves the control socket for rn. Another instance on the
// data directory is an error; a platform without Unix sockets only loses
// the socket (status and forwarded commands), which one warning says.
func startControl(e *syncengine.Engine, rn *service.Runner) (*service.Control, error) {
	ctl, err := service.StartControl(filepath.Join(e.DataDir(), service.ControlSocketName), controlHandler(rn))
	switch {
	case errors.Is(err, service.ErrAnotherInstance):
		return nil, err
	case err != nil:
		e.Logger().Warn("no control socket: status and CLI commands beside this instance will not reach it", "error", err.Error())
	}
	return ctl, nil
}

type forwardRequest struct {
	Args  []string
	Stdin []byte
}

// forwardFrame is one line of a forwarded command's reply: some output,
// or, last, its exit code.
type forwardFrame struct {
	Stdout, Stderr []byte `json:",omitempty"`
	Done           bool   `json:",omitempty"`
	Code           int    `json:",omitempty"`
}

// frameStream writes frames to a reply as they come, flushing each.
type frameStream struct {
	mu sync.Mutex
	w  http.ResponseWriter
}

func (s *frameStream) send(f forwardFrame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := json.NewEncoder(s.w).Encode(f); err != nil {
		return err
	}
	http.NewResponseController(s.w).Flush()
	return nil
}

func (s *frameStream) writer(stderr bool) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		f := forwardFrame{Stdout: p}
		if stderr {
			f = forwardFrame{Stderr: p}
		}
		if err := s.send(f); err != nil {
			return 0, err
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// forward runs a command inside the instance running on dataDir, for
// commands whose database that instance holds open. Its output is shown
// as it comes; SIGINT or SIGTERM here ends it there (exit 128+signal).
func forward(dataDir string, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	in, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
	if err != nil {
		return 0, err
	}
	body, _ := json.Marshal(forwardRequest{Args: args, Stdin: in})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var sig atomic.Value
	go func() {
		select {
		case s := <-sigs:
			sig.Store(s)
			cancel() // closes the connection: the command ends there
		case <-ctx.Done():
		}
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://peersync/run", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	client := controlClient(dataDir)
	client.Timeout = 0 // a forwarded listen runs until stopped
	resp, err := client.Do(req)
	if err != nil {
		return 0, errNotRunning
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var f forwardFrame
		if err := dec.Decode(&f); err != nil {
			if s, ok := sig.Load().(os.Signal); ok {
				return interrupted{s.(syscall.Signal)}.exitCode(), nil
			}
			return 0, fmt.Errorf("the running instance stopped answering: %w", err)
		}
		stdout.Write(f.Stdout)
		stderr.Write(f.Stderr)
		if f.Done {
			return f.Code, nil
		}
	}
}

func controlClient(dataDir string) *http.Client {
	path := filepath.Join(dataDir, service.ControlSocketName)
	return &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}}
}

// fetchStatus asks the instance running on dataDir for its status.
func fetchStatus(dataDir string) (*service.StatusReport, error) {
	resp, err := controlClient(dataDir).Get("http://peersync/status")
	if err != nil {
		return nil, errNotRunning
	}
	defer resp.Body.Close()
	var rep service.StatusReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return nil, errors.New("the running instance sent a bad status reply")
	}
	return &rep, nil
}

func newStatusCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show the listeners and replications of the running instance (headless or the window)",
		Example: "  peersync status\n  peersync status --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := fetchStatus(DataDir(g.dataDir))
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g, rep)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "LISTENER\tDATABASE\tCONNECTIONS\tURLS\tFINGERPRINT")
			for _, l := range rep.Listeners {
				fp := "-"
				if l.Fingerprint != "" {
					fp = tlsid.FormatFingerprint(l.Fingerprint)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d (%d active%s)\t%v\t%s\n", l.Name, l.Database, l.Connections, l.Active, protocolCounts(l.Protocols), l.URLs, fp)
			}
			// THIS RUN counts the current (or last) run of this instance; LAST
			// RUN, LAST SYNCED and TOTAL come from the run history, which
			// survives restarts.
			now := time.Now()
			fmt.Fprintln(tw, "\nREPLICATION\tDATABASE\tACTIVITY\tPROTOCOL\tTHIS RUN\tDELTAS\tLAST SYNCED\tLAST RUN\tTOTAL\tLAST ERROR")
			for _, r := range rep.Replications {
				deltas := fmt.Sprintf("%d sent, %d received, %s saved", r.Delta.SentAsDelta, r.Delta.ReceivedAsDelta, service.FormatBytes(r.Delta.BytesSaved))
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d (pushed %d, pulled %d)\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Database, r.Activity, cmp.Or(protocolName(r.Protocol), "-"),
					r.Completed, r.Total, r.Pushed, r.Pulled, deltas,
					r.History.LastSyncedText(now), r.History.LastRunText(now), r.History.Totals.Text(), r.Error)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// protocolName shortens a subprotocol for tables: CBMobile_4 for
// BLIP_3+CBMobile_4.
func protocolName(sub string) string {
	_, name, ok := strings.Cut(sub, "+")
	if !ok {
		return sub
	}
	return name
}

// protocolCounts lists open connections by protocol, as "; 2 CBMobile_4".
func protocolCounts(counts map[string]int) string {
	var parts []string
	for _, sub := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[sub], protocolName(sub)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}
