package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// Required actions after sign-in (SPEC §6) and the temporary password's first change.

// ActionFacts returns what the required-action rule (passport.Pending) needs beyond the
// account: whether two factors are on, and whether an active organisation that manages the
// account requires them of every member (a person who only joined an organisation keeps
// their own rules). One round trip.
func (db *DB) ActionFacts(ctx context.Context, accountID string) (hasTOTP, orgRequires bool, err error) {
	if !isUUID(accountID) {
		return false, false, passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	err = db.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM totp WHERE account_id = $1 AND enabled_at IS NOT NULL),
			EXISTS (SELECT 1 FROM memberships m JOIN organisations o ON o.id = m.org_id
				WHERE m.account_id = $1 AND m.managed AND o.status = $2 AND o.require_two_factor)`,
		accountID, passport.OrgActive).Scan(&hasTOTP, &orgRequires)
	return hasTOTP, orgRequires, err
}

// DropRequiredActions removes done actions from the account's list (no event: the change
// that did them recorded its own).
func (db *DB) DropRequiredActions(ctx context.Context, accountID string, done []string) error {
	if len(done) == 0 {
		return nil
	}
	// Each is dropped only if it is still done now, in this statement: facts read a moment
	// ago may be stale (an administrator's two-factor reset in between must not be lost).
	_, err := db.pool.Exec(ctx, `
		UPDATE accounts a SET required_actions = ARRAY(SELECT x FROM unnest(a.required_actions) x
			WHERE NOT (x = ANY($2::text[]) AND (
				(x = 'confirm_email' AND a.email_verified) OR
				(x = 'confirm_phone' AND a.phone_verified) OR
				(x = 'enrol_two_factor' AND EXISTS (SELECT 1 FROM totp t WHERE t.account_id = a.id AND t.enabled_at IS NOT NULL)) OR
				x = 'fill_required')))
		WHERE id = $1 AND required_actions && $2::text[]`, accountID, done)
	return err
}

// SetRequiredActions replaces the account's required actions (already checked and in
// order) and records account.required_actions with the lists before and after, for orgID
// (the organisation the administrator acted for; "" for none). Nothing changes, nothing is
// recorded, when the list is the same. Returns the list now stored.
func (db *DB) SetRequiredActions(ctx context.Context, accountID, orgID string, actions []string) ([]string, error) {
	if !isUUID(accountID) {
		return nil, passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	actions = passport.NonNil(actions)
	err := db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		var before []string
		err := tx.QueryRow(ctx, `SELECT required_actions FROM accounts WHERE id = $1 AND status <> $2 FOR UPDATE`,
			accountID, passport.StatusDeleted).Scan(&before)
		if err != nil {
			return mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such account."))
		}
		before = passport.NonNil(before)
		if norm, err := passport.NormalizeActions(before); err == nil {
			before = norm // stored by other doors in another order
		}
		if slices.Equal(before, actions) {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET required_actions = $2, updated_at = $3 WHERE id = $1`,
			accountID, actions, now); err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventRequiredActionsChanged, AccountID: accountID, OrgID: orgID,
			Details: map[string]any{"before": before, "after": actions}})
	})
	return actions, err
}

// ChangeTemporaryPassword sets the password that replaces an issued (temporary) one at the
// first sign-in, in one transaction: the new hash, no expiry, change_password off the list,
// the issued credentials voided, the auth epoch moved, every other session of the account
// ended and every token revoked (keepSessionID, the browser's session that made the change,
// goes on), the notice queued and password.changed recorded. Returns ECONFLICT when the
// account no longer has to change its password (done meanwhile, or cleared), when its
// password is no longer oldHash (an administrator issued new login details meanwhile), or
// when the session keepSessionID has ended meanwhile: a re-issue or "end all sessions"
// decided after the page was loaded wins.
func (db *DB) ChangeTemporaryPassword(ctx context.Context, accountID, oldHash, hash, keepSessionID string, notice []passport.Outgoing) error {
	if !isUUID(accountID) {
		return passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		tag, err := tx.Exec(ctx, `
			UPDATE accounts SET password_hash = $2, password_expires_at = NULL, updated_at = $3,
				required_actions = array_remove(required_actions, $4)
			WHERE id = $1 AND $4 = ANY (required_actions) AND password_hash = $5
			  AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM sessions WHERE id = $6 AND account_id = $1 AND ended_at IS NULL))`,
			accountID, hash, now, passport.ActionChangePassword, oldHash, nullUUID(keepSessionID))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return passport.Errorf(passport.ECONFLICT, "Your password does not need changing any more.")
		}
		if err := voidIssued(ctx, tx, accountID, now); err != nil {
			return err
		}
		if err := signOut(ctx, tx, accountID, keepSessionID, now); err != nil {
			return err
		}
		if err := record(ctx, tx, now, passport.Event{Type: passport.EventPasswordChanged, AccountID: accountID,
			Actor: own(ctx, accountID), Details: map[string]any{"temporary": true}}); err != nil {
			return err
		}
		return enqueue(ctx, tx, now, notice...)
	})
}

// voidIssued voids the account's issued credentials still in force: the password they
// carried no longer works.
func voidIssued(ctx context.Context, tx pgx.Tx, accountID string, now time.Time) error {
	// The void issues' login details, if still queued or being sent, go with them: a retry
	// must not deliver a dead password, nor keep it readable at rest.
	_, err := tx.Exec(ctx, `WITH voided AS (
			UPDATE credential_issues SET voided_at = $2 WHERE account_id = $1 AND voided_at IS NULL RETURNING message_id)
		UPDATE messages SET status = 'failed', payload = NULL, last_error = 'replaced', leased_until = NULL
		WHERE id IN (SELECT message_id FROM voided WHERE message_id IS NOT NULL) AND status IN ('pending', 'sending')`, accountID, now)
	return err
}

// SetOrgRequireTwoFactor turns the organisation's "two factors for every member" on or off,
// recording org.two_factor_policy when it changes.
func (db *DB) SetOrgRequireTwoFactor(ctx context.Context, orgID string, on bool) error {
	if !isUUID(orgID) {
		return passport.Errorf(passport.ENOTFOUND, "No such organisation.")
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		var was bool
		err := tx.QueryRow(ctx, `SELECT require_two_factor FROM organisations WHERE id = $1 FOR UPDATE`, orgID).Scan(&was)
		if err != nil {
			return mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such organisation."))
		}
		if was == on {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE organisations SET require_two_factor = $2, updated_at = $3 WHERE id = $1`, orgID, on, now); err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventTwoFactorPolicyChanged, OrgID: orgID,
			Details: map[string]any{"require_two_factor": on}})
	})
}
