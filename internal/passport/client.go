package passport

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Grant types a client may be allowed.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Client is an application (OIDC relying party).
type Client struct {
	ID                     string
	Name                   string
	SecretHash             []byte // SHA-256 of the secret; nil for public clients
	Public                 bool   // public clients have no secret and must use PKCE
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Scopes                 []string // extra (non-standard) scopes it may ask for
	AccessTokenLifetime    time.Duration
	IDTokenLifetime        time.Duration
	RefreshTokenLifetime   time.Duration
	Disabled               bool
	RequireMFA             bool // people sign in to it with two factors (SPEC §7)
	// AdminOrgID binds a client_credentials client with scope passport:admin to one
	// organisation, whose administrator it acts as (a service account); "" for none.
	AdminOrgID string
	CreatedAt  time.Time
}

// HasGrant reports whether the client may use the grant type.
func (c *Client) HasGrant(grant string) bool { return slices.Contains(c.GrantTypes, grant) }

// DisplayName is the name shown to people, falling back to the ID.
func (c *Client) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$`)

// ValidateClient checks a client before it is stored.
func ValidateClient(c *Client) error {
	if !clientIDPattern.MatchString(c.ID) {
		return FieldError("id", "Client ID must be 1–100 characters: letters, digits and . _ ~ - (starting with a letter or digit).")
	}
	if len(c.Name) > 200 {
		return FieldError("name", "Name must be at most 200 characters long.")
	}
	if c.Public && c.SecretHash != nil {
		return FieldError("secret", "A public client has no secret.")
	}
	if !c.Public && c.SecretHash == nil {
		return FieldError("secret", "A confidential client needs a secret.")
	}
	if c.Public && c.HasGrant(GrantClientCredentials) {
		return FieldError("grant_types", "A public client cannot use client_credentials.")
	}
	if c.HasGrant(GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return FieldError("redirect_uri", "At least one redirect URI is required.")
	}
	for _, u := range c.RedirectURIs {
		if err := validateRedirectURI("redirect_uri", u); err != nil {
			return err
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := validateRedirectURI("post_logout_redirect_uri", u); err != nil {
			return err
		}
	}
	for _, sc := range c.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \"\\") || len(sc) > 100 {
			return FieldError("scope", "%q is not a valid scope name.", sc)
		}
	}
	for _, g := range c.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken && g != GrantClientCredentials {
			return FieldError("grant_types", "Unknown grant type %q.", g)
		}
	}
	return nil
}

// validateRedirectURI applies RFC 6749 §3.1.2 and RFC 8252: an absolute URI without a
// fragment; https, or http only for loopback hosts, or a private-use scheme for native apps.
func validateRedirectURI(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return FieldError(field, "%q is not an absolute URI.", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return FieldError(field, "%q must not contain a fragment.", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return FieldError(field, "%q has no host.", raw)
		}
	case "http":
		h := u.Hostname()
		if h != "localhost" && h != "127.0.0.1" && h != "::1" {
			return FieldError(field, "%q: plain http is allowed only for localhost, 127.0.0.1 and [::1].", raw)
		}
	case "javascript", "data", "file", "vbscript":
		return FieldError(field, "%q uses a forbidden scheme.", raw)
	default:
		// A private-use scheme (RFC 8252 §7.1) must look like a reversed domain name.
		if !strings.Contains(u.Scheme, ".") {
			return FieldError(field, "%q: a custom scheme must be a reversed domain name like com.example.app.", raw)
		}
	}
	return nil
}
