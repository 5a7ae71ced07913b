package app

import (
	"context"
	"os/signal"
	"syscall"
)

// runHeadless runs the engine without a window until SIGINT or SIGTERM.
func runHeadless(ctx context.Context, g *globals) error {
	if ctx == nil {
		ctx = context.Background()
	}
	e, err := g.openEngine()
	if err != nil {
		return err
	}
	defer e.Close()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	e.Logger().Info("peersync running headless", "data_dir", e.DataDir(), "version", Version)
	<-ctx.Done()
	e.Logger().Info("peersync stopping")
	return nil
}
