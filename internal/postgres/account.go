package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/passport-idp/passport/internal/passport"
)

const accountColumns = `id, coalesce(login, '') AS login, nickname, given_name, family_name, birthdate,
	email, email_verified, phone, phone_verified, locale, position, organization, roles,
	registration_method, status, verification_status, verification_comment, password_hash,
	created_at, updated_at, last_visit_at`

// CreateAccount inserts a new account and fills in its ID and timestamps. Returns ECONFLICT
// when the login (compared after case folding) is taken.
func (db *DB) CreateAccount(ctx context.Context, a *passport.Account) error {
	now := db.now()
	if a.Status == "" {
		a.Status = passport.StatusActive
	}
	if a.VerificationStatus == "" {
		a.VerificationStatus = passport.VerificationNew
	}
	if a.RegistrationMethod == "" {
		a.RegistrationMethod = passport.RegisteredAdmin
	}
	if a.Roles == nil {
		a.Roles = []string{}
	}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO accounts (login, login_folded, nickname, given_name, family_name, birthdate,
			email, email_verified, phone, phone_verified, locale, position, organization, roles,
			registration_method, status, verification_status, password_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
		RETURNING id`,
		a.Login, passport.FoldLogin(a.Login), a.Nickname, a.GivenName, a.FamilyName, a.Birthdate,
		a.Email, a.EmailVerified, a.Phone, a.PhoneVerified, a.Locale, a.Position, a.Organization, a.Roles,
		a.RegistrationMethod, a.Status, a.VerificationStatus, a.PasswordHash, now,
	).Scan(&a.ID)
	if err != nil {
		if passport.ErrorCode(mapErr(err, "")) == passport.ECONFLICT {
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
	return a, mapErr(err, "No such account.")
}

// AccountByLogin returns the account whose login folds to the same string as login.
// Returns ENOTFOUND if there is none.
func (db *DB) AccountByLogin(ctx context.Context, login string) (*passport.Account, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE login_folded = $1`,
		passport.FoldLogin(login))
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByNameLax[passport.Account])
	return a, mapErr(err, "No such account.")
}

// SetPasswordHash replaces the stored password hash (used to rehash on sign-in when the
// argon2id parameters change).
func (db *DB) SetPasswordHash(ctx context.Context, id, hash string) error {
	_, err := db.pool.Exec(ctx, `UPDATE accounts SET password_hash = $2 WHERE id = $1`, id, hash)
	return err
}
