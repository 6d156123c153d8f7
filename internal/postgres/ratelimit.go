package postgres

import (
	"context"
	"time"
)

// Hit counts one attempt against key in a fixed window and returns the attempts so far in
// the current window and when it ends. The single upsert makes the count exact across
// replicas.
func (db *DB) Hit(ctx context.Context, key string, window time.Duration) (hits int, resetAt time.Time, err error) {
	now := db.now()
	var start time.Time
	err = db.pool.QueryRow(ctx, `
		INSERT INTO rate_limits AS r (key, window_start, hits) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			window_start = CASE WHEN r.window_start <= $2 - $3::interval THEN $2 ELSE r.window_start END,
			hits         = CASE WHEN r.window_start <= $2 - $3::interval THEN 1 ELSE r.hits + 1 END
		RETURNING hits, window_start`, key, now, window).Scan(&hits, &start)
	return hits, start.Add(window), err
}

// ResetLimit forgets the attempts counted against key.
func (db *DB) ResetLimit(ctx context.Context, key string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM rate_limits WHERE key = $1`, key)
	return err
}
