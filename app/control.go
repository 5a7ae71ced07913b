package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"peersync/service"
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
		var out, errOut bytes.Buffer
		g := &globals{stdin: bytes.NewReader(req.Stdin), stdout: &out, stderr: &errOut, engine: rn.Engine()}
		code := 0
		if err := execute(g, req.Args); err != nil {
			fmt.Fprintf(&errOut, "peersync: %s\n", service.OneLine(err))
			code = 1
		}
		json.NewEncoder(w).Encode(forwardReply{Stdout: out.Bytes(), Stderr: errOut.Bytes(), Code: code})
	})
	return mux
}

type forwardRequest struct {
	Args  []string
	Stdin []byte
}

type forwardReply struct {
	Stdout, Stderr []byte
	Code           int
}

// forward runs a command inside the instance running on dataDir, for
// commands whose database that instance holds open.
func forward(dataDir string, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	in, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
	if err != nil {
		return 0, err
	}
	body, _ := json.Marshal(forwardRequest{Args: args, Stdin: in})
	resp, err := controlClient(dataDir).Post("http://peersync/run", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, errNotRunning
	}
	defer resp.Body.Close()
	var rep forwardReply
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return 0, err
	}
	stdout.Write(rep.Stdout)
	stderr.Write(rep.Stderr)
	return rep.Code, nil
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
				fmt.Fprintf(tw, "%s\t%s\t%d (%d active)\t%v\t%s\n", l.Name, l.Database, l.Connections, l.Active, l.URLs, fp)
			}
			fmt.Fprintln(tw, "\nREPLICATION\tDATABASE\tACTIVITY\tPROGRESS\tDELTAS\tLAST ERROR")
			for _, r := range rep.Replications {
				deltas := fmt.Sprintf("%d sent, %d received, %s saved", r.Delta.SentAsDelta, r.Delta.ReceivedAsDelta, humanBytes(r.Delta.BytesSaved))
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d (pushed %d, pulled %d)\t%s\t%s\n", r.Name, r.Database, r.Activity, r.Completed, r.Total, r.Pushed, r.Pulled, deltas, r.Error)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
