// Package templates holds the html/template files of Passport's pages.
package templates

import "embed"

// FS holds every page template, the layout, and the sample personal-data policy
// (policy.md), used when profile.policy_file is not set.
//
//go:embed *.html *.md
var FS embed.FS
