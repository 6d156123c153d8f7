package main

import (
	"context"
	"testing"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// Helpers for the admin side's tests, shared by the console, admin API, claims and events
// tests.

// setupOrg creates an organisation with the given alias and name (and roles, each named in
// English after its key) and returns its id.
func setupOrg(t *testing.T, alias, name string, roles ...string) string {
	t.Helper()
	svc := &account.Service{DB: openDB(t)}
	o, err := svc.CreateOrg(context.Background(), account.System(), alias, name)
	if err != nil {
		t.Fatalf("create organisation %s: %v", alias, err)
	}
	for _, r := range roles {
		if err := svc.SaveRole(context.Background(), account.System(), o.ID, passport.Role{Key: r, Names: map[string]string{"en": r}}); err != nil {
			t.Fatalf("role %s: %v", r, err)
		}
	}
	return o.ID
}

// grantAdmin gives an account an administrative role (orgID "" for service_admin).
func grantAdmin(t *testing.T, accountID, role, orgID string) {
	t.Helper()
	svc := &account.Service{DB: openDB(t)}
	if err := svc.Grant(context.Background(), account.System(), accountID, role, orgID); err != nil {
		t.Fatalf("grant %s: %v", role, err)
	}
}

// joinOrg makes an account a member of an organisation with roles (managed or not).
func joinOrg(t *testing.T, orgID, accountID string, managed bool, position string, roles ...string) {
	t.Helper()
	if _, err := openDB(t).Pool().Exec(context.Background(), `
		INSERT INTO memberships (account_id, org_id, roles, position, managed, is_primary)
		VALUES ($1, $2, $3, $4, $5, NOT EXISTS (SELECT 1 FROM memberships WHERE account_id = $1))`,
		accountID, orgID, passport.NonNil(roles), position, managed); err != nil {
		t.Fatalf("join organisation: %v", err)
	}
}

// adminBrowser signs an administrator in with two factors: it signs in, turns two factors on
// in the cabinet (the console requires them by default) and returns the browser and the
// TOTP key, so a later sign-in can compute codes.
func adminBrowser(t *testing.T, srv *server, login, password string) (*browser, string) {
	t.Helper()
	b := newBrowser(t, srv)
	signInDirectly(t, b, login, password)
	key, _ := enrol(t, b)
	return b, key
}
