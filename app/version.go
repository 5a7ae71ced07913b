package app

// Version is the app version; release builds stamp it from FyneApp.toml
// with -ldflags "-X peersync/app.Version=…".
var Version = "0.1.0-dev"
