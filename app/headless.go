package app

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"peersync/service"
)

// configPath is --config, else peersync.toml in the data directory.
func (g *globals) configPath() string {
	if g.config != "" {
		return g.config
	}
	return filepath.Join(DataDir(g.dataDir), service.ConfigFileName)
}

// runHeadless starts every configured listener and auto-start replication,
// reloads the configuration on SIGHUP, and on SIGINT or SIGTERM stops
// replications (saving checkpoints), listeners and databases.
func runHeadless(ctx context.Context, g *globals) error {
	if ctx == nil {
		ctx = context.Background()
	}
	path := g.configPath()
	cfg, err := service.LoadConfig(path)
	if err != nil {
		return err
	}
	g.overrideDiscovery(cfg)
	if !g.flagSet("log-format") && cfg.Log.Format != "" {
		g.logFormat = cfg.Log.Format
	}
	if !g.flagSet("log-level") && cfg.Log.Level != "" {
		g.logLevel = cfg.Log.Level
	}
	e, err := g.openEngine()
	if err != nil {
		return err
	}
	defer e.Close()
	log := e.Logger()
	rn := service.NewRunner(e)
	defer rn.Stop()
	ctl, err := startControl(e, rn)
	if err != nil {
		return err
	}
	defer ctl.Close()
	if err := rn.Apply(cfg); err != nil {
		log.Error("some configured items did not start", "error", err.Error())
	}
	log.Info("peersync running headless", "config", path, "data_dir", e.DataDir(), "version", Version,
		"listeners", len(cfg.Listeners), "replications", len(cfg.Replications))
	for _, l := range rn.Status().Listeners {
		log.Info("listening", "name", l.Name, "database", l.Database, "urls", l.URLs, "fingerprint", l.Fingerprint)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	for {
		select {
		case <-ctx.Done():
			return nil
		case s := <-sig:
			if s != syscall.SIGHUP {
				log.Info("stopping", "signal", s.String())
				return nil
			}
			next, err := service.LoadConfig(path)
			if err != nil {
				log.Error("configuration not reloaded", "error", err.Error())
				continue
			}
			g.overrideDiscovery(next)
			if err := rn.Apply(next); err != nil {
				log.Error("some configured items did not start", "error", err.Error())
			}
			log.Info("configuration reloaded", "listeners", len(next.Listeners), "replications", len(next.Replications))
		}
	}
}

var errNotRunning = errors.New("no running PeerSync instance for this data directory (start one with --headless)")

// overrideDiscovery applies --no-announce and --no-browse, which win over
// the configuration file so one run can stay quiet without editing it.
func (g *globals) overrideDiscovery(cfg *service.Config) {
	if g.noAnnounce {
		cfg.Discovery.Announce = false
	}
	if g.noBrowse {
		cfg.Discovery.Browse = false
	}
}
