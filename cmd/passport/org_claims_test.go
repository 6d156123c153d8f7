package main

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/passport"
)

// The organization claim (scope organization) as a relying party sees it while
// administrators change memberships through the admin API: Keycloak's shape, roles changed
// in the next token and the next userinfo call, a disabled organisation gone at once, and
// nothing at all when the field is private.

// orgClaim is the organization claim of an ID token's or userinfo's claims, nil when absent.
func orgClaim(t *testing.T, claims map[string]any) map[string]any {
	t.Helper()
	v, present := claims["organization"]
	if !present {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("organization claim: %T %v, want an object", v, v)
	}
	return m
}

// idTokenClaims verifies a token response's ID token and returns its claims.
func idTokenClaims(t *testing.T, rp *relyingParty, tok *oauth2.Token) map[string]any {
	t.Helper()
	var claims map[string]any
	if err := rp.verify(tok, "").Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// wantOrgClaim compares the claim with want as JSON (roles in the order stored).
func wantOrgClaim(t *testing.T, what string, claims map[string]any, want map[string]any) {
	t.Helper()
	got := orgClaim(t, claims)
	if want == nil {
		if _, present := claims["organization"]; present {
			t.Errorf("%s: organization claim %v, want none at all", what, claims["organization"])
		}
		return
	}
	if toJSON(got) != toJSON(want) {
		t.Errorf("%s: organization claim\n got %s\nwant %s", what, toJSON(got), toJSON(want))
	}
}

// TestOrganizationClaim: the claim in the ID token and at userinfo follows the admin API's
// changes: new roles in the next token (refresh) and the next userinfo call with the same
// access token; a disabled organisation's entry vanishes at once, and with none left the
// claim is absent, not empty; a private organisation field releases nothing.
func TestOrganizationClaim(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	fleet := setupOrg(t, "claims-fleet", "Claims Fleet", "driver", "controller")
	depot := setupOrg(t, "claims-depot", "Claims Depot", "clerk")
	personID := setupSelfUser(t, "claims-person", "claims-password-1")
	joinOrg(t, fleet, personID, false, "Driver", "driver")
	joinOrg(t, depot, personID, false, "", "clerk")
	serviceID := setupUser(t, "claims-service", "admin-password-1")
	grantAdmin(t, serviceID, passport.RoleServiceAdmin, "")
	adminID := setupUser(t, "claims-admin", "admin-password-1")
	grantAdmin(t, adminID, passport.RoleOrgAdmin, fleet)
	svc := adminCookie(t, srv, "service admin", "claims-service", "admin-password-1", "*")
	adm := adminCookie(t, srv, "fleet admin", "claims-admin", "admin-password-1", fleet)

	secret := setupClient(t, "claims-app")
	rp := newRP(t, srv, "claims-app", secret, passport.ScopeOrganization, "offline_access")
	person := newBrowser(t, srv)
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(person, "claims", v, "claims-person", "claims-password-1"), v)
	if err != nil {
		t.Fatal(err)
	}
	fleetEntry := func(roles ...string) map[string]any {
		return map[string]any{"id": fleet, "name": "Claims Fleet", "position": "Driver", "roles": roles}
	}
	depotEntry := map[string]any{"id": depot, "name": "Claims Depot", "roles": []string{"clerk"}}
	want := map[string]any{"claims-fleet": fleetEntry("driver"), "claims-depot": depotEntry}
	wantOrgClaim(t, "ID token", idTokenClaims(t, rp, tok), want)
	wantOrgClaim(t, "userinfo", userinfo(t, srv, tok), want)

	refresh := func(what string) map[string]any {
		t.Helper()
		next, err := rp.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh %s: %v", what, err)
		}
		tok.RefreshToken = next.RefreshToken
		return idTokenClaims(t, rp, next)
	}

	// The fleet's administrator changes the roles.
	adm.mustCall(t, srv, http.StatusOK, "PUT", "/admin/orgs/claims-fleet/members/"+personID+"/roles",
		map[string]any{"roles": []string{"controller", "driver"}})
	want["claims-fleet"] = fleetEntry("controller", "driver")
	wantOrgClaim(t, "userinfo with the same access token after the role change", userinfo(t, srv, tok), want)
	wantOrgClaim(t, "the next ID token (refresh) after the role change", refresh("after the role change"), want)

	// The fleet is disabled: its entry goes at once; the depot's stays.
	svc.mustCall(t, srv, http.StatusOK, "PATCH", "/admin/orgs/"+fleet, map[string]string{"status": "disabled"})
	delete(want, "claims-fleet")
	wantOrgClaim(t, "userinfo after the fleet is disabled", userinfo(t, srv, tok), want)
	wantOrgClaim(t, "the next ID token after the fleet is disabled", refresh("after disabling"), want)

	// With the depot disabled too, no organisation is left: no claim at all.
	svc.mustCall(t, srv, http.StatusOK, "PATCH", "/admin/orgs/claims-depot", map[string]string{"status": "disabled"})
	wantOrgClaim(t, "userinfo with every organisation disabled", userinfo(t, srv, tok), nil)
	wantOrgClaim(t, "the next ID token with every organisation disabled", refresh("with none left"), nil)

	// Enabled again, both come back with the roles they had.
	for _, o := range []string{fleet, depot} {
		svc.mustCall(t, srv, http.StatusOK, "PATCH", "/admin/orgs/"+o, map[string]string{"status": "active"})
	}
	want["claims-fleet"] = fleetEntry("controller", "driver")
	wantOrgClaim(t, "userinfo after enabling", userinfo(t, srv, tok), want)

	// The person makes the field private: nothing is released, to this application either.
	signInDirectly(t, person, "claims-person", "claims-password-1")
	if status, out := api(t, person, "PATCH", "/me/publicity", "", map[string]any{"fields": map[string]string{"organization": "private"}}); status != http.StatusOK {
		t.Fatalf("making the organisation private: %d %v", status, out)
	}
	wantOrgClaim(t, "userinfo with the field private", userinfo(t, srv, tok), nil)
	wantOrgClaim(t, "the next ID token with the field private", refresh("private"), nil)
}
