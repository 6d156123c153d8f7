package jobs

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/passport-idp/passport/internal/postgres"
)

// Purge erases every account whose deletion grace period is over, by the database's clock
// (db.Now, which tests move), and returns how many it erased. Each account is claimed with
// SKIP LOCKED, so replicas running it at once share the work.
func Purge(ctx context.Context, db *postgres.DB) (int, error) {
	n := 0
	for {
		found, err := db.PurgeNext(ctx)
		if err != nil || !found {
			return n, err
		}
		n++
	}
}

// PruneEvents deletes the security events older than retention (by the database's clock).
// Replicas may run it at once: the same old rows are deleted once, the others find none.
func PruneEvents(ctx context.Context, db *postgres.DB, retention time.Duration) (int64, error) {
	return db.DeleteEventsBefore(ctx, db.Now().Add(-retention))
}

// PurgeLoop runs Purge and PruneEvents every interval (with jitter) until ctx ends.
func PurgeLoop(ctx context.Context, db *postgres.DB, log *slog.Logger, interval, retention time.Duration) {
	for {
		wait := interval + time.Duration(rand.Int64N(int64(interval)/5+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		n, err := Purge(ctx, db)
		if err != nil && ctx.Err() == nil {
			log.Warn("purge", slog.String("error", err.Error()))
		}
		if n > 0 {
			log.Info("purged deleted accounts", slog.Int("count", n))
		}
		if n, err := PruneEvents(ctx, db, retention); err != nil && ctx.Err() == nil {
			log.Warn("prune security events", slog.String("error", err.Error()))
		} else if n > 0 {
			log.Info("deleted old security events", slog.Int64("count", n))
		}
	}
}
