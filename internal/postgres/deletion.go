package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// ScheduleDeletion makes an active account pending_deletion until purgeAt, signs it out
// everywhere, queues the notice and the held final message and records
// deletion.scheduled, in one transaction.
func (db *DB) ScheduleDeletion(ctx context.Context, accountID string, purgeAt time.Time, msgs ...passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		tag, err := tx.Exec(ctx, `UPDATE accounts SET status = 'pending_deletion', purge_at = $2, updated_at = $3
			WHERE id = $1 AND status = 'active'`, accountID, purgeAt, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return passport.Errorf(passport.ECONFLICT, "This account cannot be deleted now.")
		}
		if err := signOutEverywhere(ctx, tx, accountID, now); err != nil {
			return err
		}
		if err := record(ctx, tx, now, passport.Event{Type: passport.EventDeletionScheduled, AccountID: accountID,
			Actor: own(ctx, accountID), Details: map[string]any{"purge_at": purgeAt}}); err != nil {
			return err
		}
		return enqueue(ctx, tx, now, msgs...)
	})
}

// RestoreAccount makes a pending_deletion account active again, drops the held final
// message, queues the notice and records deletion.restored. Returns ECONFLICT when the account is not pending deletion.
func (db *DB) RestoreAccount(ctx context.Context, accountID string, msgs ...passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		tag, err := tx.Exec(ctx, `UPDATE accounts SET status = 'active', purge_at = NULL, updated_at = $2
			WHERE id = $1 AND status = 'pending_deletion'`, accountID, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return passport.Errorf(passport.ECONFLICT, "This account is not waiting for deletion.")
		}
		if err := bumpEpoch(ctx, tx, accountID); err != nil { // the restore page is single use
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM messages WHERE account_id = $1 AND kind = 'account_deleted' AND status = 'pending'`,
			accountID); err != nil {
			return err
		}
		if err := record(ctx, tx, now, passport.Event{Type: passport.EventDeletionRestored, AccountID: accountID,
			Actor: own(ctx, accountID)}); err != nil {
			return err
		}
		return enqueue(ctx, tx, now, msgs...)
	})
}

// PurgeNext erases one account whose grace period is over and reports whether there was
// one. The account is claimed with SKIP LOCKED, so replicas purge different accounts at
// once. Everything personal goes: profile fields, photo, consents, grants, sessions, tokens,
// codes, two-factor secrets, rate-limit counters keyed by the login, and the recipients of
// its past messages. The row stays as a tombstone (status deleted) so its id is never
// issued again; the login is free. The held "account deleted" email is released, and its
// address is erased once it is delivered.
func (db *DB) PurgeNext(ctx context.Context) (bool, error) {
	found := false
	err := db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		var id, folded string
		err := tx.QueryRow(ctx, `SELECT id, coalesce(login_folded, '') FROM accounts
			WHERE status = 'pending_deletion' AND purge_at <= $1
			ORDER BY purge_at LIMIT 1 FOR UPDATE SKIP LOCKED`, now).Scan(&id, &folded)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		for _, q := range []string{
			`DELETE FROM photos WHERE account_id = $1`,
			`DELETE FROM consents WHERE account_id = $1`,
			`DELETE FROM memberships WHERE account_id = $1`,
			`DELETE FROM admin_grants WHERE account_id = $1`,
			// Security events hold addresses and browsers: they go too; one without them says it happened.
			`DELETE FROM security_events WHERE account_id = $1`,
			`DELETE FROM grants WHERE account_id = $1`,
			`DELETE FROM auth_requests WHERE account_id = $1`,
			`DELETE FROM access_tokens WHERE account_id = $1`,
			`DELETE FROM refresh_tokens WHERE account_id = $1`,
			`DELETE FROM token_families WHERE account_id = $1`,
			`DELETE FROM sessions WHERE account_id = $1`,
			`DELETE FROM contact_changes WHERE account_id = $1`,
			`DELETE FROM totp WHERE account_id = $1`,
			`DELETE FROM recovery_codes WHERE account_id = $1`,
			`DELETE FROM password_resets WHERE account_id = $1`,
			`DELETE FROM dev_messages WHERE recipient IN (SELECT email FROM accounts WHERE id = $1 AND email <> ''
				UNION SELECT phone FROM accounts WHERE id = $1 AND phone <> '')`,
			`DELETE FROM messages WHERE account_id = $1 AND kind <> 'account_deleted'`,
			`DELETE FROM rate_limits WHERE key LIKE '%:' || $1::text`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		if folded != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM rate_limits WHERE key = 'signin:login:' || $1`, folded); err != nil {
				return err
			}
		}
		// Released for whatever clock the workers keep.
		if _, err := tx.Exec(ctx, `UPDATE messages SET run_at = '-infinity' WHERE account_id = $1 AND kind = 'account_deleted' AND status = 'pending'`,
			id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE accounts SET login = NULL, login_folded = NULL, nickname = '', given_name = '', family_name = '',
				birthdate = NULL, email = '', email_verified = false, phone = '', phone_verified = false, locale = '',
				verification_comment = '', password_hash = '',
				publicity = '{}', private_profile = false, field_unlocks = '{}', required_actions = '{}', password_expires_at = NULL, last_visit_at = NULL,
				status = 'deleted', purge_at = NULL, purged_at = $2, updated_at = $2
			WHERE id = $1`, id, now)
		if err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventAccountPurged, AccountID: id,
			Actor: passport.Actor{Kind: passport.ActorSystem}})
	})
	return found, err
}
