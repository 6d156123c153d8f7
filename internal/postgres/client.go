package postgres

import (
	"context"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// CreateClient inserts a client after validating it. Returns EINVALID for a bad client and
// ECONFLICT when the id is taken.
func (db *DB) CreateClient(ctx context.Context, c *passport.Client) error {
	if err := passport.ValidateClient(c); err != nil {
		return err
	}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO clients (id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris,
			grant_types, scopes, access_token_lifetime, id_token_lifetime, refresh_token_lifetime, require_mfa, created_at,
			admin_org_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		RETURNING created_at`,
		c.ID, c.Name, c.SecretHash, c.Public, passport.NonNil(c.RedirectURIs), passport.NonNil(c.PostLogoutRedirectURIs),
		passport.NonNil(c.GrantTypes), passport.NonNil(c.Scopes), int(c.AccessTokenLifetime/time.Second),
		int(c.IDTokenLifetime/time.Second), int(c.RefreshTokenLifetime/time.Second), c.RequireMFA, db.now(),
		nullUUID(c.AdminOrgID),
	).Scan(&c.CreatedAt)
	if isUniqueViolation(err) {
		return passport.FieldError("id", "A client with this ID already exists.")
	}
	return err
}

// Client returns the client with the given id, disabled or not. Returns ENOTFOUND if there
// is none.
func (db *DB) Client(ctx context.Context, id string) (*passport.Client, error) {
	var c passport.Client
	var at, it, rt int
	err := db.pool.QueryRow(ctx, `
		SELECT id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, grant_types,
			scopes, access_token_lifetime, id_token_lifetime, refresh_token_lifetime, disabled, require_mfa, created_at,
			coalesce(admin_org_id::text, '')
		FROM clients WHERE id = $1`, id,
	).Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &c.RedirectURIs, &c.PostLogoutRedirectURIs,
		&c.GrantTypes, &c.Scopes, &at, &it, &rt, &c.Disabled, &c.RequireMFA, &c.CreatedAt, &c.AdminOrgID)
	if err != nil {
		return nil, mapErr(err, passport.Errorf(passport.ENOTFOUND, "No such client."))
	}
	c.AccessTokenLifetime = time.Duration(at) * time.Second
	c.IDTokenLifetime = time.Duration(it) * time.Second
	c.RefreshTokenLifetime = time.Duration(rt) * time.Second
	return &c, nil
}

// ClientExists reports whether a client with the id exists.
func (db *DB) ClientExists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clients WHERE id = $1)`, id).Scan(&ok)
	return ok, err
}
