//go:build !headless

package app

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"peersync/discovery"
	"peersync/service"
	"peersync/ui"
)

// workspace is the GUI's view of the configuration file and the runner:
// each change is validated, saved (so it survives a restart and headless
// mode sees it) and then applied. What the user starts or stops by hand
// lasts for this session only; the file decides what runs at start-up.
type workspace struct {
	path    string // the configuration file
	dataDir string // where replication password files go
	rn      *service.Runner
	browser *discovery.Browser // nil when discovery is off

	mu               sync.Mutex
	cfg              *service.Config
	stoppedListeners map[string]bool   // stopped by the user this session
	runRepls         map[string]bool   // replications that should run now
	startErrs        map[string]string // "l:name" or "r:name" → why it did not start
}

var _ ui.Workspace = (*workspace)(nil)

// newWorkspace wraps a loaded configuration and a runner, and applies the
// configuration: listeners and auto-start replications start.
func newWorkspace(path, dataDir string, cfg *service.Config, rn *service.Runner, browser *discovery.Browser) *workspace {
	w := &workspace{path: path, dataDir: dataDir, rn: rn, browser: browser, cfg: cfg,
		stoppedListeners: map[string]bool{}, runRepls: map[string]bool{}, startErrs: map[string]string{}}
	for _, r := range cfg.Replications {
		if r.AutoStart {
			w.runRepls[r.Name] = true
		}
	}
	w.mu.Lock()
	w.applyLocked()
	w.mu.Unlock()
	return w
}

// applyLocked hands the runner the saved configuration minus what the
// user stopped, plus what the user started.
func (w *workspace) applyLocked() error {
	eff := *w.cfg
	eff.Listeners = nil
	for _, l := range w.cfg.Listeners {
		if !w.stoppedListeners[l.Name] {
			eff.Listeners = append(eff.Listeners, l)
		}
	}
	eff.Replications = nil
	for _, r := range w.cfg.Replications {
		r.AutoStart = w.runRepls[r.Name]
		eff.Replications = append(eff.Replications, r)
	}
	err := w.rn.Apply(&eff)
	clear(w.startErrs)
	if err != nil {
		var settings []string // discovery's and metrics': the Settings dialog's to report
		for _, e := range unjoin(err) {
			var se *service.StartError
			if !errors.As(e, &se) {
				settings = append(settings, e.Error())
				continue
			}
			switch se.Kind {
			case "listener":
				w.startErrs["l:"+se.Name] = e.Error()
			case "replication":
				w.startErrs["r:"+se.Name] = e.Error()
			}
		}
		if len(settings) > 0 {
			w.startErrs[settingsItem] = strings.Join(settings, "; ")
		}
	}
	return err
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// change edits a copy of the configuration, validates and saves it, and
// only then makes it current and applies it. The error of applying names
// the item when it is the one being changed.
func (w *workspace) change(edit func(c *service.Config) error, item string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	next := *w.cfg
	next.Listeners = slices.Clone(w.cfg.Listeners)
	next.Replications = slices.Clone(w.cfg.Replications)
	if err := edit(&next); err != nil {
		return err
	}
	if err := next.Validate(); err != nil {
		return err
	}
	if err := next.Save(w.path); err != nil {
		return fmt.Errorf("saving %s: %w", w.path, err)
	}
	w.cfg = &next
	w.applyLocked()
	if msg := w.startErrs[item]; msg != "" {
		return &ui.NotStartedError{Reason: msg}
	}
	return nil
}

// replaceOrAdd puts v where the item named old is, or appends it.
func replaceOrAdd[T any](list []T, name func(T) string, old string, v T) ([]T, error) {
	if old != name(v) && slices.ContainsFunc(list, func(x T) bool { return name(x) == name(v) }) {
		return nil, fmt.Errorf("the name %q is taken", name(v))
	}
	if i := slices.IndexFunc(list, func(x T) bool { return old != "" && name(x) == old }); i >= 0 {
		list[i] = v
		return list, nil
	}
	if old != "" {
		return nil, fmt.Errorf("%q no longer exists", old)
	}
	return append(list, v), nil
}

// Listeners.

func (w *workspace) Listeners() ([]ui.ListenerState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []ui.ListenerState
	for _, lc := range w.cfg.Listeners {
		st := ui.ListenerState{Settings: listenerSettings(lc), Error: w.startErrs["l:"+lc.Name]}
		if l := w.rn.Listener(lc.Name); l != nil && !l.Running() {
			if err := l.Err(); err != nil {
				st.Error = "stopped: " + err.Error()
			}
		} else if l != nil {
			s := l.Status()
			st.Running, st.ID, st.URLs = true, l.ID(), l.URLs()
			st.Announcement = w.rn.Announcement(lc.Name)
			st.Connections, st.Active, st.Protocols = s.ConnectionCount, s.ActiveConnectionCount, s.Protocols
			if id := l.TLSIdentity(); id != nil {
				st.Fingerprint = id.Fingerprint()
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// listenerSettings is a saved listener as its form opens: the
// authentication as one choice, and the users without their passwords.
func listenerSettings(lc service.ListenerConfig) ui.ListenerSettings {
	s := ui.ListenerSettings{ListenerConfig: lc, Auth: ui.AuthNone}
	switch {
	case lc.ClientCA != "":
		s.Auth = ui.AuthClientCA
	case len(lc.Users) > 0:
		s.Auth = ui.AuthPassword
		for _, u := range lc.Users {
			s.Logins = append(s.Logins, ui.ListenerUser{Name: u.Name})
		}
	}
	return s
}

// listenerConfig turns the form into configuration, hashing new passwords
// and keeping the hashes of users whose password was left empty.
func listenerConfig(s ui.ListenerSettings) (service.ListenerConfig, error) {
	lc := s.ListenerConfig
	lc.Name = strings.TrimSpace(lc.Name)
	if lc.TLS == service.TLSAnonymous {
		lc.TLS = ""
	}
	old := lc.Users
	lc.Users = nil
	switch s.Auth {
	case ui.AuthNone, "":
	case ui.AuthPassword:
		if len(s.Logins) == 0 {
			return lc, errors.New("add at least one user, or choose no authentication")
		}
		for _, u := range s.Logins {
			name := strings.TrimSpace(u.Name)
			if name == "" {
				return lc, errors.New("every user needs a name")
			}
			if slices.ContainsFunc(lc.Users, func(h service.UserHash) bool { return h.Name == name }) {
				return lc, fmt.Errorf("user %q is listed twice", name)
			}
			if u.Password == "" {
				i := slices.IndexFunc(old, func(h service.UserHash) bool { return h.Name == name })
				if i < 0 {
					return lc, fmt.Errorf("user %q needs a password", name)
				}
				lc.Users = append(lc.Users, old[i])
				continue
			}
			hash, err := service.HashPassword(u.Password)
			if err != nil {
				return lc, err
			}
			lc.Users = append(lc.Users, service.UserHash{Name: name, PasswordHash: hash})
		}
	case ui.AuthClientCA:
		if lc.ClientCA == "" {
			return lc, errors.New("choose a PEM file of client-certificate roots")
		}
		data, err := os.ReadFile(lc.ClientCA)
		if err != nil {
			return lc, err
		}
		if !strings.Contains(string(data), "-----BEGIN CERTIFICATE-----") {
			return lc, fmt.Errorf("%s holds no PEM certificates", lc.ClientCA)
		}
	default:
		return lc, fmt.Errorf("unknown authentication %q", s.Auth)
	}
	return lc, nil
}

func (w *workspace) SaveListener(old string, s ui.ListenerSettings) error {
	return w.change(func(c *service.Config) error {
		lc, err := listenerConfig(s)
		if err != nil {
			return err
		}
		c.Listeners, err = replaceOrAdd(c.Listeners, func(l service.ListenerConfig) string { return l.Name }, old, lc)
		delete(w.stoppedListeners, old)
		delete(w.stoppedListeners, lc.Name)
		return err
	}, "l:"+strings.TrimSpace(s.Name))
}

func (w *workspace) DeleteListener(name string) error {
	return w.change(func(c *service.Config) error {
		c.Listeners = slices.DeleteFunc(c.Listeners, func(l service.ListenerConfig) bool { return l.Name == name })
		return nil
	}, "")
}

func (w *workspace) StartListener(name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.stoppedListeners, name)
	w.applyLocked()
	if msg := w.startErrs["l:"+name]; msg != "" {
		return errors.New(msg)
	}
	return nil
}

func (w *workspace) StopListener(name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stoppedListeners[name] = true
	w.applyLocked()
	return nil
}

// Interfaces lists the up interfaces by name.
func (w *workspace) Interfaces() []string {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var names []string
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 {
			names = append(names, i.Name)
		}
	}
	return names
}

func (w *workspace) Peers() ui.PeerBrowser {
	if w.browser == nil {
		return nil // a nil *Browser in the interface would not compare equal to nil
	}
	return savedPeers{w.browser, w}
}

// savedPeers is the browser with its hand-added peers kept in the
// configuration ([[discovery.peer]]), so they come back after a restart.
type savedPeers struct {
	*discovery.Browser
	w *workspace
}

func (s savedPeers) AddManual(host string, port int, database string, tls bool) (discovery.Peer, error) {
	p, err := s.Browser.AddManual(host, port, database, tls)
	if err != nil {
		return p, err
	}
	return p, s.w.change(func(c *service.Config) error {
		mp := service.ManualPeer{Host: p.Host, Port: p.Port, Database: p.Database, TLS: p.TLS}
		c.Discovery.Peers = slices.Clone(c.Discovery.Peers)
		if i := slices.IndexFunc(c.Discovery.Peers, func(o service.ManualPeer) bool { return manualKey(o) == p.Key() }); i >= 0 {
			c.Discovery.Peers[i] = mp
		} else {
			c.Discovery.Peers = append(c.Discovery.Peers, mp)
		}
		return nil
	}, "")
}

func (s savedPeers) RemoveManual(key string) {
	s.Browser.RemoveManual(key)
	err := s.w.change(func(c *service.Config) error {
		c.Discovery.Peers = slices.DeleteFunc(slices.Clone(c.Discovery.Peers), func(o service.ManualPeer) bool { return manualKey(o) == key })
		return nil
	}, "")
	if err != nil {
		s.w.rn.Engine().Logger().Warn("could not save the peers", "error", err.Error())
	}
}

// manualKey is the discovery key of a saved peer.
func manualKey(mp service.ManualPeer) string {
	return discovery.Peer{Host: mp.Host, Port: mp.Port, Database: mp.Database, Manual: true}.Key()
}

// Replications.

func (w *workspace) Replications() ([]ui.ReplicationState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []ui.ReplicationState
	for _, rc := range w.cfg.Replications {
		st := ui.ReplicationState{Settings: replicationSettings(rc), History: w.rn.History(rc.Name)}
		if r := w.rn.Replicator(rc.Name); r != nil {
			st.ID, st.Status = r.ID(), r.Status()
			st.Running = r.Done() != nil
			if cert := r.ServerCertificate(); cert != nil {
				sum := sha256.Sum256(cert.Raw)
				st.ServerFingerprint = hex.EncodeToString(sum[:])
			}
		} else if msg := w.startErrs["r:"+rc.Name]; msg != "" {
			st.Status.Error = errors.New(msg)
		}
		out = append(out, st)
	}
	return out, nil
}

func replicationSettings(rc service.ReplicationConfig) ui.ReplicationSettings {
	if rc.Type == "" {
		rc.Type = service.TypePushAndPull
	}
	if rc.Conflicts == "" {
		rc.Conflicts = service.ConflictsDefault
	}
	return ui.ReplicationSettings{ReplicationConfig: rc}
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// passwordFile is where an earlier version kept a replication's password:
// a file in the data directory, named after the replication.
func (w *workspace) passwordFile(name string) string {
	return filepath.Join(w.dataDir, "secrets", "replication-"+unsafeFileChars.ReplaceAllString(name, "_")+".password")
}

// setPassword saves a replication's password in the engine's secrets (the
// OS keyring), never in the configuration.
func (w *workspace) setPassword(name, pw string) error {
	secrets, err := w.rn.Engine().Secrets()
	if err != nil {
		return err
	}
	return secrets.Set(service.PasswordLabel(name), []byte(pw))
}

// keepPassword keeps the password saved for the replication once named
// old under its new name; it fails when none is saved.
func (w *workspace) keepPassword(old, name string) error {
	secrets, err := w.rn.Engine().Secrets()
	if err != nil {
		return err
	}
	if old == "" {
		old = name
	}
	pw, err := secrets.Get(service.PasswordLabel(old))
	if err != nil || old == name {
		return err
	}
	if err := secrets.Set(service.PasswordLabel(name), pw); err != nil {
		return err
	}
	return secrets.Delete(service.PasswordLabel(old))
}

func (w *workspace) SaveReplication(old string, s ui.ReplicationSettings) error {
	name := strings.TrimSpace(s.Name)
	return w.change(func(c *service.Config) error {
		rc := s.ReplicationConfig
		rc.Name, rc.Target, rc.Pin, rc.User = name, strings.TrimSpace(rc.Target), strings.TrimSpace(rc.Pin), strings.TrimSpace(rc.User)
		var prev *service.ReplicationConfig
		if i := slices.IndexFunc(c.Replications, func(r service.ReplicationConfig) bool { return old != "" && r.Name == old }); i >= 0 {
			prev = &c.Replications[i]
		}
		// A pin typed in is a fingerprint; one kept from the file may also
		// name a PEM certificate.
		if rc.Pin != "" && (prev == nil || rc.Pin != prev.Pin) {
			fp, err := parsePin(rc.Pin)
			if err != nil {
				return err
			}
			rc.Pin = fp
		}
		switch {
		case rc.User == "":
			rc.PasswordFile = ""
		case s.Password != "":
			if err := w.setPassword(name, s.Password); err != nil {
				return err
			}
			if prev != nil && prev.PasswordFile == w.passwordFile(old) {
				os.Remove(prev.PasswordFile) // where an earlier version kept it
			}
			rc.PasswordFile = ""
		case rc.PasswordFile != "": // a file the configuration names
		case prev != nil && prev.PasswordFile != "":
			rc.PasswordFile = prev.PasswordFile
		default:
			if err := w.keepPassword(old, name); err != nil {
				return fmt.Errorf("user %q needs a password", rc.User)
			}
		}
		var err error
		c.Replications, err = replaceOrAdd(c.Replications, func(r service.ReplicationConfig) string { return r.Name }, old, rc)
		if err != nil {
			return err
		}
		delete(w.runRepls, old)
		if rc.AutoStart {
			w.runRepls[name] = true
		}
		if old != "" && old != name {
			// Its runs go with it; stopped first, so no run records the old name.
			w.rn.StopReplication(old)
			if err := service.RenameRunHistory(w.dataDir, old, name); err != nil {
				w.rn.Engine().Logger().Warn("the replication's last run is not kept under its new name", "replication", name, "error", err.Error())
			}
		}
		return nil
	}, "r:"+name)
}

func parsePin(pin string) (string, error) {
	clean := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(pin))
	if b, err := hex.DecodeString(clean); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("pin %q is not a SHA-256 fingerprint (64 hex digits)", pin)
	}
	return clean, nil
}

func (w *workspace) DeleteReplication(name string) error {
	err := w.change(func(c *service.Config) error {
		i := slices.IndexFunc(c.Replications, func(r service.ReplicationConfig) bool { return r.Name == name })
		if i < 0 {
			return nil
		}
		if pf := c.Replications[i].PasswordFile; pf == w.passwordFile(name) {
			os.Remove(pf)
		}
		if secrets, err := w.rn.Engine().Secrets(); err == nil {
			secrets.Delete(service.PasswordLabel(name)) // none saved is fine
		}
		c.Replications = slices.Delete(c.Replications, i, i+1)
		delete(w.runRepls, name)
		return nil
	}, "")
	if err == nil { // stopped and gone from the file: its runs go too
		if err := service.DeleteRunHistory(w.dataDir, name); err != nil {
			w.rn.Engine().Logger().Warn("the replication's run history is not deleted", "replication", name, "error", err.Error())
		}
	}
	return err
}

func (w *workspace) StartReplication(name string, reset bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !slices.ContainsFunc(w.cfg.Replications, func(r service.ReplicationConfig) bool { return r.Name == name }) {
		return fmt.Errorf("replication %q no longer exists", name)
	}
	w.runRepls[name] = true
	w.applyLocked()
	if msg := w.startErrs["r:"+name]; msg != "" {
		return errors.New(msg)
	}
	// A new run of one that finished, or, with reset, of a running one; a
	// running one is otherwise left alone.
	return w.rn.StartReplication(name, reset)
}

func (w *workspace) StopReplication(name string) error {
	w.rn.StopReplication(name) // keeps the replicator and its last status on the list
	return nil
}

func (w *workspace) RetryReplication(name string) error {
	if r := w.rn.Replicator(name); r != nil {
		r.RetryNow()
	}
	return nil
}

// Settings.

// settingsItem is the key of discovery's and metrics' errors in startErrs.
const settingsItem = "settings"

func (w *workspace) Settings() (ui.AppSettings, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.cfg.Discovery
	d.Peers = slices.Clone(d.Peers)
	return ui.AppSettings{Discovery: d, Log: w.cfg.Log, Metrics: w.cfg.Metrics}, nil
}

// SaveSettings saves [discovery] (keeping its peers, which the Peers
// screen edits), [log] and [metrics], and applies them: announcing and
// metrics change at once.
func (w *workspace) SaveSettings(s ui.AppSettings) error {
	return w.change(func(c *service.Config) error {
		s.Discovery.Peers = c.Discovery.Peers
		c.Discovery, c.Log, c.Metrics = s.Discovery, s.Log, s.Metrics
		return nil
	}, settingsItem)
}
