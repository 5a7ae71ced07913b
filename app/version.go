package app

// Version is the app version shown by --version and the About box. The
// Makefile's build and package targets stamp it with the Version in
// FyneApp.toml (-ldflags "-X peersync/app.Version=…"); plain `go build`
// and `go run` keep this default, which marks a development build.
var Version = "0.1.0-dev"
