// Package templates holds the html/template files of Passport's pages.
package templates

import "embed"

// FS holds every page template and the layout.
//
//go:embed *.html
var FS embed.FS
