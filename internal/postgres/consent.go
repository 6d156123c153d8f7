package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

// Decisions returns the person's consent decisions for the client: field -> granted.
func (db *DB) Decisions(ctx context.Context, accountID, clientID string) (map[passport.Field]bool, error) {
	rows, err := db.pool.Query(ctx, `SELECT field, granted FROM consents WHERE account_id = $1 AND client_id = $2`,
		accountID, clientID)
	if err != nil {
		return nil, err
	}
	out := map[passport.Field]bool{}
	var f string
	var granted bool
	_, err = pgx.ForEachRow(rows, []any{&f, &granted}, func() error {
		out[passport.Field(f)] = granted
		return nil
	})
	return out, err
}

// SaveDecisions records consent decisions for the client, replacing earlier ones for the
// same fields, and the consent.given / consent.withdrawn events of what changed (the client
// and the fields, by name). When the photo goes from consented to declined, the photo gets a new id in
// the same transaction, so the URL the application was given stops working (as RevokeApp
// and a change of the photo's level do). Withdrawing any consent also revokes the client's
// refresh tokens (SPEC §3); what the application already holds is re-checked at every call.
func (db *DB) SaveDecisions(ctx context.Context, accountID, clientID string, decisions map[passport.Field]bool) error {
	if len(decisions) == 0 {
		return nil
	}
	fields := make([]string, 0, len(decisions))
	granted := make([]bool, 0, len(decisions))
	for f, g := range decisions {
		fields = append(fields, string(f))
		granted = append(granted, g)
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		// The account's lock orders this against photo uploads and publicity changes, and
		// against another decision for the photo, so a withdrawal is never missed.
		if err := lockAccount(ctx, tx, accountID); err != nil {
			return err
		}
		var was []string // the fields consented to until now
		rows, err := tx.Query(ctx, `SELECT field FROM consents WHERE account_id = $1 AND client_id = $2 AND granted`,
			accountID, clientID)
		if err != nil {
			return err
		}
		if was, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		withdrawn := func(f passport.Field) bool {
			g, decided := decisions[f]
			return decided && !g && slices.Contains(was, string(f))
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO consents (account_id, client_id, field, granted, decided_at)
			SELECT $1, $2, f, g, $5 FROM unnest($3::text[], $4::bool[]) AS d (f, g)
			ON CONFLICT (account_id, client_id, field) DO UPDATE SET granted = excluded.granted, decided_at = excluded.decided_at`,
			accountID, clientID, fields, granted, db.now()); err != nil {
			return err
		}
		if withdrawn(passport.FieldPicture) {
			// The application may hold the photo's URL: give the photo a new one.
			if err := newPhotoID(ctx, tx, accountID); err != nil {
				return err
			}
		}
		if slices.ContainsFunc(was, func(f string) bool { return withdrawn(passport.Field(f)) }) {
			// SPEC §3: revoking consent also revokes that client's refresh tokens.
			if err := revokeClientRefresh(ctx, tx, accountID, clientID, db.now()); err != nil {
				return err
			}
		}
		// The events say what changed: fields newly consented to, and fields whose consent was
		// taken back. Confirming a decision already stored, or declining a field never
		// consented to, changes nothing and records nothing.
		var given, taken []string
		for f, g := range decisions {
			switch {
			case g && !slices.Contains(was, string(f)):
				given = append(given, string(f))
			case withdrawn(f):
				taken = append(taken, string(f))
			}
		}
		for _, ev := range []struct {
			typ    string
			fields []string
		}{{passport.EventConsentGiven, given}, {passport.EventConsentWithdrawn, taken}} {
			if len(ev.fields) == 0 {
				continue
			}
			slices.Sort(ev.fields)
			if err := record(ctx, tx, db.now(), passport.Event{Type: ev.typ, AccountID: accountID, Actor: own(ctx, accountID),
				Details: map[string]any{"client_id": clientID, "fields": ev.fields}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// AccountForClient returns an active account together with the fields it consented to
// release to the client, in one round trip: what userinfo and introspection need at every
// call. Returns ENOTFOUND if the account is missing or not active.
func (db *DB) AccountForClient(ctx context.Context, accountID, clientID string) (*passport.Account, []passport.Field, error) {
	if !isUUID(accountID) {
		return nil, nil, passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	rows, _ := db.pool.Query(ctx, `SELECT `+accountColumns+`,
			coalesce((SELECT array_agg(field) FROM consents c WHERE c.account_id = accounts.id AND c.client_id = $2 AND c.granted), '{}') AS consented
		FROM accounts WHERE id = $1 AND status = 'active'`, accountID, clientID)
	type row struct {
		passport.Account
		Consented []string
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByNameLax[row])
	if err != nil {
		return nil, nil, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such account."))
	}
	fields := make([]passport.Field, len(r.Consented))
	for i, f := range r.Consented {
		fields[i] = passport.Field(f)
	}
	return &r.Account, fields, nil
}

// Grant is an application a person has signed in to.
type Grant struct {
	ClientID   string
	ClientName string
	Scopes     []string
	FirstAt    time.Time
	LastAt     time.Time
}

// Grants lists the applications the person has signed in to, most recent first.
func (db *DB) Grants(ctx context.Context, accountID string) ([]Grant, error) {
	rows, _ := db.pool.Query(ctx, `
		SELECT g.client_id, coalesce(nullif(c.name, ''), c.id) AS client_name, g.scopes, g.first_at, g.last_at
		FROM grants g JOIN clients c ON c.id = g.client_id
		WHERE g.account_id = $1 ORDER BY g.last_at DESC`, accountID)
	return pgx.CollectRows(rows, pgx.RowToStructByName[Grant])
}

// RevokeApp disconnects an application from the person: its consent decisions and grant are
// deleted, every token it holds for the person is revoked and consent.withdrawn is recorded
// (with the fields it had), in one transaction. Returns
// ENOTFOUND when the application was not connected.
func (db *DB) RevokeApp(ctx context.Context, accountID, clientID string) error {
	if !isUUID(accountID) {
		return passport.Errorf(passport.ENOTFOUND, "This application is not connected to your account.")
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		tag, err := tx.Exec(ctx, `DELETE FROM grants WHERE account_id = $1 AND client_id = $2`, accountID, clientID)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT field FROM consents WHERE account_id = $1 AND client_id = $2 AND granted ORDER BY field`,
			accountID, clientID)
		if err != nil {
			return err
		}
		consented, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		photoConsent := slices.Contains(consented, string(passport.FieldPicture))
		cons, err := tx.Exec(ctx, `DELETE FROM consents WHERE account_id = $1 AND client_id = $2`, accountID, clientID)
		if err != nil {
			return err
		}
		if photoConsent {
			// The application may hold the photo's URL: give the photo a new one.
			if err := newPhotoID(ctx, tx, accountID); err != nil {
				return err
			}
		}
		// A code issued before the disconnect must not start a new grant afterwards.
		if _, err := tx.Exec(ctx, `UPDATE auth_requests SET code_used_at = $3 WHERE account_id = $1 AND client_id = $2 AND code_used_at IS NULL`,
			accountID, clientID, now); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 && cons.RowsAffected() == 0 {
			return passport.Errorf(passport.ENOTFOUND, "This application is not connected to your account.")
		}
		if err := revokeClientRefresh(ctx, tx, accountID, clientID, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE access_tokens SET revoked_at = $3 WHERE account_id = $1 AND client_id = $2 AND revoked_at IS NULL`,
			accountID, clientID, now); err != nil {
			return err
		}
		return record(ctx, tx, now, passport.Event{Type: passport.EventConsentWithdrawn, AccountID: accountID, Actor: own(ctx, accountID),
			Details: map[string]any{"client_id": clientID, "fields": passport.NonNil(consented), "disconnected": true}})
	})
}

// Consent is one stored decision, for the data export.
type Consent struct {
	ClientID  string    `json:"client_id"`
	Field     string    `json:"field"`
	Granted   bool      `json:"granted"`
	DecidedAt time.Time `json:"decided_at"`
}

// Consents lists every consent decision of the person.
func (db *DB) Consents(ctx context.Context, accountID string) ([]Consent, error) {
	rows, _ := db.pool.Query(ctx, `SELECT client_id, field, granted, decided_at FROM consents
		WHERE account_id = $1 ORDER BY client_id, field`, accountID)
	return pgx.CollectRows(rows, pgx.RowToStructByName[Consent])
}

// TokenWithAccount returns a valid access token (as AccessToken checks it) together with its
// active account and the fields consented to its client, in one round trip (two pipelined
// queries): what userinfo and introspection need at every call. The account is nil for a
// client's own token. Returns ENOTFOUND for an invalid token or an inactive account.
func (db *DB) TokenWithAccount(ctx context.Context, id string) (*passport.AccessToken, *passport.Account, []passport.Field, error) {
	gone := passport.Errorf(passport.ENOTFOUND, "The access token is invalid or expired.")
	if !isUUID(id) {
		return nil, nil, nil, gone
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+accessTokenColumns+` FROM access_tokens t
		WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2
		  AND NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = t.client_id AND c.disabled)`, id, db.now())
	b.Queue(`SELECT `+accountColumns+`,
			coalesce((SELECT array_agg(field) FROM consents c WHERE c.account_id = accounts.id AND c.granted
				AND c.client_id = (SELECT client_id FROM access_tokens WHERE id = $1)), '{}') AS consented
		FROM accounts WHERE id = (SELECT account_id FROM access_tokens WHERE id = $1) AND status = 'active'`, id)
	res := db.pool.SendBatch(ctx, b)
	defer res.Close()
	rows, _ := res.Query()
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.AccessToken])
	if err == pgx.ErrNoRows {
		return nil, nil, nil, gone
	}
	if err != nil {
		return nil, nil, nil, err
	}
	rows, _ = res.Query()
	type row struct {
		passport.Account
		Consented []string
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByNameLax[row])
	switch {
	case err == pgx.ErrNoRows && t.AccountID == "":
		return t, nil, nil, nil
	case err == pgx.ErrNoRows:
		return nil, nil, nil, gone
	case err != nil:
		return nil, nil, nil, err
	}
	fields := make([]passport.Field, len(r.Consented))
	for i, f := range r.Consented {
		fields[i] = passport.Field(f)
	}
	return t, &r.Account, fields, nil
}

// newPhotoID gives the account's photo a new id, so every URL an application was given
// stops working.
func newPhotoID(ctx context.Context, tx pgx.Tx, accountID string) error {
	_, err := tx.Exec(ctx, `UPDATE photos SET id = gen_random_uuid() WHERE account_id = $1`, accountID)
	return err
}

// revokeClientRefresh revokes the client's refresh tokens for the account: families first,
// as in revokeFamily, so a rotation in flight waits and is refused.
func revokeClientRefresh(ctx context.Context, tx pgx.Tx, accountID, clientID string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE token_families SET revoked_at = $3 WHERE account_id = $1 AND client_id = $2 AND revoked_at IS NULL`,
		accountID, clientID, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $3 WHERE account_id = $1 AND client_id = $2 AND revoked_at IS NULL`,
		accountID, clientID, now)
	return err
}
