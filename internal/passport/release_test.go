package passport

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// everyScope is every scope that releases claims about the person.
var everyScope = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopePhone, ScopeOrganization, ScopeVerification, ScopeIdentifiers}

// fullAccount holds a value in every field an account can fill today (linked identifiers
// arrive with upstream providers).
func fullAccount() Account {
	bd := time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC)
	return Account{ID: "id", Login: "ada", GivenName: "Ada", FamilyName: "Lovelace", Nickname: "countess", Birthdate: &bd,
		Email: "ada@example.org", EmailVerified: true, Phone: "+441234567890", PhoneVerified: true,
		Memberships: []Membership{{OrgID: "o1", OrgAlias: "analytical", OrgName: "Analytical Society", OrgStatus: OrgActive, Position: "Programmer", Roles: []string{"engineer"}}}, PhotoID: "photo-1",
		Locale: "en-GB", VerificationStatus: VerificationVerified, UpdatedAt: time.Unix(1700000000, 0)}
}

// allLevels sets every field's level to p.
func allLevels(p Publicity) map[Field]Publicity {
	m := map[Field]Publicity{}
	for _, f := range Fields {
		m[f] = p
	}
	return m
}

func claimNames(c map[string]any) []string {
	return slices.Sorted(maps.Keys(c))
}

// empty reports whether a released value says nothing: "", an empty list or map, nil.
func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []string:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// TestReleaseOnlyReleasableClaims: a claim appears only when its field is releasable and
// holds a value; its mere presence, even empty, would tell the application something.
func TestReleaseOnlyReleasableClaims(t *testing.T) {
	rules := NewRules(Rules{})
	for _, tc := range []struct {
		name      string
		edit      func(a *Account)
		consented []Field
		want      []string
	}{
		{"default levels, no consent: the public fields only", func(a *Account) {}, nil,
			[]string{"locale", "nickname", "picture", "updated_at", "verification_status"}},
		{"identifiers at only you: no identifiers claim", func(a *Account) { a.Publicity = allLevels(Private) }, Fields,
			[]string{"verification_status"}},
		{"identifiers public but none linked: no identifiers claim", func(a *Account) { a.Publicity = allLevels(Public) }, nil,
			[]string{"birthdate", "email", "email_verified", "family_name", "given_name", "locale", "name", "nickname",
				"organization", "phone_number", "phone_number_verified", "picture", "preferred_username",
				"updated_at", "verification_status"}},
		{"organisation public: the organization claim", func(a *Account) {
			a.Publicity = allLevels(Private)
			a.Publicity[FieldOrganization] = Public
		}, nil, []string{"organization", "verification_status"}},
		{"only a disabled organisation: no organization claim, not even empty", func(a *Account) {
			a.Publicity = allLevels(Public)
			a.Memberships[0].OrgStatus = OrgDisabled
		}, nil, []string{"birthdate", "email", "email_verified", "family_name", "given_name", "locale", "name", "nickname",
			"phone_number", "phone_number_verified", "picture", "preferred_username", "updated_at", "verification_status"}},
		{"no memberships: no organization claim", func(a *Account) {
			a.Publicity = allLevels(Private)
			a.Publicity[FieldOrganization] = OnRequest
			a.Memberships = nil
		}, []Field{FieldOrganization}, []string{"verification_status"}},
		{"every field on request, none consented", func(a *Account) { a.Publicity = allLevels(OnRequest) }, nil,
			[]string{"verification_status"}},
		{"no verification status: no verification_status claim", func(a *Account) {
			a.Publicity = allLevels(Private)
			a.VerificationStatus = ""
		}, nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := fullAccount()
			tc.edit(&a)
			c := rules.Release(&a, everyScope, tc.consented)
			if got := claimNames(c); !slices.Equal(got, tc.want) {
				t.Errorf("claims: got %v, want %v", got, tc.want)
			}
			for k, v := range c {
				if empty(v) {
					t.Errorf("claim %s released empty: %#v", k, v)
				}
			}
		})
	}
}

// TestReleasePrivateProfile: with the private switch on, Release gives nothing, whatever
// the levels, consents and scopes; the caller adds sub.
func TestReleasePrivateProfile(t *testing.T) {
	rules := NewRules(Rules{})
	for _, level := range []Publicity{Public, OnRequest, Private} {
		a := fullAccount()
		a.Publicity = allLevels(level)
		a.PrivateProfile = true
		if c := rules.Release(&a, everyScope, Fields); len(c) != 0 {
			t.Errorf("private profile, every field %s and consented: released %v", level, claimNames(c))
		}
	}
}

// TestReleaseLocale: the language is a field with a level like any other, public by default.
func TestReleaseLocale(t *testing.T) {
	rules := NewRules(Rules{})
	if got := rules.Defaults[FieldLocale]; got != Public {
		t.Errorf("default level of the language: got %q, want public", got)
	}
	if !slices.Contains(Fields, FieldLocale) || !slices.Contains(ScopeFields[ScopeProfile], FieldLocale) || FieldLabels[FieldLocale] != "Language" {
		t.Error("the language is not a publicity-bearing field of the profile scope labelled Language")
	}
	for _, tc := range []struct {
		level     Publicity
		consented bool
		want      bool
	}{
		{Private, false, false}, {Private, true, false},
		{OnRequest, false, false}, {OnRequest, true, true},
		{Public, false, true}, {Public, true, true},
	} {
		a := fullAccount()
		a.Publicity = map[Field]Publicity{FieldLocale: tc.level}
		var cons []Field
		if tc.consented {
			cons = []Field{FieldLocale}
		}
		got, ok := rules.Release(&a, []string{ScopeOpenID, ScopeProfile}, cons)["locale"]
		if ok != tc.want || ok && got != "en-GB" {
			t.Errorf("locale at %s, consented %v: got %v (%v), want released %v", tc.level, tc.consented, got, ok, tc.want)
		}
	}
	a := fullAccount()
	a.Locale = ""
	if _, ok := rules.Release(&a, everyScope, Fields)["locale"]; ok {
		t.Error("an empty language was released")
	}
}

// TestReleaseUpdatedAt: updated_at goes only with at least one released profile claim.
func TestReleaseUpdatedAt(t *testing.T) {
	rules := NewRules(Rules{})
	for _, f := range ScopeFields[ScopeProfile] {
		a := fullAccount()
		a.Publicity = allLevels(Private)
		a.Publicity[f] = Public
		c := rules.Release(&a, []string{ScopeOpenID, ScopeProfile}, nil)
		if c["updated_at"] != a.UpdatedAt.Unix() {
			t.Errorf("only %s public: updated_at %v, want %d", f, c["updated_at"], a.UpdatedAt.Unix())
		}
	}
	a := fullAccount()
	a.Publicity = allLevels(Private)
	a.Publicity[FieldEmail], a.Publicity[FieldOrganization] = Public, Public
	if c := rules.Release(&a, everyScope, Fields); c["updated_at"] != nil {
		t.Errorf("no profile claim released, yet updated_at is: %v", claimNames(c))
	}
	a.Publicity = allLevels(Public)
	if c := rules.Release(&a, []string{ScopeOpenID, ScopeEmail}, nil); c["updated_at"] != nil {
		t.Errorf("profile scope not granted, yet updated_at is released: %v", claimNames(c))
	}
}
