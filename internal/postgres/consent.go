package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ConsentedScopes returns the scopes the account has allowed the client.
func (db *DB) ConsentedScopes(ctx context.Context, accountID, clientID string) ([]string, error) {
	rows, _ := db.pool.Query(ctx, `SELECT scope FROM consents WHERE account_id = $1 AND client_id = $2 ORDER BY scope`,
		accountID, clientID)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// GrantConsent records that the account allows the client the scopes.
func (db *DB) GrantConsent(ctx context.Context, accountID, clientID string, scopes []string) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO consents (account_id, client_id, scope, granted_at)
		SELECT $1, $2, s, $4 FROM unnest($3::text[]) AS s
		ON CONFLICT (account_id, client_id, scope) DO NOTHING`, accountID, clientID, scopes, db.now())
	return err
}
