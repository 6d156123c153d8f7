package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// record appends a security event inside the change's transaction, so the event exists
// exactly when the change does. The actor is the request's (passport.WithActor) unless e
// names one. Details never hold secrets or codes: callers pass names of what changed.
func record(ctx context.Context, tx pgx.Tx, now time.Time, e passport.Event) error {
	a := e.Actor
	if a.Kind == "" {
		a = passport.ActorFrom(ctx)
	}
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO security_events (at, type, actor_kind, actor_id, actor_role, actor_org_id, client_id,
			account_id, org_id, ip, user_agent, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		now, e.Type, a.Kind, nullUUID(a.AccountID), a.Role, nullUUID(a.OrgID), a.ClientID,
		nullUUID(e.AccountID), nullUUID(e.OrgID), truncate(storable(a.IP), 100), truncate(storable(a.UserAgent), 300), details)
	return err
}

// Record appends one security event on its own: for facts that change nothing else (a
// failed sign-in). Every change records its event in its own transaction instead.
func (db *DB) Record(ctx context.Context, e passport.Event) error {
	return db.tx(ctx, func(tx pgx.Tx) error { return record(ctx, tx, db.now(), e) })
}

func nullUUID(s string) any {
	if s == "" || !isUUID(s) {
		return nil
	}
	return s
}

// storable is text PostgreSQL accepts: valid UTF-8 without NUL (a browser's header may
// carry either, and must not fail the change it accompanies).
func storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut at a rune boundary.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// EventFilter selects security events, newest first. One scope applies: an account
// (AccountID; with OrgIDs, only events concerning no organisation or one of those),
// organisations (OrgIDs: events about them or done on their behalf), or all (All, for the
// service admin).
type EventFilter struct {
	AccountID string
	OrgIDs    []string
	All       bool
	Before    int64     // keyset cursor: only events with a smaller id; 0 for the newest
	Since     time.Time // only events at or after this time; zero for all
	Limit     int
}

const eventColumns = `e.id, e.at, e.type, e.actor_kind, coalesce(e.actor_id::text, ''), e.actor_role,
	coalesce(e.actor_org_id::text, ''), e.client_id, coalesce(e.account_id::text, ''),
	coalesce(e.org_id::text, ''), e.ip, e.user_agent, e.details,
	coalesce(o.name, ''), coalesce(ao.name, '')`

// Events returns security events matching f, newest first, at most f.Limit (default 50).
func (db *DB) Events(ctx context.Context, f EventFilter) ([]passport.Event, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	var where string
	switch {
	case f.AccountID != "":
		if !isUUID(f.AccountID) {
			return []passport.Event{}, nil
		}
		where = `e.account_id = ` + arg(f.AccountID)
		if f.OrgIDs != nil { // an organisation's admin: nothing that concerns another organisation
			p := arg(f.OrgIDs)
			where += ` AND (e.org_id IS NULL OR e.org_id = ANY(` + p + `::uuid[]))` +
				` AND (e.actor_org_id IS NULL OR e.actor_org_id = ANY(` + p + `::uuid[]))`
		}
	case f.All:
		where = `true`
	default:
		p := arg(passport.NonNil(f.OrgIDs))
		where = `(e.org_id = ANY(` + p + `::uuid[]) OR e.actor_org_id = ANY(` + p + `::uuid[]))`
	}
	if f.Before > 0 {
		where += ` AND e.id < ` + arg(f.Before)
	}
	if !f.Since.IsZero() {
		where += ` AND e.at >= ` + arg(f.Since)
	}
	rows, err := db.pool.Query(ctx, `
		SELECT `+eventColumns+`
		FROM security_events e
		LEFT JOIN organisations o ON o.id = e.org_id
		LEFT JOIN organisations ao ON ao.id = e.actor_org_id
		WHERE `+where+`
		ORDER BY e.id DESC LIMIT `+arg(f.Limit), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (passport.Event, error) {
		var e passport.Event
		err := r.Scan(&e.ID, &e.At, &e.Type, &e.Actor.Kind, &e.Actor.AccountID, &e.Actor.Role, &e.Actor.OrgID,
			&e.Actor.ClientID, &e.AccountID, &e.OrgID, &e.Actor.IP, &e.Actor.UserAgent, &e.Details, &e.OrgName, &e.ActorOrg)
		return e, err
	})
}

// DeleteEventsBefore removes security events older than cutoff (the retention period),
// in batches so that no statement holds many rows; returns how many went.
func (db *DB) DeleteEventsBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	for {
		tag, err := db.pool.Exec(ctx, `
			DELETE FROM security_events WHERE id IN (
				SELECT id FROM security_events WHERE at < $1 ORDER BY id LIMIT 5000)`, cutoff)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < 5000 {
			return total, nil
		}
	}
}
