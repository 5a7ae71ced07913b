package tlsid

import (
	"fmt"
	"testing"

	"github.com/godbus/dbus/v5"
)

const (
	secretsBusName    = "org.freedesktop.secrets"
	secretsPath       = dbus.ObjectPath("/org/freedesktop/secrets")
	secretsService    = "org.freedesktop.Secret.Service"
	sessionCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/session")
	noCollection      = dbus.ObjectPath("/")
	defaultAliasName  = "default"
)

// useSessionCollectionAsDefault prepares a freshly started gnome-keyring
// for go-keyring. Started with an empty --unlock password, gnome-keyring
// creates no "login" keyring and no "default" alias, and go-keyring writes
// only there. When (and only when) no default collection exists, this
// points the alias at the daemon's in-memory session collection for the
// duration of the test, then removes the alias again. A desktop session,
// which has a default collection, is never touched.
func useSessionCollectionAsDefault(t *testing.T) error {
	t.Helper()
	conn, err := dbus.SessionBus()
	if err != nil {
		return fmt.Errorf("connect to session bus: %w", err)
	}
	svc := conn.Object(secretsBusName, secretsPath)
	var current dbus.ObjectPath
	if err := svc.Call(secretsService+".ReadAlias", 0, defaultAliasName).Store(&current); err != nil {
		return fmt.Errorf("read the default collection alias: %w", err)
	}
	if current != noCollection {
		return fmt.Errorf("a default collection (%s) exists but is not usable", current)
	}
	if err := svc.Call(secretsService+".SetAlias", 0, defaultAliasName, sessionCollection).Err; err != nil {
		return fmt.Errorf("alias the session collection as default: %w", err)
	}
	t.Cleanup(func() {
		_ = svc.Call(secretsService+".SetAlias", 0, defaultAliasName, noCollection).Err
	})
	return nil
}
