// Package migrations holds the forward-only SQL migrations, applied in name order.
package migrations

import "embed"

// FS holds every *.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
