package web

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
)

// eventTypes reads every security event type constant (Event…) from internal/passport, so
// a type added there without a sentence here fails the test below.
func eventTypes(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("../passport/*.go")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Event") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						types[n.Name] = v
					}
				}
			}
		}
	}
	if len(types) < 30 {
		t.Fatalf("found only %d event types: the scan is broken", len(types))
	}
	return types
}

// TestEveryEventTypeHasASentence: each type reads as its own sentence in every language —
// not the fallback for unknown types, not the raw type, and translated (not the English
// sentence) outside English.
func TestEveryEventTypeHasASentence(t *testing.T) {
	cat := loadCatalog(t)
	en := cat.For("en")
	fallback := en.Sprintf("Other security event (%s)", "x")
	if fallback == "Other security event (x)" && !cat.Has("en", "Other security event (%s)") {
		t.Fatal("the fallback sentence is not in the catalogue")
	}
	seen := map[string]string{}
	for name, typ := range eventTypes(t) {
		e := passport.Event{Type: typ, OrgName: "Acme Taxi", Details: map[string]any{"client_id": "rp", "kind": "email", "role": "driver"}}
		english := describe(en, e)
		if strings.HasPrefix(english, "Other security event") || strings.Contains(english, typ) || english == "" {
			t.Errorf("%s (%s) has no sentence: %q", name, typ, english)
		}
		if other, dup := seen[english]; dup {
			t.Errorf("%s and %s read the same: %q", name, other, english)
		}
		seen[english] = name
		for _, l := range i18n.Languages {
			if l.Tag == "en" {
				continue
			}
			got := describe(cat.For(l.Tag), e)
			if got == english && !strings.Contains(got, "Acme Taxi") {
				t.Errorf("%s in %s is not translated: %q", name, l.Tag, got)
			}
		}
	}
	if got := describe(en, passport.Event{Type: "future.thing"}); got != "Other security event (future.thing)" {
		t.Errorf("an unknown type: got %q", got)
	}
}

// TestEventDetailsChooseTheSentence: the details that change the sentence are read both as
// recorded (Go values) and as read back from the database (JSON values).
func TestEventDetailsChooseTheSentence(t *testing.T) {
	en := loadCatalog(t).For("en")
	read := func(d map[string]any) map[string]any { // a round trip through JSON, as jsonb gives them back
		b, _ := json.Marshal(d)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return out
	}
	for _, tc := range []struct {
		name string
		e    passport.Event
		want string
	}{
		{"signed in with two factors", passport.Event{Type: passport.EventSigninOK,
			Details: read(map[string]any{"amr": []string{"pwd", "otp", "mfa"}})}, "Signed in with two factors"},
		{"signed in with a password", passport.Event{Type: passport.EventSigninOK,
			Details: read(map[string]any{"amr": []string{"pwd"}})}, "Signed in"},
		{"unknown login", passport.Event{Type: passport.EventSigninFailed, Details: map[string]any{"factor": "password"}},
			"Failed sign-in attempt with a login that does not exist"},
		{"wrong password", passport.Event{Type: passport.EventSigninFailed, AccountID: "a", Details: map[string]any{"factor": "password"}},
			"Failed sign-in attempt: wrong password"},
		{"wrong code", passport.Event{Type: passport.EventSigninFailed, AccountID: "a", Details: map[string]any{"factor": "code"}},
			"Failed sign-in attempt: the password was right, the code was wrong"},
		{"phone removed", passport.Event{Type: passport.EventContactRemoved, Details: map[string]any{"kind": "phone"}}, "Phone number removed"},
		{"app disconnected", passport.Event{Type: passport.EventConsentWithdrawn,
			Details: read(map[string]any{"client_id": "shop", "fields": []string{}, "disconnected": true})}, "Application shop disconnected"},
		{"profile fields", passport.Event{Type: passport.EventProfileChanged,
			Details: read(map[string]any{"fields": []string{"given_name", "birthdate"}})}, "Profile changed: Given name, Birth date"},
		{"roles", passport.Event{Type: passport.EventMembershipChanged, OrgName: "Acme",
			Details: read(map[string]any{"roles": map[string]any{"from": []string{}, "to": []string{"driver"}}})}, "Roles changed in Acme"},
		{"sign out", passport.Event{Type: passport.EventSessionEnded, Details: read(map[string]any{"sign_out": true})}, "Signed out"},
	} {
		if got := describe(en, tc.e); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestOwnFeedNamesAdministratorsByOrganisationAndRole: in the person's own feed an
// administrator is their organisation and role, never their account; the person is "You".
func TestOwnFeedNamesAdministratorsByOrganisationAndRole(t *testing.T) {
	cat := loadCatalog(t)
	en, ru := cat.For("en"), cat.For("ru")
	const me, admin, org = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"
	byAdmin := passport.Event{ID: 7, Type: passport.EventAccountBlocked, AccountID: me, OrgID: org, OrgName: "Acme Taxi", ActorOrg: "Acme Taxi",
		Actor: passport.Actor{Kind: passport.ActorAdmin, AccountID: admin, Role: passport.RoleOrgAdmin, OrgID: org,
			IP: "198.51.100.23", UserAgent: "AdminBrowser/1.0"}}
	for _, tc := range []struct {
		name string
		l    *i18n.Localizer
		e    passport.Event
		want string
	}{
		{"org admin", en, byAdmin, "Acme Taxi, organisation administrator"},
		{"org admin in Russian", ru, byAdmin, "Acme Taxi, администратор организации"},
		{"service admin", en, passport.Event{AccountID: me, Actor: passport.Actor{Kind: passport.ActorAdmin, AccountID: admin,
			Role: passport.RoleServiceAdmin}}, "Service administrator"},
		{"the person", en, passport.Event{AccountID: me, Actor: passport.Actor{Kind: passport.ActorPerson, AccountID: me}}, "You"},
		{"the person through an application", en, passport.Event{AccountID: me,
			Actor: passport.Actor{Kind: passport.ActorPerson, AccountID: me, ClientID: "mobile"}}, "You, through mobile"},
		{"a wrong password", en, passport.Event{AccountID: me, Actor: passport.Actor{Kind: passport.ActorPerson}}, "Unknown person"},
		{"the system", en, passport.Event{AccountID: me, Actor: passport.Actor{Kind: passport.ActorSystem}}, "Passport, automatically"},
		{"a service account", en, passport.Event{AccountID: me, ActorOrg: "Acme Taxi",
			Actor: passport.Actor{Kind: passport.ActorClient, ClientID: "hr-sync", OrgID: org}}, "Application hr-sync of Acme Taxi"},
	} {
		if got := eventActor(tc.l, tc.e); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	j := eventJSONIn(en, byAdmin, true)
	b, _ := json.Marshal(j)
	for _, trace := range []string{admin, "198.51.100.23", "AdminBrowser"} {
		if strings.Contains(string(b), trace) {
			t.Errorf("the own feed shows the administrator's %q: %s", trace, b)
		}
	}
	if j.Actor.Organisation == nil || j.Actor.Organisation.Name != "Acme Taxi" || j.Actor.Role != passport.RoleOrgAdmin {
		t.Errorf("the own feed does not name the organisation and role: %s", b)
	}
	if j := eventJSONIn(en, byAdmin, false); j.Actor.AccountID != admin || j.IP != "198.51.100.23" {
		t.Errorf("the administrators' feed lost the acting account: %+v", j)
	}
}

// TestParseBefore: the cursor is a positive event id or nothing; anything else is a field
// error (a 400), never a store error.
func TestParseBefore(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "1": 1, "9000": 9000} {
		if got, err := parseBefore(in); err != nil || got != want {
			t.Errorf("%q: got %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "-3", "x", "1e3", "99999999999999999999"} {
		if _, err := parseBefore(in); passport.ErrorCode(err) != passport.EINVALID {
			t.Errorf("%q: got %v, want a field error", in, err)
		}
	}
}
