package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine"
	"peersync/syncengine/doctor"
)

func newDoctorCommand(g *globals) *cobra.Command {
	var (
		user, passwordFile, clientCert, pin string
		acceptSelfSigned, asJSON            bool
		timeout                             time.Duration
	)
	cmd := &cobra.Command{
		Use:   "doctor TARGET",
		Short: "Find out why a peer does not connect, step by step",
		Long: `Check the way to a peer as a replication would take it: name resolution,
TCP, TLS, GET /<db>/, the WebSocket upgrade and one BLIP request. Each
step prints one sentence, how long it took and, when it fails, what to do.
Exits non-zero when a step failed.

TARGET is a ws:// or wss:// URL, the name of a [[replication]] in the
configuration (its settings are used; flags override them), or a peer the
running instance has discovered (its name, "name/database" or its key).`,
		Example: "  peersync doctor wss://192.168.1.20:4984/notes --accept-self-signed\n  peersync doctor office\n  peersync doctor \"Alice's laptop/notes\" --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *syncengine.Engine) error {
				rc, peer, err := g.doctorTarget(args[0])
				if err != nil {
					return err
				}
				// Flags override what the replication or peer brings.
				for dst, v := range map[*string]string{&rc.User: user, &rc.PasswordFile: passwordFile, &rc.ClientCert: clientCert, &rc.Pin: pin} {
					if v != "" {
						*dst = v
					}
				}
				rc.AcceptSelfSigned = rc.AcceptSelfSigned || acceptSelfSigned
				tg, err := replicationTarget(e, rc)
				if err != nil {
					return err
				}
				tg.Peer = peer
				ctx, stop := signal.NotifyContext(contextOf(cmd), os.Interrupt, syscall.SIGTERM)
				defer stop()
				rep := doctor.Diagnose(ctx, tg, doctor.Options{StepTimeout: timeout})
				if asJSON {
					if err := printJSON(g, rep); err != nil {
						return err
					}
				} else {
					fmt.Fprint(g.stdout, rep.String())
				}
				if f := rep.Failed(); f != nil {
					return fmt.Errorf("diagnosis: the %s step failed", f.Name)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "user name for the peer (with --password-file)")
	f.StringVar(&passwordFile, "password-file", "", "file holding the password for --user")
	f.StringVar(&clientCert, "client-cert", "", "authenticate with the stored identity of this label")
	f.StringVar(&pin, "pin", "", "trust only this server certificate: a SHA-256 fingerprint or a PEM file")
	f.BoolVar(&acceptSelfSigned, "accept-self-signed", false, "accept self-signed server certificates")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.DurationVar(&timeout, "timeout", 10*time.Second, "time allowed for each step")
	return cmd
}

// doctorTarget finds what TARGET names: a URL, a configured replication or
// a peer the running instance discovered, as the settings a replication
// to it would have.
func (g *globals) doctorTarget(arg string) (service.ReplicationConfig, *doctor.Peer, error) {
	if strings.HasPrefix(arg, "ws://") || strings.HasPrefix(arg, "wss://") {
		return service.ReplicationConfig{Name: arg, Target: arg}, nil, nil
	}
	cfg, err := service.LoadConfig(g.configPath())
	if err != nil {
		return service.ReplicationConfig{}, nil, err
	}
	for _, rc := range cfg.Replications {
		if rc.Name == arg {
			return rc, nil, nil
		}
	}
	view, err := fetchPeers(DataDir(g.dataDir))
	if err != nil {
		return service.ReplicationConfig{}, nil, fmt.Errorf("%q is not a ws:// or wss:// URL nor a configured replication, and "+
			"discovered peers are known only to a running instance (%v)", arg, err)
	}
	var found []discovery.Peer
	for _, p := range view.Peers {
		if p.Name == arg || p.Key() == arg || p.Name+"/"+p.Database == arg {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return service.ReplicationConfig{}, nil, fmt.Errorf("%q is not a URL, a configured replication or a discovered peer (the Peers screen lists them)", arg)
	case 1:
		rc, peer := peerTarget(found[0], view.Health)
		return rc, peer, nil
	}
	names := make([]string, len(found))
	for i, p := range found {
		names[i] = p.Name + "/" + p.Database
	}
	return service.ReplicationConfig{}, nil, fmt.Errorf("%q names several peers; say which: %s", arg, strings.Join(names, ", "))
}

// replicationTarget is the target a replication with rc's settings dials,
// with its credentials and trust settings, read the way a replicator gets
// them.
func replicationTarget(e *syncengine.Engine, rc service.ReplicationConfig) (doctor.Target, error) {
	cfg := syncengine.ReplicatorConfig{AcceptOnlySelfSignedServerCertificate: rc.AcceptSelfSigned}
	if err := rc.SetCredentials(e, &cfg); err != nil {
		return doctor.Target{}, fmt.Errorf("%s: %w", rc.Name, err)
	}
	return doctor.Target{URL: rc.Target, Auth: cfg.Authenticator, PinnedFingerprint: cfg.PinnedServerFingerprint,
		PinnedCertificate: cfg.PinnedServerCertificate, AcceptSelfSigned: rc.AcceptSelfSigned}, nil
}

// peerTarget diagnoses a discovered peer. Its certificate is checked
// against the fingerprint it announced, unless a pin overrides it.
func peerTarget(p discovery.Peer, h discovery.BrowserHealth) (service.ReplicationConfig, *doctor.Peer) {
	dp := &doctor.Peer{Name: p.Name, Manual: p.Manual, LastSeen: p.LastSeen, Browsing: h.Running, QueryError: h.QueryError}
	if h.Interface != "" {
		dp.Interfaces = []string{h.Interface}
	}
	return service.ReplicationConfig{Name: p.Name + "/" + p.Database, Target: p.URL(), Pin: p.Fingerprint}, dp
}

// peersView is what the control socket's GET /peers answers: the running
// browser's peers and how browsing goes.
type peersView struct {
	Health discovery.BrowserHealth `json:"health"`
	Peers  []discovery.Peer        `json:"peers"`
}

func peersOf(rn *service.Runner) peersView {
	v := peersView{Peers: []discovery.Peer{}}
	if b := rn.Browser(); b != nil {
		v.Health, v.Peers = b.Health(), b.Peers()
	}
	return v
}

func servePeers(rn *service.Runner) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(peersOf(rn))
	}
}

// fetchPeers asks the instance running on dataDir what its discovery knows.
func fetchPeers(dataDir string) (*peersView, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://peersync/peers", nil)
	resp, err := controlClient(dataDir).Do(req)
	if err != nil {
		return nil, errNotRunning
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("the running instance is too old to list discovered peers")
	}
	var v peersView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, errors.New("the running instance sent a bad peers reply")
	}
	return &v, nil
}
