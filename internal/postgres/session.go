package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

const sessionColumns = `id, account_id, auth_time, amr, ip, user_agent, created_at, last_seen_at, expires_at`

// CreateSession stores a new browser session for the cookie whose hash is tokenHash, and
// records the account's last visit and signin.ok (with the methods used, amr). It fills in
// the session's ID.
func (db *DB) CreateSession(ctx context.Context, tokenHash []byte, s *passport.Session) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO sessions (token_hash, account_id, auth_time, amr, ip, user_agent, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id`,
			tokenHash, s.AccountID, s.AuthTime, s.AMR, s.IP, s.UserAgent, s.CreatedAt, s.ExpiresAt,
		).Scan(&s.ID)
		if err != nil {
			return err
		}
		s.LastSeenAt = s.CreatedAt
		if _, err = tx.Exec(ctx, `UPDATE accounts SET last_visit_at = $2 WHERE id = $1`, s.AccountID, s.CreatedAt); err != nil {
			return err
		}
		return record(ctx, tx, db.now(), passport.Event{Type: passport.EventSigninOK, AccountID: s.AccountID,
			Actor: own(ctx, s.AccountID), Details: map[string]any{"amr": passport.NonNil(s.AMR)}})
	})
}

// SessionByToken returns the live session for a cookie hash: not ended, not expired, and of
// an active account. It also moves last_seen_at forward, at most once a minute. Returns
// ENOTFOUND otherwise.
func (db *DB) SessionByToken(ctx context.Context, tokenHash []byte) (*passport.Session, error) {
	now := db.now()
	rows, _ := db.pool.Query(ctx, `
		SELECT `+sessionColumns+` FROM sessions s
		WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > $2
		  AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.account_id AND a.status = 'active')`,
		tokenHash, now)
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.Session])
	if err != nil {
		return nil, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such session."))
	}
	if now.Sub(s.LastSeenAt) > time.Minute {
		if _, err := db.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, s.ID, now); err != nil {
			return nil, err
		}
		s.LastSeenAt = now
	}
	return s, nil
}

// EndSession ends one session (signing out) and records session.ended for its account.
// Ending an ended or unknown session is not an error and records nothing.
func (db *DB) EndSession(ctx context.Context, id string) error {
	if !isUUID(id) {
		return nil
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		var accountID string
		err := tx.QueryRow(ctx, `UPDATE sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL RETURNING account_id`,
			id, now).Scan(&accountID)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventSessionEnded, AccountID: accountID,
			Actor: own(ctx, accountID), Details: map[string]any{"sign_out": true}})
	})
}

// SessionInfo is a session as the person sees it.
type SessionInfo struct {
	ID         string     `json:"id"`
	IP         string     `json:"ip"`
	UserAgent  string     `json:"user_agent"`
	AMR        []string   `json:"amr"`
	CreatedAt  time.Time  `json:"started_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	EndedAt    *time.Time `json:"ended_at"`
}

// Sessions lists the account's sessions, live ones and those ended in the last 30 days,
// newest first.
func (db *DB) Sessions(ctx context.Context, accountID string) ([]SessionInfo, error) {
	rows, _ := db.pool.Query(ctx, `
		SELECT id, ip, user_agent, amr, created_at, last_seen_at, expires_at, ended_at FROM sessions
		WHERE account_id = $1 AND (ended_at IS NULL OR ended_at > $2) ORDER BY created_at DESC`,
		accountID, db.now().Add(-30*24*time.Hour))
	return pgx.CollectRows(rows, pgx.RowToStructByName[SessionInfo])
}

// Reauthenticate records that the person of a live session proved themselves again (an
// administrator's step-up): the session's sign-in time becomes now and its methods amr.
// Returns ENOTFOUND when the session has ended.
func (db *DB) Reauthenticate(ctx context.Context, sessionID string, amr []string) (time.Time, error) {
	if !isUUID(sessionID) {
		return time.Time{}, passport.Errorf(passport.ENOTFOUND, "No such session.")
	}
	now := db.now()
	tag, err := db.pool.Exec(ctx, `UPDATE sessions SET auth_time = $2, amr = $3 WHERE id = $1 AND ended_at IS NULL
		AND expires_at > $2`, sessionID, now, amr)
	if err != nil {
		return time.Time{}, err
	}
	if tag.RowsAffected() == 0 {
		return time.Time{}, passport.Errorf(passport.ENOTFOUND, "No such session.")
	}
	return now, nil
}
