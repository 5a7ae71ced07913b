package app

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// The discovery end-to-end tests start this test binary inside a network
// namespace, either as PeerSync itself (mainArgsEnv holds its arguments as
// a JSON list) or as a helper peer (see lanpeer_helper_test.go).
const (
	mainArgsEnv = "PEERSYNC_APP_TEST_MAIN"
	lanPeerEnv  = "PEERSYNC_APP_TEST_LANPEER"
)

func TestMain(m *testing.M) {
	if raw := os.Getenv(mainArgsEnv); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, "bad", mainArgsEnv, err)
			os.Exit(2)
		}
		os.Exit(Main(args))
	}
	if dataDir := os.Getenv(lanPeerEnv); dataDir != "" {
		os.Exit(runLANPeer(dataDir))
	}
	goleak.VerifyTestMain(m,
		// Fyne starts this queue when its packages initialise (GUI build);
		// it lives as long as the process.
		goleak.IgnoreTopFunction("fyne.io/fyne/v2/internal/async.(*UnboundedChan[...]).processing"),
		// The keyring's D-Bus session connection is shared by the whole
		// process and stays open on purpose.
		goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.newConn.func1"),
		goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.(*Conn).inWorker"))
}
