package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/passport-idp/passport/internal/postgres"
)

// ImportRunner applies one claimed CSV import; attempt fences its writes (internal/account
// RunImport, injected by cmd/passport: this package does not know accounts).
type ImportRunner func(ctx context.Context, id string, attempt int) error

// Importer runs the CSV imports of members on every replica. Each import is claimed in one
// statement with SKIP LOCKED and a lease (postgres.ClaimImport), so two replicas never run
// the same import at once, and one whose runner died is resumed by another once its lease
// runs out (its rows are idempotent: re-running them is safe).
type Importer struct {
	DB  *postgres.DB
	Run ImportRunner
	Log *slog.Logger
	// Poll is how often it looks for work besides being woken (a missed notification, an
	// abandoned import whose lease ran out); 0 means 5 seconds.
	Poll time.Duration
}

// RunDue claims and runs imports one after another until none is due, and returns how many
// it ran. A run's error is logged, not returned: the import waits for its lease to run out
// and is claimed again.
func (im *Importer) RunDue(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		c, err := im.DB.ClaimImport(ctx)
		if err != nil || c == nil {
			return n, err
		}
		n++
		if err := im.Run(ctx, c.ID, c.Attempt); err != nil && ctx.Err() == nil {
			im.log().Warn("import", slog.String("import", c.ID), slog.Int("attempt", c.Attempt), slog.String("error", err.Error()))
		}
	}
	return n, ctx.Err()
}

// Loop runs due imports until ctx ends: at once when one is queued (LISTEN), and every Poll.
func (im *Importer) Loop(ctx context.Context) {
	poll := im.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	wake := make(chan struct{}, 1)
	go func() {
		// The listener reconnects after a failure; polling covers the gap.
		for ctx.Err() == nil {
			if err := im.DB.WaitForImports(ctx, nil, wake); err != nil && ctx.Err() == nil {
				im.log().Warn("import listener", slog.String("error", err.Error()))
				select {
				case <-ctx.Done():
				case <-time.After(poll):
				}
			}
		}
	}()
	for {
		if _, err := im.RunDue(ctx); err != nil && ctx.Err() == nil {
			im.log().Warn("claim import", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(poll):
		}
	}
}

func (im *Importer) log() *slog.Logger {
	if im.Log == nil {
		return slog.Default()
	}
	return im.Log
}
