package postgres

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// CodeLimits bound one-time codes.
type CodeLimits struct {
	Lifetime    time.Duration
	MaxAttempts int
	ResendAfter time.Duration
	MaxSends    int
}

const contactColumns = `account_id, kind, value, method, code_hash, link_hash, attempts, sends, created_at, last_sent_at, expires_at`

const contactRead = contactColumns + `, cancelled_at`

// StartContactChange stores a pending change (replacing an earlier one of the same kind)
// and queues its code message in the same transaction. Sending again is refused until
// ResendAfter has passed since the last code, and after MaxSends codes until the pending
// change expires (ELIMITED, with the wait in the message).
func (db *DB) StartContactChange(ctx context.Context, c *passport.ContactChange, lim CodeLimits, msg passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		rows, _ := tx.Query(ctx, `SELECT `+contactRead+` FROM contact_changes WHERE account_id = $1 AND kind = $2 FOR UPDATE`,
			c.AccountID, c.Kind)
		old, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.ContactChange])
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		c.Sends, c.CreatedAt = 1, now
		if err == nil && old.ExpiresAt.After(now) {
			if wait := old.LastSentAt.Add(lim.ResendAfter).Sub(now); wait > 0 {
				return passport.Errorf(passport.ELIMITED, "A code was sent a moment ago. You can ask for another in %d seconds.", passport.Count(int(wait.Seconds())+1))
			}
			if old.Sends >= lim.MaxSends {
				return passport.Errorf(passport.ELIMITED, "Too many codes were sent. Try again after %s.", old.ExpiresAt)
			}
			c.Sends, c.CreatedAt = old.Sends+1, old.CreatedAt
		}
		c.Attempts, c.LastSentAt, c.ExpiresAt = 0, now, now.Add(lim.Lifetime)
		if _, err := tx.Exec(ctx, `
			INSERT INTO contact_changes (`+contactColumns+`) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10)
			ON CONFLICT (account_id, kind) DO UPDATE SET value = excluded.value, method = excluded.method,
				code_hash = excluded.code_hash, link_hash = excluded.link_hash, attempts = 0, sends = excluded.sends,
				created_at = excluded.created_at, last_sent_at = excluded.last_sent_at, expires_at = excluded.expires_at,
				cancelled_at = NULL`,
			c.AccountID, c.Kind, c.Value, c.Method, c.CodeHash, c.LinkHash, c.Sends, c.CreatedAt, c.LastSentAt, c.ExpiresAt); err != nil {
			return err
		}
		return enqueue(ctx, tx, now, msg)
	})
}

// PendingChange returns the account's unexpired pending change of a kind. Returns
// ENOTFOUND when there is none.
func (db *DB) PendingChange(ctx context.Context, accountID, kind string) (*passport.ContactChange, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+contactColumns+` FROM contact_changes
		WHERE account_id = $1 AND kind = $2 AND expires_at > $3 AND cancelled_at IS NULL`, accountID, kind, db.now())
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.ContactChange])
	return c, mapErr(err, passport.Errorf(passport.ENOTFOUND, "There is no pending change."))
}

// CancelChange cancels a pending change: its code and link stop working at once, but the
// row stays until it expires, so its sends still count against the limits.
func (db *DB) CancelChange(ctx context.Context, accountID, kind string) error {
	_, err := db.pool.Exec(ctx, `UPDATE contact_changes SET cancelled_at = $3, link_hash = NULL
		WHERE account_id = $1 AND kind = $2 AND cancelled_at IS NULL`, accountID, kind, db.now())
	return err
}

// ConfirmChange checks a code against the account's pending change of a kind. A wrong code
// spends an attempt (the count is committed even though the change is refused); after
// MaxAttempts the code is dead. The right code applies the change — the email or phone
// becomes the new value, verified — deletes the pending row and queues notices, all in
// one transaction. notices receives the account as it was before the change.
func (db *DB) ConfirmChange(ctx context.Context, accountID, kind string, codeHash []byte, maxAttempts int,
	notices func(before *passport.Account, c *passport.ContactChange) ([]passport.Outgoing, error)) (*passport.ContactChange, error) {
	var applied *passport.ContactChange
	var refusal error
	err := db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		rows, _ := tx.Query(ctx, `SELECT `+contactRead+` FROM contact_changes WHERE account_id = $1 AND kind = $2 FOR UPDATE`,
			accountID, kind)
		c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.ContactChange])
		if err == pgx.ErrNoRows || (err == nil && (!c.ExpiresAt.After(now) || c.CancelledAt != nil)) {
			refusal = passport.FieldError("code", "The code has expired or there is no change waiting. Ask for a new code.")
			return nil
		}
		if err != nil {
			return err
		}
		if c.Attempts >= maxAttempts {
			refusal = &passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Too many wrong codes. Ask for a new code."}
			return nil
		}
		if subtle.ConstantTimeCompare(c.CodeHash, codeHash) != 1 {
			if _, err := tx.Exec(ctx, `UPDATE contact_changes SET attempts = attempts + 1 WHERE account_id = $1 AND kind = $2`,
				accountID, kind); err != nil {
				return err
			}
			left := maxAttempts - c.Attempts - 1
			if left == 0 {
				refusal = &passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Wrong code, and that was the last attempt. Ask for a new code."}
			} else {
				refusal = passport.FieldError("code", "Wrong code. %d attempts left.", passport.Count(left))
			}
			return nil
		}
		applied = c
		return applyChange(ctx, tx, c, now, passport.EventContactChanged, notices)
	})
	if err != nil {
		return nil, err
	}
	return applied, refusal
}

// ConfirmEmailLink applies the pending email change whose one-click link hashes to
// linkHash. Returns ENOTFOUND for an unknown or expired link, and EFORBIDDEN when the
// account is not active (blocked, or waiting for deletion): its contacts stay as they are.
func (db *DB) ConfirmEmailLink(ctx context.Context, linkHash []byte,
	notices func(before *passport.Account, c *passport.ContactChange) ([]passport.Outgoing, error)) (*passport.ContactChange, error) {
	var applied *passport.ContactChange
	err := db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		rows, _ := tx.Query(ctx, `SELECT `+contactColumns+` FROM contact_changes
			WHERE link_hash = $1 AND kind = 'email' AND expires_at > $2 AND cancelled_at IS NULL FOR UPDATE`, linkHash, now)
		c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.ContactChange])
		if err != nil {
			return mapErr(err, passport.Errorf(passport.ENOTFOUND, "This link has expired or was already used."))
		}
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM accounts WHERE id = $1`, c.AccountID).Scan(&status); err != nil {
			return mapErr(err, passport.Errorf(passport.ENOTFOUND, "This link has expired or was already used."))
		}
		if status != passport.StatusActive {
			return passport.Errorf(passport.EFORBIDDEN, "This account cannot change its email address now.")
		}
		applied = c
		return applyChange(ctx, tx, c, now, passport.EventEmailLinkConfirmed, notices)
	})
	return applied, err
}

// applyChange makes the pending change the account's email or phone and records it as an
// event of type typ. The event names the kind of contact only, never the address: the
// person knows their own, and the event outlives the address in the change history.
func applyChange(ctx context.Context, tx pgx.Tx, c *passport.ContactChange, now time.Time, typ string,
	notices func(before *passport.Account, c *passport.ContactChange) ([]passport.Outgoing, error)) error {
	rows, _ := tx.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1 FOR UPDATE`, c.AccountID)
	before, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.Account])
	if err != nil {
		return mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such account."))
	}
	q := `UPDATE accounts SET email = $2, email_verified = true, updated_at = $3 WHERE id = $1`
	if c.Kind == "phone" {
		q = `UPDATE accounts SET phone = $2, phone_verified = true, updated_at = $3 WHERE id = $1`
	}
	if _, err := tx.Exec(ctx, q, c.AccountID, c.Value, now); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM contact_changes WHERE account_id = $1 AND kind = $2`, c.AccountID, c.Kind); err != nil {
		return err
	}
	msgs, err := notices(before, c)
	if err != nil {
		return err
	}
	if err := record(ctx, tx, now, passport.Event{Type: typ, AccountID: c.AccountID, Actor: own(ctx, c.AccountID),
		Details: map[string]any{"kind": c.Kind}}); err != nil {
		return err
	}
	return enqueue(ctx, tx, now, msgs...)
}

// RemoveContact deletes the account's email or phone. It refuses (EINVALID) when the other
// one is not there and verified: the person would have no way left to recover the account.
func (db *DB) RemoveContact(ctx context.Context, accountID, kind string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		var email, phone string
		var emailOK, phoneOK bool
		err := tx.QueryRow(ctx, `SELECT email, email_verified, phone, phone_verified FROM accounts WHERE id = $1 FOR UPDATE`,
			accountID).Scan(&email, &emailOK, &phone, &phoneOK)
		if err != nil {
			return mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such account."))
		}
		switch {
		case kind == "email" && email == "":
			return passport.Errorf(passport.ENOTFOUND, "There is no email address to delete.")
		case kind == "phone" && phone == "":
			return passport.Errorf(passport.ENOTFOUND, "There is no phone number to delete.")
		case kind == "email" && (phone == "" || !phoneOK):
			return passport.FieldError("email", "Add and confirm a phone number first: without an email address or a phone you could not recover your account.")
		case kind == "phone" && (email == "" || !emailOK):
			return passport.FieldError("phone", "Add and confirm an email address first: without a phone or an email address you could not recover your account.")
		}
		q := `UPDATE accounts SET email = '', email_verified = false, updated_at = $2 WHERE id = $1`
		if kind == "phone" {
			q = `UPDATE accounts SET phone = '', phone_verified = false, updated_at = $2 WHERE id = $1`
		}
		now := db.now()
		if _, err = tx.Exec(ctx, q, accountID, now); err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventContactRemoved, AccountID: accountID,
			Actor: own(ctx, accountID), Details: map[string]any{"kind": kind}})
	})
}

// own is the request's actor acting on their own account. A person's event names the
// subject as the actor: the browser that acts may carry no session (a reset, an email
// link, the restore page) or another person's (a link opened where someone else is
// signed in), and holding the link, code or password is what makes them the subject.
// Administrators, clients and the system stay as they are.
//
// The address and browser come from request headers, which may hold any bytes: they are
// made storable (valid UTF-8, no NUL) so that a broken User-Agent cannot fail the change.
func own(ctx context.Context, accountID string) passport.Actor {
	a := passport.ActorFrom(ctx)
	if a.Kind == passport.ActorPerson {
		a.AccountID = accountID
	}
	return a
}

// ChangePassword stores a new password hash and, in the same transaction, ends every
// session of the account, revokes every token it holds (access tokens included, so they
// stop at userinfo and introspection at once), queues the notice and records the event:
// password.reset when the change completes a forgotten-password reset (spent by UseReset
// just before, still unexpired), password.changed otherwise.
func (db *DB) ChangePassword(ctx context.Context, accountID, hash string, notice []passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		// A password of the person's own choosing: an issued (temporary) one no longer
		// expires it, nor asks for a change, and the issued credentials are void.
		tag, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $2, updated_at = $3, password_expires_at = NULL,
			required_actions = array_remove(required_actions, $4) WHERE id = $1`, accountID, hash, now, passport.ActionChangePassword)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return passport.Errorf(passport.ENOTFOUND, "No such account.")
		}
		if err := voidIssued(ctx, tx, accountID, now); err != nil {
			return err
		}
		// Read before signOutEverywhere deletes the account's resets.
		typ := passport.EventPasswordChanged
		var reset bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM password_resets
			WHERE account_id = $1 AND used_at IS NOT NULL AND expires_at > $2)`, accountID, now).Scan(&reset); err != nil {
			return err
		}
		if reset {
			typ = passport.EventPasswordReset
		}
		if err := signOutEverywhere(ctx, tx, accountID, now); err != nil {
			return err
		}
		if err := record(ctx, tx, now, passport.Event{Type: typ, AccountID: accountID, Actor: own(ctx, accountID)}); err != nil {
			return err
		}
		return enqueue(ctx, tx, now, notice...)
	})
}

// SignOutEverywhere ends every session of the account and revokes all its tokens, recording
// sessions.ended.
func (db *DB) SignOutEverywhere(ctx context.Context, accountID string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		if err := signOutEverywhere(ctx, tx, accountID, now); err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventSessionsEnded, AccountID: accountID, Actor: own(ctx, accountID)})
	})
}

func signOutEverywhere(ctx context.Context, tx pgx.Tx, accountID string, now time.Time) error {
	return signOut(ctx, tx, accountID, "", now)
}

// signOut ends the account's sessions but keep ("" for none: the browser that changed the
// password at its first sign-in goes on), voids half-finished sign-ins and revokes every
// token. Only a sign-out of every session cancels contact changes under way: one started
// from a session that is now ended (perhaps a stolen one) must not complete afterwards, as
// its link or code would hand the account to whoever started it; the row stays, cancelled,
// so its send count still limits.
func signOut(ctx context.Context, tx pgx.Tx, accountID, keep string, now time.Time) error {
	if err := bumpEpoch(ctx, tx, accountID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = $2 WHERE account_id = $1 AND ended_at IS NULL
		AND id IS DISTINCT FROM $3::uuid`, accountID, now, nullUUID(keep)); err != nil {
		return err
	}
	queries := []string{
		// Codes issued but not yet exchanged would otherwise start new grants afterwards.
		`UPDATE auth_requests SET code_used_at = $2 WHERE account_id = $1 AND code_used_at IS NULL`,
		// Families first, as in revokeFamily, so a refresh in flight waits and is refused.
		`UPDATE token_families SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`,
		`UPDATE refresh_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`,
		`UPDATE access_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`,
	}
	if keep == "" {
		queries = append(queries, `UPDATE contact_changes SET cancelled_at = $2 WHERE account_id = $1 AND cancelled_at IS NULL`)
	}
	for _, q := range queries {
		if _, err := tx.Exec(ctx, q, accountID, now); err != nil {
			return err
		}
	}
	// An older forgotten-password code or link dies with any credential change too.
	_, err := tx.Exec(ctx, `DELETE FROM password_resets WHERE account_id = $1`, accountID)
	return err
}

// EndAccountSession ends one of the account's sessions and records session.ended. Returns
// ENOTFOUND when it is not a live session of this account.
func (db *DB) EndAccountSession(ctx context.Context, accountID, sessionID string) error {
	if !isUUID(sessionID) {
		return passport.Errorf(passport.ENOTFOUND, "No such session.")
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		tag, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = $3 WHERE id = $1 AND account_id = $2 AND ended_at IS NULL`,
			sessionID, accountID, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return passport.Errorf(passport.ENOTFOUND, "No such session.")
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventSessionEnded, AccountID: accountID, Actor: own(ctx, accountID)})
	})
}
