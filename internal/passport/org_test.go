package passport

import (
	"slices"
	"testing"
)

// TestAuthorityScope is the scope rule as a table: who administers which organisation.
func TestAuthorityScope(t *testing.T) {
	service := Authority{Grants: []Grant{{Role: RoleServiceAdmin}}}
	adminA := Authority{Grants: []Grant{{Role: RoleOrgAdmin, OrgID: "A"}}}
	adminAB := Authority{Grants: []Grant{{Role: RoleOrgAdmin, OrgID: "A"}, {Role: RoleOrgAdmin, OrgID: "B"}}}
	reviewerA := Authority{Grants: []Grant{{Role: RoleReviewer, OrgID: "A"}}}
	person := Authority{}
	for _, tc := range []struct {
		name    string
		a       Authority
		admin   bool
		service bool
		canA    bool
		canB    bool
		orgs    []string // nil = every organisation
		roleInA string
	}{
		{"service admin: everything", service, true, true, true, true, nil, RoleServiceAdmin},
		{"org admin of A: A only", adminA, true, false, true, false, []string{"A"}, RoleOrgAdmin},
		{"org admin of A and B", adminAB, true, false, true, true, []string{"A", "B"}, RoleOrgAdmin},
		{"reviewer of A: no console powers over members", reviewerA, false, false, false, false, []string{}, ""},
		{"person: nothing", person, false, false, false, false, []string{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Admin(); got != tc.admin {
				t.Errorf("Admin() = %v, want %v", got, tc.admin)
			}
			if got := tc.a.Service(); got != tc.service {
				t.Errorf("Service() = %v, want %v", got, tc.service)
			}
			if got := tc.a.CanAdminOrg("A"); got != tc.canA {
				t.Errorf("CanAdminOrg(A) = %v, want %v", got, tc.canA)
			}
			if got := tc.a.CanAdminOrg("B"); got != tc.canB {
				t.Errorf("CanAdminOrg(B) = %v, want %v", got, tc.canB)
			}
			got := tc.a.Orgs()
			if (got == nil) != (tc.orgs == nil) || !slices.Equal(got, tc.orgs) {
				t.Errorf("Orgs() = %#v, want %#v", got, tc.orgs)
			}
			if got := tc.a.RoleIn("A"); got != tc.roleInA {
				t.Errorf("RoleIn(A) = %q, want %q", got, tc.roleInA)
			}
		})
	}
}

// TestOrganizationClaimShape: Keycloak's shape from active memberships; roles always a list,
// no empty position; a disabled organisation releases nothing.
func TestOrganizationClaimShape(t *testing.T) {
	rules := NewRules(Rules{PhotoURL: func(id string) string { return id }})
	a := &Account{ID: "x", Publicity: map[Field]Publicity{FieldOrganization: Public}, Memberships: []Membership{
		{OrgID: "1", OrgAlias: "ferries", OrgName: "Ferries", OrgStatus: OrgActive, Roles: []string{"captain"}, Position: "Master"},
		{OrgID: "2", OrgAlias: "taxi", OrgName: "Taxi", OrgStatus: OrgActive},
		{OrgID: "3", OrgAlias: "gone", OrgName: "Gone", OrgStatus: OrgDisabled, Roles: []string{"driver"}},
	}}
	c := rules.Release(a, []string{ScopeOpenID, ScopeOrganization}, nil)
	orgs, ok := c["organization"].(map[string]any)
	if !ok {
		t.Fatalf("organization claim: %#v", c)
	}
	if len(orgs) != 2 || orgs["gone"] != nil {
		t.Fatalf("organisations released: %#v", orgs)
	}
	f := orgs["ferries"].(map[string]any)
	if f["id"] != "1" || f["name"] != "Ferries" || f["position"] != "Master" || !slices.Equal(f["roles"].([]string), []string{"captain"}) {
		t.Errorf("ferries: %#v", f)
	}
	tx := orgs["taxi"].(map[string]any)
	if _, has := tx["position"]; has {
		t.Errorf("empty position released: %#v", tx)
	}
	if r, _ := tx["roles"].([]string); r == nil || len(r) != 0 {
		t.Errorf("roles of a member without roles: %#v, want []", tx["roles"])
	}
}

func TestValidateAliasAndRoleKey(t *testing.T) {
	for alias, ok := range map[string]bool{"acme": true, "a": true, "acme-2": true, "Acme": false, "-acme": false,
		"ac me": false, "": false, "a_b": false, "ä": false} {
		if got := ValidateAlias(alias) == nil; got != ok {
			t.Errorf("ValidateAlias(%q) ok = %v, want %v", alias, got, ok)
		}
	}
	for key, ok := range map[string]bool{"driver": true, "senior_operator": true, "op-2": true, "Driver": false, "": false, "_x": false} {
		if got := ValidateRoleKey(key) == nil; got != ok {
			t.Errorf("ValidateRoleKey(%q) ok = %v, want %v", key, got, ok)
		}
	}
}
