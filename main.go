// Command peersync is the PeerSync desktop app, headless service and CLI.
package main

import (
	"os"

	"peersync/app"
)

func main() { os.Exit(app.Main(os.Args[1:])) }
