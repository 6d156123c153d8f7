package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// Per-account unlocks of locked profile fields (SPEC §2): accounts.field_unlocks maps a
// field to the end of its unlock (RFC 3339) or null (until locked again).

// UnlockField unlocks field for the account until the given time (nil: until locked again),
// replacing an earlier unlock of it, and records profile.unlocked for the account and
// orgID (by the request's actor) in the same transaction. Returns ENOTFOUND if there is no
// such account.
func (db *DB) UnlockField(ctx context.Context, accountID, orgID, field string, until *time.Time) error {
	if !isUUID(accountID) {
		return passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		var end any // a JSON null, or the end in RFC 3339
		if until != nil {
			end = until.UTC().Format(time.RFC3339)
		}
		tag, err := tx.Exec(ctx, `UPDATE accounts SET field_unlocks = field_unlocks || jsonb_build_object($2::text, $3::text)
			WHERE id = $1`, accountID, field, end)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return passport.Errorf(passport.ENOTFOUND, "No such account.")
		}
		return record(ctx, tx, db.now(), passport.Event{Type: passport.EventProfileUnlocked, AccountID: accountID, OrgID: orgID,
			Details: map[string]any{"field": field, "until": end}})
	})
}

// RelockField ends the unlock of field for the account. When the field was still unlocked
// it records profile.relocked (by the request's actor) and reports true; an unlock that had
// ended is only cleared away, and a field never unlocked changes nothing. Returns ENOTFOUND
// if there is no such account.
func (db *DB) RelockField(ctx context.Context, accountID, orgID, field string) (bool, error) {
	if !isUUID(accountID) {
		return false, passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	relocked := false
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var present, live bool
		err := tx.QueryRow(ctx, `SELECT field_unlocks ? $2,
				coalesce(field_unlocks -> $2 = 'null'::jsonb OR (field_unlocks ->> $2)::timestamptz > now(), false)
			FROM accounts WHERE id = $1 FOR UPDATE`, accountID, field).Scan(&present, &live)
		if err != nil {
			return mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such account."))
		}
		if !present {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET field_unlocks = field_unlocks - $2::text WHERE id = $1`, accountID, field); err != nil {
			return err
		}
		if !live {
			return nil
		}
		relocked = true
		return record(ctx, tx, db.now(), passport.Event{Type: passport.EventProfileRelocked, AccountID: accountID, OrgID: orgID,
			Details: map[string]any{"field": field}})
	})
	return relocked, err
}
