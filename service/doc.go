// Package service is PeerSync's runtime, the same for the CLI, --headless
// and the GUI: the configuration file (Config, LoadConfig, Save), the one
// translation of a listener's or a replication's specification into the
// engine's configuration (ListenerConfig.Engine, ReplicationConfig.Engine),
// the Runner that starts and stops what a configuration names and reports
// its status, the run history of each configured replication (last run,
// last synced, totals; kept in the data directory across restarts), LAN
// announcements and browsing, metrics, and the control socket a running
// instance answers on.
package service
