// Package assets holds resources embedded in the binary, such as the icon.
package assets

import _ "embed"

// Icon is the app icon (PNG, 256×256), also used by FyneApp.toml.
//
//go:embed icon.png
var Icon []byte
