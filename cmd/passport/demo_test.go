package main

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/passport"
)

// TestDemoAccountCanEditEverything: `passport demo` creates a self-registered account, so a
// newcomer can try editing the names and birth date (they are locked on issued accounts),
// and running it again changes nothing.
func TestDemoAccountCanEditEverything(t *testing.T) {
	out := mustCLI(t, "demo")
	if !strings.Contains(out, demoLogin) {
		t.Fatalf("demo output does not name the login: %s", out)
	}
	mustCLI(t, "demo")
	srv := startServer(t, "")
	b := newBrowser(t, srv)
	signInDirectly(t, b, demoLogin, demoPassword)
	code, me := api(t, b, http.MethodPatch, "/me", "", map[string]any{"given_name": "Dana", "family_name": "Moss", "birthdate": "1990-04-23"})
	if code != http.StatusOK || me["given_name"] != "Dana" || me["birthdate"] != "1990-04-23" {
		t.Errorf("editing the demo account's names: %d %v", code, me)
	}
}

// TestDemoOrganisation: `passport demo` also creates the demo organisation with its role
// catalogue named in all five languages, its administrator (printed with the other demo
// credentials) and the demo person's membership as a driver; a second run creates nothing
// and records nothing.
func TestDemoOrganisation(t *testing.T) {
	ctx := context.Background()
	out := mustCLI(t, "demo")
	for _, want := range []string{demoAdminLogin, demoAdminPassword, demoOrgName, "/admin", "two-factor"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output does not mention %q: %s", want, out)
		}
	}
	db := openDB(t)
	o, err := db.OrgByAlias(ctx, demoOrgAlias)
	if err != nil || o.Name != demoOrgName || o.Status != passport.OrgActive {
		t.Fatalf("demo organisation: %+v, %v", o, err)
	}
	roles, err := db.Roles(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range roles {
		keys = append(keys, r.Key)
		for _, lang := range []string{"en", "ru", "et", "nl", "sv"} {
			if r.Names[lang] == "" {
				t.Errorf("role %s has no %s name: %v", r.Key, lang, r.Names)
			}
		}
	}
	if want := []string{"controller", "driver", "manager", "operator"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("demo roles %v, want %v", keys, want)
	}
	admin, err := db.AccountByLogin(ctx, demoAdminLogin)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := db.AdminGrants(ctx, admin.ID); err != nil || !reflect.DeepEqual(g, []passport.Grant{{Role: passport.RoleOrgAdmin, OrgID: o.ID}}) {
		t.Errorf("demo admin's grants: %+v, %v", g, err)
	}
	person, err := db.AccountByLogin(ctx, demoLogin)
	if err != nil {
		t.Fatal(err)
	}
	person, err = db.Account(ctx, person.ID)
	if err != nil || len(person.Memberships) != 1 {
		t.Fatalf("demo person's memberships: %+v, %v", person, err)
	}
	if m := person.Memberships[0]; m.OrgID != o.ID || m.Managed || !reflect.DeepEqual(m.Roles, []string{"driver"}) {
		t.Errorf("demo person's membership: %+v", m)
	}

	events := countRows(t, `SELECT count(*) FROM security_events`)
	mustCLI(t, "demo")
	if n := countRows(t, `SELECT count(*) FROM security_events`); n != events {
		t.Errorf("a second run recorded %d events", n-events)
	}
	if n := countRows(t, `SELECT count(*) FROM memberships WHERE org_id = $1`, o.ID); n != 1 {
		t.Errorf("demo organisation has %d members after a second run, want 1", n)
	}

	// The demo person's applications receive the organisation in Keycloak's shape.
	srv := startServer(t, "")
	secret := setupClient(t, "demo-org-web")
	rp := newRP(t, srv, "demo-org-web", secret, "organization")
	b := newBrowser(t, srv)
	signInDirectly(t, b, demoLogin, demoPassword)
	if code, _ := api(t, b, http.MethodPatch, "/me/publicity", "", map[string]any{"fields": map[string]string{"organization": "public"}}); code != http.StatusOK {
		t.Fatalf("publicity: %d", code)
	}
	v := oauth2.GenerateVerifier()
	q := walk(t, b, rp.authURL("demo", v), "", "", "allow")
	tok, err := rp.exchange(q.Get("code"), v)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{demoOrgAlias: map[string]any{"id": o.ID, "name": demoOrgName, "roles": []any{"driver"}, "position": "Bus driver"}}
	if got := userinfo(t, srv, tok)["organization"]; !reflect.DeepEqual(got, want) {
		t.Errorf("organization claim: %v, want %v", toJSON(got), toJSON(want))
	}
}
