package postgres

import (
	"context"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

const accountColumns = `id, coalesce(login, '') AS login, nickname, given_name, family_name, birthdate,
	email, email_verified, phone, phone_verified, locale,
	coalesce((SELECT jsonb_agg(jsonb_build_object('org_id', o.id, 'alias', o.alias, 'name', o.name,
		'status', o.status, 'roles', m.roles, 'position', m.position, 'managed', m.managed,
		'primary', m.is_primary, 'created_at', m.created_at) ORDER BY m.is_primary DESC, o.name, o.id)
		FROM memberships m JOIN organisations o ON o.id = m.org_id WHERE m.account_id = accounts.id),
		'[]'::jsonb) AS memberships,
	registration_method, status, verification_status, verification_comment, password_hash,
	publicity, private_profile, field_unlocks,
	ARRAY(SELECT u.key FROM jsonb_each_text(accounts.field_unlocks) u
		WHERE u.value IS NULL OR u.value::timestamptz > now() ORDER BY u.key) AS unlocked_fields,
	required_actions, password_expires_at,
	coalesce((SELECT p.id::text FROM photos p WHERE p.account_id = accounts.id), '') AS photo_id,
	created_at, updated_at, last_visit_at, purge_at, auth_epoch`

// CreateAccount inserts a new account, fills in its ID and timestamps, and records
// account.created (by the request's actor). Returns a field error on "login" when the login
// (compared after case folding) is taken.
func (db *DB) CreateAccount(ctx context.Context, a *passport.Account) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := createAccount(ctx, tx, db.now(), a); err != nil {
			return err
		}
		return record(ctx, tx, a.CreatedAt, passport.Event{Type: passport.EventAccountCreated, AccountID: a.ID,
			Details: map[string]any{"registration_method": a.RegistrationMethod}})
	})
}

func createAccount(ctx context.Context, tx pgx.Tx, now time.Time, a *passport.Account) error {
	if a.Status == "" {
		a.Status = passport.StatusActive
	}
	if a.VerificationStatus == "" {
		a.VerificationStatus = passport.VerificationNew
	}
	if a.RegistrationMethod == "" {
		a.RegistrationMethod = passport.RegisteredAdmin
	}
	if a.Publicity == nil {
		a.Publicity = map[passport.Field]passport.Publicity{}
	}
	err := tx.QueryRow(ctx, `
		INSERT INTO accounts (login, login_folded, nickname, given_name, family_name, birthdate,
			email, email_verified, phone, phone_verified, locale,
			registration_method, status, verification_status, password_hash, publicity, private_profile,
			created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
		RETURNING id`,
		a.Login, passport.FoldLogin(a.Login), a.Nickname, a.GivenName, a.FamilyName, a.Birthdate,
		a.Email, a.EmailVerified, a.Phone, a.PhoneVerified, a.Locale,
		a.RegistrationMethod, a.Status, a.VerificationStatus, a.PasswordHash, a.Publicity, a.PrivateProfile, now,
	).Scan(&a.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return passport.FieldError("login", "This login is already taken.")
		}
		return err
	}
	a.CreatedAt, a.UpdatedAt = now, now
	return nil
}

// Account returns the account with the given id. Returns ENOTFOUND if there is none.
func (db *DB) Account(ctx context.Context, id string) (*passport.Account, error) {
	if !isUUID(id) {
		return nil, passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	rows, _ := db.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id)
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.Account])
	return a, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such account."))
}

// AccountByLogin returns the account whose login folds to the same string as login.
// Returns ENOTFOUND if there is none.
func (db *DB) AccountByLogin(ctx context.Context, login string) (*passport.Account, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE login_folded = $1`,
		passport.FoldLogin(login))
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.Account])
	return a, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such account."))
}

// UpgradePasswordHash replaces the stored password hash with a rehash of the same password
// (at sign-in, when the argon2id parameters changed), but only while the stored hash is
// still old: a password change that happened meanwhile wins, and the old password does not
// come back.
func (db *DB) UpgradePasswordHash(ctx context.Context, id, old, hash string) error {
	_, err := db.pool.Exec(ctx, `UPDATE accounts SET password_hash = $3 WHERE id = $1 AND password_hash = $2`, id, old, hash)
	return err
}

// bumpEpoch moves the account's auth epoch, voiding half-finished sign-ins (see
// passport.Account.AuthEpoch).
func bumpEpoch(ctx context.Context, tx pgx.Tx, accountID string) error {
	_, err := tx.Exec(ctx, `UPDATE accounts SET auth_epoch = auth_epoch + 1 WHERE id = $1`, accountID)
	return err
}

// UpdateAccount locks the account, lets update change it, and saves the person-editable
// parts (main information, contacts, publicity, the private switch) in one transaction. If
// update returns an error nothing is saved. When the photo's publicity or the private
// switch changes, the photo gets a new id, so URLs released earlier stop working.
// Returns ENOTFOUND if there is no such account.
//
// events, when given, says which security events the saved change makes; they are recorded
// in the same transaction.
func (db *DB) UpdateAccount(ctx context.Context, id string, update func(*passport.Account) error,
	events ...func(*passport.Account) []passport.Event) (*passport.Account, error) {
	if !isUUID(id) {
		return nil, passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	var out *passport.Account
	err := db.tx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1 FOR UPDATE`, id)
		a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.Account])
		if err != nil {
			return mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such account."))
		}
		before := *a
		before.Publicity = maps.Clone(a.Publicity)
		if err := update(a); err != nil {
			return err
		}
		if a.Publicity == nil {
			a.Publicity = map[passport.Field]passport.Publicity{}
		}
		a.UpdatedAt = db.now()
		_, err = tx.Exec(ctx, `
			UPDATE accounts SET nickname = $2, given_name = $3, family_name = $4, birthdate = $5, locale = $6,
				email = $7, email_verified = $8, phone = $9, phone_verified = $10, publicity = $11,
				private_profile = $12, updated_at = $13
			WHERE id = $1`,
			a.ID, a.Nickname, a.GivenName, a.FamilyName, a.Birthdate, a.Locale, a.Email, a.EmailVerified,
			a.Phone, a.PhoneVerified, a.Publicity, a.PrivateProfile, a.UpdatedAt)
		if err != nil {
			return err
		}
		if a.PhotoID != "" && (before.Publicity[passport.FieldPicture] != a.Publicity[passport.FieldPicture] ||
			before.PrivateProfile != a.PrivateProfile) {
			err := tx.QueryRow(ctx, `UPDATE photos SET id = gen_random_uuid() WHERE account_id = $1 RETURNING id`,
				a.ID).Scan(&a.PhotoID)
			if err == pgx.ErrNoRows {
				a.PhotoID = ""
			} else if err != nil {
				return err
			}
		}
		for _, evs := range events {
			for _, e := range evs(a) {
				if err := record(ctx, tx, a.UpdatedAt, e); err != nil {
					return err
				}
			}
		}
		out = a
		return nil
	})
	return out, err
}
