// Package static holds the stylesheet, scripts and images served under /static/.
package static

import "embed"

// FS holds every static file.
//
//go:embed *.css *.svg *.js
var FS embed.FS
