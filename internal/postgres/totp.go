package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// TOTP is an account's two-factor secret (sealed) and its state.
type TOTP struct {
	SecretEnc   []byte
	CreatedAt   time.Time
	EnabledAt   *time.Time
	LastCounter int64
}

// TOTPOf returns the account's TOTP row. Returns ENOTFOUND when there is none.
func (db *DB) TOTPOf(ctx context.Context, accountID string) (*TOTP, error) {
	rows, _ := db.pool.Query(ctx, `SELECT secret_enc, created_at, enabled_at, last_counter FROM totp WHERE account_id = $1`, accountID)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[TOTP])
	return t, mapErr(err, passport.Errorf(passport.ENOTFOUND, "Two-factor authentication is not set up."))
}

// StartTOTP stores a new secret waiting for its first code, replacing an earlier pending
// one. Returns ECONFLICT when two-factor authentication is already on.
func (db *DB) StartTOTP(ctx context.Context, accountID string, secretEnc []byte) error {
	tag, err := db.pool.Exec(ctx, `
		INSERT INTO totp (account_id, secret_enc, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET secret_enc = excluded.secret_enc, created_at = excluded.created_at
		WHERE totp.enabled_at IS NULL`, accountID, secretEnc, db.now())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return passport.Errorf(passport.ECONFLICT, "Two-factor authentication is already on.")
	}
	return nil
}

// EnableTOTP turns the pending secret on after its first good code (whose time step is
// counter), stores the recovery codes' hashes, queues the notice and records two_factor.on,
// in one transaction.
func (db *DB) EnableTOTP(ctx context.Context, accountID string, counter int64, recovery [][]byte, msgs ...passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		tag, err := tx.Exec(ctx, `UPDATE totp SET enabled_at = $2, last_counter = $3 WHERE account_id = $1 AND enabled_at IS NULL`,
			accountID, now, counter)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return passport.Errorf(passport.ECONFLICT, "Two-factor authentication is already on, or its set-up expired.")
		}
		if err := replaceRecoveryCodes(ctx, tx, accountID, recovery); err != nil {
			return err
		}
		if err := bumpEpoch(ctx, tx, accountID); err != nil {
			return err
		}
		if err := record(ctx, tx, now, passport.Event{Type: passport.EventTwoFactorOn, AccountID: accountID, Actor: own(ctx, accountID)}); err != nil {
			return err
		}
		return enqueue(ctx, tx, now, msgs...)
	})
}

// ReplaceRecoveryCodes makes hashes the account's only recovery codes: every earlier one,
// used or not, stops working in the same transaction, which also queues the notice and
// records two_factor.recovery_codes. Returns ECONFLICT when two-factor authentication is
// not on.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, msgs ...passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		// The secret's row, locked, orders this after a concurrent DisableTOTP: codes are never
		// left behind for two factors that are off.
		var on bool
		err := tx.QueryRow(ctx, `SELECT true FROM totp WHERE account_id = $1 AND enabled_at IS NOT NULL FOR UPDATE`, accountID).Scan(&on)
		if err := mapErr(err, passport.Errorf(passport.ECONFLICT, "Two-factor authentication is not on.")); err != nil {
			return err
		}
		if err := replaceRecoveryCodes(ctx, tx, accountID, hashes); err != nil {
			return err
		}
		now := db.now()
		if err := record(ctx, tx, now, passport.Event{Type: passport.EventRecoveryCodesNew, AccountID: accountID, Actor: own(ctx, accountID)}); err != nil {
			return err
		}
		return enqueue(ctx, tx, now, msgs...)
	})
}

func replaceRecoveryCodes(ctx context.Context, tx pgx.Tx, accountID string, hashes [][]byte) error {
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO recovery_codes (account_id, code_hash) SELECT $1, h FROM unnest($2::bytea[]) AS h`,
		accountID, hashes)
	return err
}

// UseTOTPStep accepts a code's time step once: it succeeds only when the step is later than
// the last one accepted, in one statement, so a code cannot be replayed within its window,
// even on another replica at the same moment.
func (db *DB) UseTOTPStep(ctx context.Context, accountID string, counter int64) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE totp SET last_counter = $2 WHERE account_id = $1 AND enabled_at IS NOT NULL AND last_counter < $2`,
		accountID, counter)
	return tag.RowsAffected() == 1, err
}

// UseRecoveryCode spends one recovery code; each works once.
func (db *DB) UseRecoveryCode(ctx context.Context, accountID string, hash []byte) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL`,
		accountID, hash, db.now())
	return tag.RowsAffected() == 1, err
}

// RecoveryCodesLeft counts unused recovery codes.
func (db *DB) RecoveryCodesLeft(ctx context.Context, accountID string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL`, accountID).Scan(&n)
	return n, err
}

// DisableTOTP removes the secret and the recovery codes and queues the notice. When two
// factors were on (not merely set up and waiting), it records two_factor.off.
func (db *DB) DisableTOTP(ctx context.Context, accountID string, msgs ...passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		var wasOn bool
		err := tx.QueryRow(ctx, `DELETE FROM totp WHERE account_id = $1 RETURNING enabled_at IS NOT NULL`, accountID).Scan(&wasOn)
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		if err := bumpEpoch(ctx, tx, accountID); err != nil {
			return err
		}
		if wasOn {
			if err := record(ctx, tx, now, passport.Event{Type: passport.EventTwoFactorOff, AccountID: accountID, Actor: own(ctx, accountID)}); err != nil {
				return err
			}
		}
		return enqueue(ctx, tx, now, msgs...)
	})
}
