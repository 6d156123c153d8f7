package postgres

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// Signup is a self sign-up (SPEC §8) waiting for the code sent to its email address. It is
// not an account yet: the account is created when the code is entered.
type Signup struct {
	ID            string
	BrowserHash   []byte // the browser that started it: only that browser may finish it
	AuthRequestID string // the application's request it came through, or ""
	Login         string
	Email         string // normalised
	Phone         string // E.164, or ""
	Locale        string // the language of the page it was started on
	PasswordHash  string // argon2id, already checked against the policy
	CodeHash      []byte
	Attempts      int
	Sends         int
	CreatedAt     time.Time
	LastSentAt    time.Time
	ExpiresAt     time.Time
}

const signupColumns = `id::text AS id, browser_hash, auth_request_id, login, email, phone, locale, password_hash,
	code_hash, attempts, sends, created_at, last_sent_at, expires_at`

// signupGone is the answer for a sign-up that does not exist, expired, was finished, or
// belongs to another browser: the same sentence for all, so an id reveals nothing.
func signupGone() *passport.Error {
	return passport.Errorf(passport.ENOTFOUND, "This sign-up has expired or was started in another browser. Start again.")
}

// StartSignup stores a new sign-up, valid for lifetime, and queues its code message in the
// same transaction. s.ID must be a fresh random UUID (the code's HMAC is bound to it).
// Sign-ups whose time ran out are deleted by DeleteExpired (every replica's clean-up).
func (db *DB) StartSignup(ctx context.Context, s *Signup, lifetime time.Duration, msg passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		s.Attempts, s.Sends, s.CreatedAt, s.LastSentAt, s.ExpiresAt = 0, 1, now, now, now.Add(lifetime)
		if _, err := tx.Exec(ctx, `
			INSERT INTO signups (id, browser_hash, auth_request_id, login, email, phone, locale, password_hash,
				code_hash, attempts, sends, created_at, last_sent_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 1, $10, $10, $11)`,
			s.ID, s.BrowserHash, s.AuthRequestID, s.Login, s.Email, s.Phone, s.Locale, s.PasswordHash,
			s.CodeHash, now, s.ExpiresAt); err != nil {
			return err
		}
		return enqueue(ctx, tx, now, msg)
	})
}

// lockSignup reads the sign-up for update; it returns signupGone unless it is unexpired and
// the browser's.
func lockSignup(ctx context.Context, tx pgx.Tx, id string, browserHash []byte, now time.Time) (*Signup, error) {
	if !isUUID(id) {
		return nil, signupGone()
	}
	rows, _ := tx.Query(ctx, `SELECT `+signupColumns+` FROM signups WHERE id = $1 FOR UPDATE`, id)
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[Signup])
	if err != nil {
		return nil, mapErr(err, signupGone())
	}
	if !s.ExpiresAt.After(now) || subtle.ConstantTimeCompare(s.BrowserHash, browserHash) != 1 {
		return nil, signupGone()
	}
	return s, nil
}

// Signup returns the browser's unexpired sign-up. Returns ENOTFOUND otherwise.
func (db *DB) Signup(ctx context.Context, id string, browserHash []byte) (*Signup, error) {
	var out *Signup
	err := db.tx(ctx, func(tx pgx.Tx) error {
		s, err := lockSignup(ctx, tx, id, browserHash, db.now())
		out = s
		return err
	})
	return out, err
}

// ResendSignup gives the browser's sign-up a new code (the old one stops working), a fresh
// lifetime and fresh attempts, and queues its message, in one transaction. A new code is
// refused (ELIMITED) until ResendAfter has passed since the last one, and after MaxSends
// codes. Returns ENOTFOUND when there is no such sign-up.
func (db *DB) ResendSignup(ctx context.Context, id string, browserHash, codeHash []byte, lim CodeLimits, msg passport.Outgoing) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		s, err := lockSignup(ctx, tx, id, browserHash, now)
		if err != nil {
			return err
		}
		if wait := s.LastSentAt.Add(lim.ResendAfter).Sub(now); wait > 0 {
			return &passport.Error{Code: passport.ELIMITED, Field: "code",
				Message: "A code was sent a moment ago. You can ask for another in %d seconds.", Args: []any{passport.Count(int(wait.Seconds()) + 1)}}
		}
		if s.Sends >= lim.MaxSends {
			return &passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Too many codes were sent. Try again later."}
		}
		if _, err := tx.Exec(ctx, `UPDATE signups SET code_hash = $2, attempts = 0, sends = sends + 1, last_sent_at = $3,
			expires_at = $4 WHERE id = $1`, s.ID, codeHash, now, now.Add(lim.Lifetime)); err != nil {
			return err
		}
		return enqueue(ctx, tx, now, msg)
	})
}

// CompleteSignup checks a code against the browser's sign-up. A wrong code spends an
// attempt (committed although the sign-up is refused); after maxAttempts the code is dead.
// The right code proves the email address: in one transaction the sign-up is deleted and
// its account created — registration method self, the email verified, the phone (if any)
// not — account.signed_up recorded, and the account returned. Refusals: ENOTFOUND (no such sign-up), a code field error (wrong,
// ELIMITED when spent), or a login field error when another account took the login in the
// meantime (the sign-up is deleted then: its login must be chosen again).
func (db *DB) CompleteSignup(ctx context.Context, id string, browserHash, codeHash []byte, maxAttempts int) (*passport.Account, error) {
	var created *passport.Account
	var refusal error
	err := db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		s, err := lockSignup(ctx, tx, id, browserHash, now)
		if passport.ErrorCode(err) == passport.ENOTFOUND {
			refusal = err
			return nil
		}
		if err != nil {
			return err
		}
		if s.Attempts >= maxAttempts {
			refusal = &passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Too many wrong codes. Ask for a new code."}
			return nil
		}
		if subtle.ConstantTimeCompare(s.CodeHash, codeHash) != 1 {
			if _, err := tx.Exec(ctx, `UPDATE signups SET attempts = attempts + 1 WHERE id = $1`, s.ID); err != nil {
				return err
			}
			if left := maxAttempts - s.Attempts - 1; left == 0 {
				refusal = &passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Wrong code, and that was the last attempt. Ask for a new code."}
			} else {
				refusal = passport.FieldError("code", "Wrong code. %d attempts left.", passport.Count(left))
			}
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM signups WHERE id = $1`, s.ID); err != nil {
			return err
		}
		// A savepoint, so that a login taken meanwhile leaves the deletion above to commit.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		var accountID string
		err = sp.QueryRow(ctx, `
			INSERT INTO accounts (login, login_folded, email, email_verified, phone, phone_verified, locale,
				registration_method, status, password_hash, created_at, updated_at)
			VALUES ($1, $2, $3, true, $4, false, $5, $6, $7, $8, $9, $9)
			RETURNING id`,
			s.Login, passport.FoldLogin(s.Login), s.Email, s.Phone, s.Locale, passport.RegisteredSelf,
			passport.StatusActive, s.PasswordHash, now).Scan(&accountID)
		if isUniqueViolation(err) {
			refusal = passport.FieldError("login", "This login is already taken.")
			return sp.Rollback(ctx)
		}
		if err != nil {
			return err
		}
		if err := sp.Commit(ctx); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, accountID)
		if created, err = pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.Account]); err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventSignupCompleted, AccountID: accountID,
			Actor: own(ctx, accountID), Details: map[string]any{"registration_method": passport.RegisteredSelf}})
	})
	if err != nil {
		return nil, err
	}
	return created, refusal
}
