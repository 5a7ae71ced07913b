//go:build !headless

package app

import (
	"context"
	"fmt"
	"time"

	"peersync/discovery"
	"peersync/service"
	"peersync/syncengine/doctor"
	"peersync/ui"
)

var _ ui.Diagnoser = (*workspace)(nil)

// diagnoseTimeout bounds a diagnosis the GUI started: six steps of at
// most ten seconds each.
const diagnoseTimeout = time.Minute

// DiagnoseReplication runs the connection doctor with a saved
// replication's credentials and trust settings.
func (w *workspace) DiagnoseReplication(name string) (doctor.Report, error) {
	w.mu.Lock()
	var rc *service.ReplicationConfig
	for _, r := range w.cfg.Replications {
		if r.Name == name {
			rc = &r
		}
	}
	w.mu.Unlock()
	if rc == nil {
		return doctor.Report{}, fmt.Errorf("no replication %q", name)
	}
	tg, err := replicationTarget(w.rn.Engine(), *rc)
	if err != nil {
		return doctor.Report{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), diagnoseTimeout)
	defer cancel()
	return doctor.Diagnose(ctx, tg, doctor.Options{}), nil
}

// DiagnosePeer runs the connection doctor on a discovered or manual peer,
// with what the running browser knows.
func (w *workspace) DiagnosePeer(p discovery.Peer) (doctor.Report, error) {
	var h discovery.BrowserHealth
	if w.browser != nil {
		h = w.browser.Health()
	}
	rc, peer := peerTarget(p, h)
	tg, err := replicationTarget(w.rn.Engine(), rc)
	if err != nil {
		return doctor.Report{}, err
	}
	tg.Peer = peer
	ctx, cancel := context.WithTimeout(context.Background(), diagnoseTimeout)
	defer cancel()
	return doctor.Diagnose(ctx, tg, doctor.Options{}), nil
}
