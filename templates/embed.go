// Package templates holds the html/template files of Passport's pages.
package templates

import "embed"

// FS holds every page template, the layout, the sample personal-data policy (policy.md,
// used when profile.policy_file is not set), and the message templates
// (messages/<kind>.<language>.tmpl, overridable from messages.templates_dir).
//
//go:embed *.html *.md messages/*.tmpl
var FS embed.FS
