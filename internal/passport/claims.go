package passport

import (
	"slices"
	"strings"
)

// Scopes Passport knows.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopePhone         = "phone"
	ScopeOfflineAccess = "offline_access"
)

// StandardScopes are the scopes every client may request.
var StandardScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopePhone, ScopeOfflineAccess}

// ScopeClaims lists the claims each scope releases (OIDC Core §5.4).
var ScopeClaims = map[string][]string{
	ScopeProfile: {"name", "given_name", "family_name", "nickname", "preferred_username", "birthdate", "locale", "updated_at"},
	ScopeEmail:   {"email", "email_verified"},
	ScopePhone:   {"phone_number", "phone_number_verified"},
}

// ReleaseClaims returns the claims of account a that the granted scopes release, without
// `sub` (the caller always sets it). Empty values are left out; a verified flag goes with
// its value only.
//
// This is the single place that decides what an application learns about a person: ID
// tokens, userinfo and introspection all call it with the scopes stored on the grant.
func ReleaseClaims(a *Account, scopes []string) map[string]any {
	c := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	if slices.Contains(scopes, ScopeProfile) {
		set("name", strings.TrimSpace(a.GivenName+" "+a.FamilyName))
		set("given_name", a.GivenName)
		set("family_name", a.FamilyName)
		set("nickname", a.Nickname)
		set("preferred_username", a.Login)
		if a.Birthdate != nil {
			c["birthdate"] = a.Birthdate.Format("2006-01-02")
		}
		set("locale", a.Locale)
		c["updated_at"] = a.UpdatedAt.Unix()
	}
	if slices.Contains(scopes, ScopeEmail) && a.Email != "" {
		c["email"] = a.Email
		c["email_verified"] = a.EmailVerified
	}
	if slices.Contains(scopes, ScopePhone) && a.Phone != "" {
		c["phone_number"] = a.Phone
		c["phone_number_verified"] = a.PhoneVerified
	}
	return c
}
