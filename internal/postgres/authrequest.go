package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

const authRequestColumns = `id, client_id, redirect_uri, scopes, response_type, response_mode, state,
	nonce, prompt, max_age, ui_locales, login_hint, acr_values, code_challenge, code_challenge_method,
	hint_subject, browser_hash, created_at, expires_at, done, coalesce(account_id::text, '') AS subject,
	coalesce(login_session_id::text, '') AS login_session_id,
	coalesce(session_id::text, '') AS session_id, coalesce(auth_time, 'epoch') AS auth_time, amr, acr`

// CreateAuthRequest stores a new auth request. r.ID must be a fresh random UUID.
func (db *DB) CreateAuthRequest(ctx context.Context, r *passport.AuthRequest) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO auth_requests (id, client_id, redirect_uri, scopes, response_type, response_mode,
			state, nonce, prompt, max_age, ui_locales, login_hint, acr_values, code_challenge,
			code_challenge_method, hint_subject, browser_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		r.ID, r.ClientID, r.RedirectURI, passport.NonNil(r.Scopes), r.ResponseType, r.ResponseMode, r.State, r.Nonce,
		passport.NonNil(r.Prompt), r.MaxAge, passport.NonNil(r.UILocales), r.LoginHint, passport.NonNil(r.ACRValues), r.CodeChallenge,
		r.CodeChallengeMethod, r.HintSubject, r.BrowserHash, r.CreatedAt, r.ExpiresAt)
	return err
}

// AuthRequest returns an unexpired auth request whose code has not been issued yet.
// Returns ENOTFOUND otherwise.
func (db *DB) AuthRequest(ctx context.Context, id string) (*passport.AuthRequest, error) {
	if !isUUID(id) {
		return nil, passport.Errorf(passport.ENOTFOUND, "This sign-in request has expired or is unknown.")
	}
	rows, _ := db.pool.Query(ctx, `SELECT `+authRequestColumns+` FROM auth_requests
		WHERE id = $1 AND expires_at > $2 AND code_used_at IS NULL`, id, db.now())
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.AuthRequest])
	return r, mapErr(err, passport.Errorf(passport.ENOTFOUND, "This sign-in request has expired or is unknown."))
}

// CompleteAuthRequest marks the request done for the account and session, if it is still
// pending, unexpired and bound to the same browser, and records the application among the
// person's connected apps. Returns ENOTFOUND otherwise.
func (db *DB) CompleteAuthRequest(ctx context.Context, id string, browserHash []byte, s *passport.Session) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		var clientID string
		var scopes []string
		err := tx.QueryRow(ctx, `
			UPDATE auth_requests SET done = true, account_id = $3, session_id = $4, auth_time = $5, amr = $6, acr = $8
			WHERE id = $1 AND browser_hash = $2 AND NOT done AND expires_at > $7
			RETURNING client_id, scopes`,
			id, browserHash, s.AccountID, s.ID, s.AuthTime, s.AMR, now, passport.ACRFor(s.AMR)).Scan(&clientID, &scopes)
		if err == pgx.ErrNoRows {
			return passport.Errorf(passport.ENOTFOUND, "This sign-in request has expired or is unknown.")
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO grants (account_id, client_id, scopes, first_at, last_at) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (account_id, client_id) DO UPDATE SET last_at = excluded.last_at,
				-- Earlier grants' tokens keep their scopes: the app may receive the union.
				scopes = (SELECT array_agg(DISTINCT s ORDER BY s) FROM unnest(grants.scopes || excluded.scopes) AS s)`,
			s.AccountID, clientID, scopes, now)
		return err
	})
}

// DeleteAuthRequest removes a pending request (after an error was sent to the client).
func (db *DB) DeleteAuthRequest(ctx context.Context, id string) error {
	if !isUUID(id) {
		return nil
	}
	_, err := db.pool.Exec(ctx, `DELETE FROM auth_requests WHERE id = $1 AND code_used_at IS NULL`, id)
	return err
}

// SaveAuthCode stores the hash of the code issued for a done request. A request gets at
// most one code: a second call (the callback opened twice) is refused with ECONFLICT.
func (db *DB) SaveAuthCode(ctx context.Context, id string, codeHash []byte, lifetime time.Duration) error {
	now := db.now()
	tag, err := db.pool.Exec(ctx, `
		UPDATE auth_requests SET code_hash = $2, code_expires_at = $3
		WHERE id = $1 AND done AND code_hash IS NULL AND expires_at > $4`,
		id, codeHash, now.Add(lifetime), now)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return passport.Errorf(passport.ECONFLICT, "A code was already issued for this request.")
	}
	return nil
}

// UseAuthCode consumes a code atomically and returns its request, for an active account.
// The request's id becomes the family of the tokens the code yields, created here so that a
// replay arriving before those tokens exist still revokes them. A code can be used once:
// the second use revokes the family (RFC 6749 §4.1.2) and, like an unknown or expired code,
// returns ENOTFOUND.
func (db *DB) UseAuthCode(ctx context.Context, codeHash []byte) (*passport.AuthRequest, error) {
	gone := passport.Errorf(passport.ENOTFOUND, "The code is invalid, expired or already used.")
	var r *passport.AuthRequest
	err := db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		rows, _ := tx.Query(ctx, `
			UPDATE auth_requests SET code_used_at = $2
			WHERE code_hash = $1 AND code_used_at IS NULL AND code_expires_at > $2
			  AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = auth_requests.account_id AND a.status = 'active')
			RETURNING `+authRequestColumns, codeHash, now)
		var err error
		r, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.AuthRequest])
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO token_families (id, client_id, account_id, created_at) VALUES ($1, $2, $3, $4)`,
			r.ID, r.ClientID, r.Subject, now)
		return err
	})
	if err == nil {
		return r, nil
	}
	if err != pgx.ErrNoRows {
		return nil, err
	}
	// Reuse: the code exists and was used. Its id is the family of the tokens it produced.
	var family string
	if qerr := db.pool.QueryRow(ctx, `SELECT id FROM auth_requests WHERE code_hash = $1 AND code_used_at IS NOT NULL`,
		codeHash).Scan(&family); qerr == nil {
		if err := db.RevokeFamily(ctx, family); err != nil {
			return nil, err
		}
	}
	return nil, gone
}

// CodeHasChallenge reports whether the unused code with this hash was issued for a request
// that carried a PKCE challenge.
func (db *DB) CodeHasChallenge(ctx context.Context, codeHash []byte) (bool, error) {
	var has bool
	err := db.pool.QueryRow(ctx, `SELECT code_challenge <> '' FROM auth_requests WHERE code_hash = $1 AND code_used_at IS NULL`,
		codeHash).Scan(&has)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	return has, err
}

// MarkLogin records that the session signed in with its password for this request, which
// then satisfies prompt=login and max_age whatever the session's age.
func (db *DB) MarkLogin(ctx context.Context, id, sessionID string) error {
	_, err := db.pool.Exec(ctx, `UPDATE auth_requests SET login_session_id = $2 WHERE id = $1 AND NOT done`, id, sessionID)
	return err
}

// SetUILocales replaces a pending request's ui_locales with the language the person chose
// with the switcher, which then outranks what the application asked for.
func (db *DB) SetUILocales(ctx context.Context, id string, locales []string) error {
	_, err := db.pool.Exec(ctx, `UPDATE auth_requests SET ui_locales = $2 WHERE id = $1 AND NOT done`, id, locales)
	return err
}
