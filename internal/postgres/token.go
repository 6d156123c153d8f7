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

// CreateAccessToken stores an access token and fills in its ID, in one statement. A token
// of a person belongs to a live family (locked FOR UPDATE in the same statement, so it
// cannot slip past a revocation): returns ENOTFOUND when the family was revoked (a
// replayed code, a disconnected app). A client's own token (client_credentials) has a
// family of its own and needs no row for it.
func (db *DB) CreateAccessToken(ctx context.Context, t *passport.AccessToken) error {
	if t.AccountID == "" {
		return db.pool.QueryRow(ctx, `
			INSERT INTO access_tokens (family_id, client_id, subject, scopes, audience, amr, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, '{}', $6, $7) RETURNING id`,
			t.FamilyID, t.ClientID, t.Subject, t.Scopes, t.Audience, t.CreatedAt, t.ExpiresAt).Scan(&t.ID)
	}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO access_tokens (family_id, client_id, account_id, subject, scopes, audience, auth_time, amr, created_at, expires_at)
		SELECT f.id, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10 FROM token_families f
		WHERE f.id = $1 AND f.revoked_at IS NULL FOR UPDATE
		RETURNING id`,
		t.FamilyID, t.ClientID, t.AccountID, t.Subject, t.Scopes, t.Audience, t.AuthTime, passport.NonNil(t.AMR), t.CreatedAt, t.ExpiresAt,
	).Scan(&t.ID)
	if err == pgx.ErrNoRows {
		return passport.Errorf(passport.ENOTFOUND, "This grant was revoked.")
	}
	return err
}

// RotateTokens stores a new access token and a new refresh token (whose value hashes to
// newHash), in one statement. The statement locks the token family FOR UPDATE first, the
// lock revocation takes too, so a rotation and a revocation serialise: the new tokens are
// either inserted before the revocation (and revoked with the family) or refused after it.
//
// When currentHash is not nil it is the refresh token being exchanged: it is marked used in
// the same statement that checks it is still usable, so two concurrent exchanges of one
// token cannot both succeed. If it had already been used, that is reuse: the whole family is
// revoked and ENOTFOUND returned. With currentHash nil (a code with offline_access) the
// family is the auth request's, created when the code was consumed.
func (db *DB) RotateTokens(ctx context.Context, at *passport.AccessToken, rt *passport.RefreshToken, newHash, currentHash []byte) error {
	now := db.now()
	var family *string
	var atID, rtID *string
	var err error
	if currentHash == nil {
		err = db.pool.QueryRow(ctx, `
			WITH fam AS (SELECT id FROM token_families WHERE id = $1 AND revoked_at IS NULL FOR UPDATE),
			a AS (INSERT INTO access_tokens (family_id, client_id, account_id, subject, scopes, audience, auth_time, amr, created_at, expires_at)
				SELECT fam.id, $2, $3::uuid, $3::text, $4, $5, $6, $7, $8, $9 FROM fam RETURNING id),
			r AS (INSERT INTO refresh_tokens (token_hash, family_id, client_id, account_id, scopes, audience, auth_time, amr, created_at, expires_at)
				SELECT $10, fam.id, $2, $3::uuid, $11, $5, $6, $7, $8, $12 FROM fam RETURNING id)
			SELECT (SELECT id::text FROM fam), (SELECT id::text FROM a), (SELECT id::text FROM r)`,
			rt.FamilyID, at.ClientID, at.AccountID, at.Scopes, at.Audience, rt.AuthTime, passport.NonNil(rt.AMR), at.CreatedAt, at.ExpiresAt,
			newHash, rt.Scopes, rt.ExpiresAt).Scan(&family, &atID, &rtID)
	} else {
		err = db.pool.QueryRow(ctx, `
			WITH old AS (SELECT family_id FROM refresh_tokens WHERE token_hash = $1),
			fam AS (SELECT f.id FROM token_families f JOIN old ON f.id = old.family_id
				WHERE f.revoked_at IS NULL FOR UPDATE OF f),
			used AS (UPDATE refresh_tokens t SET used_at = $2 FROM fam
				WHERE t.token_hash = $1 AND t.family_id = fam.id AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2
				RETURNING t.family_id),
			a AS (INSERT INTO access_tokens (family_id, client_id, account_id, subject, scopes, audience, auth_time, amr, created_at, expires_at)
				SELECT used.family_id, $3, $4::uuid, $4::text, $5, $6, $7, $8, $2, $9 FROM used RETURNING id),
			r AS (INSERT INTO refresh_tokens (token_hash, family_id, client_id, account_id, scopes, audience, auth_time, amr, created_at, expires_at)
				SELECT $10, used.family_id, $3, $4::uuid, $11, $6, $7, $8, $2, $12 FROM used RETURNING id)
			SELECT (SELECT family_id::text FROM used), (SELECT id::text FROM a), (SELECT id::text FROM r)`,
			currentHash, now, at.ClientID, at.AccountID, at.Scopes, at.Audience, rt.AuthTime, passport.NonNil(rt.AMR), at.ExpiresAt,
			newHash, rt.Scopes, rt.ExpiresAt).Scan(&family, &atID, &rtID)
	}
	if err != nil {
		return err
	}
	if family == nil || atID == nil || rtID == nil {
		if currentHash != nil {
			if err := db.revokeIfReused(ctx, currentHash); err != nil {
				return err
			}
		}
		return passport.Errorf(passport.ENOTFOUND, "The refresh token is invalid, expired or already used.")
	}
	at.FamilyID, rt.FamilyID, at.ID, rt.ID = *family, *family, *atID, *rtID
	return nil
}

// revokeIfReused revokes the family of a refresh token that was presented after it had
// been rotated (reuse detection).
func (db *DB) revokeIfReused(ctx context.Context, hash []byte) error {
	var family string
	var reused bool
	err := db.pool.QueryRow(ctx, `SELECT family_id, used_at IS NOT NULL AND revoked_at IS NULL FROM refresh_tokens WHERE token_hash = $1`,
		hash).Scan(&family, &reused)
	if err == pgx.ErrNoRows || (err == nil && !reused) {
		return nil
	}
	if err != nil {
		return err
	}
	return db.RevokeFamily(ctx, family)
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
		return nil, mapErr(err, passport.Errorf(passport.ENOTFOUND, "The refresh token is invalid, expired or already used."))
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
	return r, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such refresh token."))
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
	return t, mapErr(err, passport.Errorf(passport.ENOTFOUND, "The access token is invalid or expired."))
}

// AccessTokenInfo returns an access token whatever its state, for revocation.
func (db *DB) AccessTokenInfo(ctx context.Context, id string) (*passport.AccessToken, error) {
	if !isUUID(id) {
		return nil, passport.Errorf(passport.ENOTFOUND, "No such access token.")
	}
	rows, _ := db.pool.Query(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE id = $1`, id)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.AccessToken])
	return t, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such access token."))
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

// RefreshTokenFamily returns the family and client of the refresh token with the id.
func (db *DB) RefreshTokenFamily(ctx context.Context, id string) (family, clientID string, err error) {
	if !isUUID(id) {
		return "", "", passport.Errorf(passport.ENOTFOUND, "No such refresh token.")
	}
	err = db.pool.QueryRow(ctx, `SELECT family_id, client_id FROM refresh_tokens WHERE id = $1`, id).Scan(&family, &clientID)
	return family, clientID, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such refresh token."))
}

// StartFamily creates an empty token family. Code exchanges get theirs when the code is
// consumed; this is for tools and tests that issue tokens directly.
func (db *DB) StartFamily(ctx context.Context, id, clientID, accountID string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO token_families (id, client_id, account_id, created_at) VALUES ($1, $2, $3, $4)`,
		id, clientID, accountID, db.now())
	return err
}
