package postgres

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// Forgotten passwords (SPEC §8). The new password itself is set by ChangePassword, the one
// action that also ends every session, revokes every token and moves the auth epoch.

const resetColumns = `id, account_id, code_hash, link_hash, coalesce(auth_request_id::text, '') AS auth_request_id,
	created_at, expires_at, verified_at, used_at`

// resetGone is the one answer for every reset that cannot be used: unknown, replaced,
// expired, or used already. Callers must not tell them apart.
func resetGone() *passport.Error {
	return passport.Errorf(passport.ENOTFOUND, "This password reset has expired or is no longer valid. Start again.")
}

// ResetCandidates returns the accounts a forgotten-password request may be about, in one
// statement whatever it finds: the account whose login folds like login, and those whose
// verified email address equals email (ignoring case) or whose verified phone equals phone
// (two at most of each; "" matches nothing). passport.ResetTarget chooses among them.
func (db *DB) ResetCandidates(ctx context.Context, login, email, phone string) ([]passport.ResetCandidate, error) {
	rows, _ := db.pool.Query(ctx, `
		SELECT `+accountColumns+`, 'login' AS via FROM accounts WHERE login_folded = $1
		UNION ALL
		(SELECT `+accountColumns+`, 'email' FROM accounts WHERE $2 <> '' AND lower(email) = $2 AND email_verified LIMIT 2)
		UNION ALL
		(SELECT `+accountColumns+`, 'phone' FROM accounts WHERE $3 <> '' AND phone = $3 AND phone_verified LIMIT 2)`,
		passport.FoldLogin(login), strings.ToLower(email), phone)
	type row struct {
		passport.Account
		Via string
	}
	found, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByNameLax[row])
	if err != nil {
		return nil, err
	}
	out := make([]passport.ResetCandidate, len(found))
	for i, r := range found {
		out[i] = passport.ResetCandidate{Account: &r.Account, Via: r.Via}
	}
	return out, nil
}

// StartReset stores the account's forgotten-password request and queues its message in the
// same transaction. An earlier request of the account is replaced: its code, its link and
// the pages that carry its id stop working (one active reset per account). A request made
// before the one stored (by r.CreatedAt: two requests whose writes crossed) is dropped,
// message and all, so the code that arrives last is the one that works.
func (db *DB) StartReset(ctx context.Context, r *passport.PasswordReset, msg passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		var authRequest *string
		if r.AuthRequestID != "" {
			authRequest = &r.AuthRequestID
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO password_resets (id, account_id, code_hash, link_hash, auth_request_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (account_id) DO UPDATE SET id = excluded.id, code_hash = excluded.code_hash,
				link_hash = excluded.link_hash, auth_request_id = excluded.auth_request_id, created_at = excluded.created_at,
				expires_at = excluded.expires_at, verified_at = NULL, used_at = NULL
			WHERE password_resets.created_at <= excluded.created_at`,
			r.ID, r.AccountID, r.CodeHash, r.LinkHash, authRequest, r.CreatedAt, r.ExpiresAt)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return enqueue(ctx, tx, db.now(), msg)
	})
}

// VerifyResetCode accepts the code of the reset with this id once: when codeHash is its
// code's and the reset is neither verified nor expired, it becomes verified, its link dies,
// and a new password may be set for lifetime from now. Returns ENOTFOUND otherwise — a
// wrong code, a reset replaced, expired or verified already, or no such reset — all alike.
// Attempts are counted by the caller, before this call.
func (db *DB) VerifyResetCode(ctx context.Context, id string, codeHash []byte, lifetime time.Duration) (*passport.PasswordReset, error) {
	if !isUUID(id) {
		return nil, resetGone()
	}
	var out *passport.PasswordReset
	err := db.tx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+resetColumns+` FROM password_resets
			WHERE id = $1 AND verified_at IS NULL AND expires_at > $2 FOR UPDATE`, id, db.now())
		r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.PasswordReset])
		if err != nil {
			return mapErr(err, resetGone())
		}
		if subtle.ConstantTimeCompare(r.CodeHash, codeHash) != 1 {
			return resetGone()
		}
		out, err = verifyReset(ctx, tx, id, db.now(), lifetime)
		return err
	})
	return out, err
}

// VerifyResetLink does for the email link what VerifyResetCode does for the code: the reset
// whose link hashes to linkHash becomes verified, once. Returns ENOTFOUND for a link that is
// unknown, expired or used.
func (db *DB) VerifyResetLink(ctx context.Context, linkHash []byte, lifetime time.Duration) (*passport.PasswordReset, error) {
	var out *passport.PasswordReset
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var id string
		err := tx.QueryRow(ctx, `SELECT id FROM password_resets
			WHERE link_hash = $1 AND verified_at IS NULL AND expires_at > $2 FOR UPDATE`, linkHash, db.now()).Scan(&id)
		if err != nil {
			return mapErr(err, passport.Errorf(passport.ENOTFOUND, "This link has expired or was already used."))
		}
		out, err = verifyReset(ctx, tx, id, db.now(), lifetime)
		return err
	})
	return out, err
}

func verifyReset(ctx context.Context, tx pgx.Tx, id string, now time.Time, lifetime time.Duration) (*passport.PasswordReset, error) {
	rows, _ := tx.Query(ctx, `UPDATE password_resets SET verified_at = $2, expires_at = $3, link_hash = NULL
		WHERE id = $1 RETURNING `+resetColumns, id, now, now.Add(lifetime))
	return pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.PasswordReset])
}

// VerifiedReset returns the reset with this id if it was verified and is neither used nor
// expired: a new password may be set for its account. Returns ENOTFOUND otherwise.
func (db *DB) VerifiedReset(ctx context.Context, id string) (*passport.PasswordReset, error) {
	if !isUUID(id) {
		return nil, resetGone()
	}
	rows, _ := db.pool.Query(ctx, `SELECT `+resetColumns+` FROM password_resets
		WHERE id = $1 AND verified_at IS NOT NULL AND used_at IS NULL AND expires_at > $2`, id, db.now())
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.PasswordReset])
	return r, mapErr(err, resetGone())
}

// UseReset spends a verified reset, once, in one statement: of two submissions racing, one
// gets nil and the other ENOTFOUND (as does a reset that is not verified, is used or has
// expired). The caller then sets the password with ChangePassword, which records it as
// password.reset because this reset is spent and unexpired; should that fail, the person
// asks for a new code, and nothing was half-changed.
func (db *DB) UseReset(ctx context.Context, id string) error {
	if !isUUID(id) {
		return resetGone()
	}
	tag, err := db.pool.Exec(ctx, `UPDATE password_resets SET used_at = $2
		WHERE id = $1 AND verified_at IS NOT NULL AND used_at IS NULL AND expires_at > $2`, id, db.now())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return resetGone()
	}
	return nil
}
