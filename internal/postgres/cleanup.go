package postgres

import (
	"context"
	"time"
)

// DeleteExpired removes rows nobody can use any more: auth requests, tokens and sessions
// past their expiry by more than grace, and stale rate-limit windows. It is idempotent, so
// every replica may run it.
func (db *DB) DeleteExpired(ctx context.Context, grace time.Duration) (int64, error) {
	cutoff := db.now().Add(-grace)
	var total int64
	for _, q := range []string{
		`DELETE FROM auth_requests WHERE expires_at < $1`,
		`DELETE FROM access_tokens WHERE expires_at < $1`,
		`DELETE FROM refresh_tokens WHERE expires_at < $1`,
		`DELETE FROM sessions WHERE expires_at < $1 OR ended_at < $1`,
		`DELETE FROM signups WHERE expires_at < $1`,
		`DELETE FROM password_resets WHERE expires_at < $1`,
		`DELETE FROM rate_limits WHERE window_start < $1::timestamptz - interval '1 day'`,
	} {
		tag, err := db.pool.Exec(ctx, q, cutoff)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
	}
	return total, nil
}
