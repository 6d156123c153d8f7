package passport

// Scopes Passport knows.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopePhone         = "phone"
	ScopeOfflineAccess = "offline_access"
)

// StandardScopes are the scopes every client may request.
var StandardScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopePhone, ScopeOfflineAccess,
	ScopeOrganization, ScopeVerification, ScopeIdentifiers}

// ScopeClaims lists the claims each scope may release (OIDC Core §5.4 and SPEC §3).
var ScopeClaims = map[string][]string{
	ScopeProfile:      {"name", "given_name", "family_name", "nickname", "preferred_username", "picture", "birthdate", "locale", "updated_at"},
	ScopeEmail:        {"email", "email_verified"},
	ScopePhone:        {"phone_number", "phone_number_verified"},
	ScopeOrganization: {"organization"},
	ScopeVerification: {"verification_status"},
	ScopeIdentifiers:  {"identifiers"},
}
