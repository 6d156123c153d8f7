package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// keyLock is the transaction advisory lock taken while deciding whether to create a key, so
// replicas starting together create one key, not one each.
const keyLock = 7_420_002

// SigningKeys returns every signing key that is not retired, newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]passport.SigningKey, error) {
	rows, _ := db.pool.Query(ctx, `
		SELECT kid, alg, private_enc, convert_to(public_jwk::text, 'UTF8') AS public_jwk, created_at, activate_at, retire_at
		FROM signing_keys WHERE retire_at IS NULL OR retire_at > $1
		ORDER BY activate_at DESC, created_at DESC`, db.now())
	return pgx.CollectRows(rows, pgx.RowToStructByNameLax[passport.SigningKey])
}

// EnsureSigningKey creates a signing key with make when no usable key exists. make runs
// under a lock shared by all replicas, so at most one of them creates the key.
func (db *DB) EnsureSigningKey(ctx context.Context, make func() (passport.SigningKey, error)) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keyLock); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM signing_keys WHERE activate_at <= $1 AND (retire_at IS NULL OR retire_at > $1)`,
			db.now()).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		k, err := make()
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO signing_keys (kid, alg, private_enc, public_jwk, created_at, activate_at)
			VALUES ($1, $2, $3, convert_from($4, 'UTF8')::jsonb, $5, $5)`, k.KID, k.Alg, k.PrivateEnc, k.PublicJWK, db.now())
		return err
	})
}
