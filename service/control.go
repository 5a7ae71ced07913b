package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// ControlSocketName is the Unix socket a running instance answers status
// requests and forwarded commands on. It is created 0600 in the data
// directory (itself 0700), so only the same user can use it.
const ControlSocketName = "peersync.sock"

// ErrAnotherInstance is StartControl's refusal when another instance
// answers on the data directory's control socket.
var ErrAnotherInstance = errors.New("another PeerSync instance is running on this data directory")

// Control is a running instance's control socket.
type Control struct {
	srv *http.Server
}

// StartControl serves h on the control socket at path. It refuses when
// another instance answers there (ErrAnotherInstance), and removes a stale
// socket left by a crash. Other errors mean the platform offers no such
// socket (Unix sockets under Wine): callers may go on without it.
func StartControl(path string, h http.Handler) (*Control, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("%w (%s)", ErrAnotherInstance, filepath.Dir(path))
	}
	os.Remove(path) // a stale socket from a crash
	old := umask(0o177)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	os.Chmod(path, 0o600)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return &Control{srv: srv}, nil
}

// Close stops serving, waiting up to 2 s for requests under way. A nil
// Control (none could be started) closes as nothing.
func (c *Control) Close() error {
	if c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.srv.Shutdown(ctx)
}
