package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

const accessTokenColumns = `id, family_id, client_id, coalesce(account_id::text, '') AS account_id, subject,
	scopes, audience, auth_time, amr, created_at, expires_at`

const refreshTokenColumns = `r.id, r.family_id, r.client_id, r.account_id, r.scopes, r.audience,
	r.auth_time, r.amr, r.created_at, r.expires_at`

// CreateAccessToken stores an access token and fills in its ID. Its family must be live:
// returns ENOTFOUND when it was revoked (a replayed code, a disconnected app).
func (db *DB) CreateAccessToken(ctx context.Context, t *passport.AccessToken) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := lockFamily(ctx, tx, t.FamilyID, t.ClientID, t.AccountID, db.now()); err != nil {
			return err
		}
		return insertAccessToken(ctx, tx, t)
	})
}

// lockFamily creates the token family when it is new, locks its row until the transaction
// ends, and refuses a revoked family. Revocation takes the same lock first, so the two
// serialise: a token is either inserted before the revocation (and then revoked with its
// family) or refused after it.
func lockFamily(ctx context.Context, tx pgx.Tx, family, clientID, accountID string, now time.Time) error {
	var account *string
	if accountID != "" {
		account = &accountID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO token_families (id, client_id, account_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING`, family, clientID, account, now); err != nil {
		return err
	}
	var revoked bool
	if err := tx.QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM token_families WHERE id = $1 FOR UPDATE`, family).Scan(&revoked); err != nil {
		return err
	}
	if revoked {
		return passport.Errorf(passport.ENOTFOUND, "This grant was revoked.")
	}
	return nil
}

func insertAccessToken(ctx context.Context, tx pgx.Tx, t *passport.AccessToken) error {
	var account *string
	if t.AccountID != "" {
		account = &t.AccountID
	}
	return tx.QueryRow(ctx, `
		INSERT INTO access_tokens (family_id, client_id, account_id, subject, scopes, audience, auth_time, amr, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		t.FamilyID, t.ClientID, account, t.Subject, t.Scopes, t.Audience, t.AuthTime, nz(t.AMR), t.CreatedAt, t.ExpiresAt,
	).Scan(&t.ID)
}

// RotateTokens stores a new access token and a new refresh token (whose value hashes to
// newHash) in one transaction. When currentHash is not nil it is the refresh token being
// exchanged: it is marked used in the same statement that checks it is still usable, so two
// concurrent exchanges of one token cannot both succeed. If it was already used, that is
// reuse: the whole family is revoked and ENOTFOUND returned. A revoked family refuses new
// tokens.
func (db *DB) RotateTokens(ctx context.Context, at *passport.AccessToken, rt *passport.RefreshToken, newHash, currentHash []byte) error {
	reused := false
	gone := passport.Errorf(passport.ENOTFOUND, "The refresh token is invalid, expired or already used.")
	err := db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		if currentHash != nil {
			// The family is locked before the old token is marked used: revocation takes the
			// locks in the same order, so the two serialise instead of deadlocking.
			err := tx.QueryRow(ctx, `SELECT family_id FROM refresh_tokens WHERE token_hash = $1`, currentHash).Scan(&rt.FamilyID)
			if err == pgx.ErrNoRows {
				return gone
			}
			if err != nil {
				return err
			}
			at.FamilyID = rt.FamilyID
		}
		if err := lockFamily(ctx, tx, rt.FamilyID, rt.ClientID, rt.AccountID, now); err != nil {
			return err
		}
		if currentHash != nil {
			tag, err := tx.Exec(ctx, `
				UPDATE refresh_tokens SET used_at = $2
				WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`, currentHash, now)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				reused = true
				return gone
			}
		}
		if err := insertAccessToken(ctx, tx, at); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO refresh_tokens (token_hash, family_id, client_id, account_id, scopes, audience, auth_time, amr, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			newHash, rt.FamilyID, rt.ClientID, rt.AccountID, rt.Scopes, rt.Audience, rt.AuthTime, nz(rt.AMR),
			rt.CreatedAt, rt.ExpiresAt,
		).Scan(&rt.ID)
	})
	if reused {
		if rerr := db.RevokeFamily(ctx, rt.FamilyID); rerr != nil {
			return rerr
		}
	}
	return err
}

// RefreshToken returns the usable refresh token whose value hashes to hash, for an active
// account. A token that was already rotated is reuse: its whole family is revoked. Returns
// ENOTFOUND for anything but a usable token.
func (db *DB) RefreshToken(ctx context.Context, hash []byte) (*passport.RefreshToken, error) {
	rows, _ := db.pool.Query(ctx, `
		SELECT `+refreshTokenColumns+`, (r.used_at IS NOT NULL AND r.revoked_at IS NULL) AS reused,
			(r.revoked_at IS NULL AND r.used_at IS NULL AND r.expires_at > $2 AND a.status = 'active') AS usable
		FROM refresh_tokens r JOIN accounts a ON a.id = r.account_id
		WHERE r.token_hash = $1`, hash, db.now())
	type row struct {
		passport.RefreshToken
		Reused bool
		Usable bool
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByNameLax[row])
	if err != nil {
		return nil, mapErr(err, "The refresh token is invalid, expired or already used.")
	}
	if r.Reused {
		if err := db.RevokeFamily(ctx, r.FamilyID); err != nil {
			return nil, err
		}
	}
	if !r.Usable {
		return nil, passport.Errorf(passport.ENOTFOUND, "The refresh token is invalid, expired or already used.")
	}
	return &r.RefreshToken, nil
}

// RefreshTokenInfo returns the refresh token with this hash if it is not revoked, whatever
// its use, for revocation. Returns ENOTFOUND otherwise.
func (db *DB) RefreshTokenInfo(ctx context.Context, hash []byte) (*passport.RefreshToken, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+refreshTokenColumns+` FROM refresh_tokens r WHERE token_hash = $1`, hash)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.RefreshToken])
	return r, mapErr(err, "No such refresh token.")
}

// AccessToken returns a valid access token: not revoked, not expired, and (for a person's
// token) of an active account. Returns ENOTFOUND otherwise.
func (db *DB) AccessToken(ctx context.Context, id string) (*passport.AccessToken, error) {
	if !isUUID(id) {
		return nil, passport.Errorf(passport.ENOTFOUND, "The access token is invalid or expired.")
	}
	rows, _ := db.pool.Query(ctx, `
		SELECT `+accessTokenColumns+` FROM access_tokens t
		WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2
		  AND (account_id IS NULL OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = t.account_id AND a.status = 'active'))
		  AND NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = t.client_id AND c.disabled)`,
		id, db.now())
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.AccessToken])
	return t, mapErr(err, "The access token is invalid or expired.")
}

// AccessTokenInfo returns an access token whatever its state, for revocation.
func (db *DB) AccessTokenInfo(ctx context.Context, id string) (*passport.AccessToken, error) {
	if !isUUID(id) {
		return nil, passport.Errorf(passport.ENOTFOUND, "No such access token.")
	}
	rows, _ := db.pool.Query(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE id = $1`, id)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.AccessToken])
	return t, mapErr(err, "No such access token.")
}

// RevokeAccessToken revokes one access token.
func (db *DB) RevokeAccessToken(ctx context.Context, id string) error {
	_, err := db.pool.Exec(ctx, `UPDATE access_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, db.now())
	return err
}

// RevokeFamily revokes every access and refresh token descended from one grant.
func (db *DB) RevokeFamily(ctx context.Context, family string) error {
	if !isUUID(family) {
		return nil
	}
	return db.tx(ctx, func(tx pgx.Tx) error { return revokeFamily(ctx, tx, family, db.now()) })
}

func revokeFamily(ctx context.Context, tx pgx.Tx, family string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, family, now); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`, family, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE access_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`, family, now)
	return err
}

func nz(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// RefreshTokenFamily returns the family and client of the refresh token with the id.
func (db *DB) RefreshTokenFamily(ctx context.Context, id string) (family, clientID string, err error) {
	if !isUUID(id) {
		return "", "", passport.Errorf(passport.ENOTFOUND, "No such refresh token.")
	}
	err = db.pool.QueryRow(ctx, `SELECT family_id, client_id FROM refresh_tokens WHERE id = $1`, id).Scan(&family, &clientID)
	return family, clientID, mapErr(err, "No such refresh token.")
}
