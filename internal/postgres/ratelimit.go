package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Hit counts one attempt against key in a fixed window and returns the attempts so far in
// the current window and when it ends. The single upsert makes the count exact across
// replicas.
func (db *DB) Hit(ctx context.Context, key string, window time.Duration) (hits int, resetAt time.Time, err error) {
	c, err := db.HitAll(ctx, window, key)
	if err != nil {
		return 0, time.Time{}, err
	}
	return c[0].Hits, c[0].ResetAt, nil
}

// ResetLimit forgets the attempts counted against key.
func (db *DB) ResetLimit(ctx context.Context, key string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM rate_limits WHERE key = $1`, key)
	return err
}

// Count is one key's attempts in its current window.
type Count struct {
	Hits    int
	ResetAt time.Time
}

// HitAll counts one attempt against every key at once, in one statement (one round trip),
// and returns the counts in the order of keys.
func (db *DB) HitAll(ctx context.Context, window time.Duration, keys ...string) ([]Count, error) {
	now := db.now()
	rows, err := db.pool.Query(ctx, `
		INSERT INTO rate_limits AS r (key, window_start, hits) SELECT k, $2, 1 FROM unnest($1::text[]) AS k
		ON CONFLICT (key) DO UPDATE SET
			window_start = CASE WHEN r.window_start <= $2 - $3::interval THEN $2 ELSE r.window_start END,
			hits         = CASE WHEN r.window_start <= $2 - $3::interval THEN 1 ELSE r.hits + 1 END
		RETURNING key, hits, window_start`, keys, now, window)
	if err != nil {
		return nil, err
	}
	byKey := map[string]Count{}
	var key string
	var c Count
	var start time.Time
	if _, err := pgx.ForEachRow(rows, []any{&key, &c.Hits, &start}, func() error {
		c.ResetAt = start.Add(window)
		byKey[key] = c
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]Count, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out, nil
}

// Unhit takes back one attempt counted against key (one that turned out not to count, such
// as a sign-in that succeeded), never below zero.
func (db *DB) Unhit(ctx context.Context, key string) error {
	_, err := db.pool.Exec(ctx, `UPDATE rate_limits SET hits = hits - 1 WHERE key = $1 AND hits > 0`, key)
	return err
}
