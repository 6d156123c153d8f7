// Package oidc is Passport's OpenID Provider: zitadel/oidc's op.Provider over a PostgreSQL
// storage, plus the signing keys. It knows nothing of pages or cookies; the web layer hands
// it the browser through the request context.
package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// Settings configure the provider.
type Settings struct {
	Issuer               string
	CryptoKey            [32]byte // encrypts authorization codes and opaque access tokens
	SigningKeyKey        [32]byte // encrypts signing keys at rest
	AuthRequestLifetime  time.Duration
	CodeLifetime         time.Duration
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration
	// LoginURL is the page that signs the person in for an auth request.
	LoginURL func(authRequestID string) string
	// ConfirmLogoutURL is the page that asks the person to confirm a logout that came
	// without id_token_hint; redirect is the already validated post-logout URI.
	ConfirmLogoutURL func(redirect string) string
	// LoggedOutURL is where logout ends when the application named no valid redirect.
	LoggedOutURL string
	// PromptCreate: self sign-up is on, and prompt=create opens it (OpenID Connect Prompt
	// Create 1.0), so discovery lists "create".
	PromptCreate bool
	// Rules decide which claims each application receives.
	Rules passport.Rules
}

// Paths of the protocol endpoints (the library's defaults).
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathAuthorize  = "/authorize"
	PathCallback   = "/authorize/callback"
	PathToken      = "/oauth/token"
	PathIntrospect = "/oauth/introspect"
	PathUserinfo   = "/userinfo"
	PathRevoke     = "/revoke"
	PathEndSession = "/end_session"
	PathKeys       = "/keys"
)

// Provider is the OpenID Provider as an http.Handler for the protocol paths.
type Provider struct {
	op      *op.Provider
	storage *storage
	handler http.Handler
}

var supportedGrants = map[string]bool{
	string(oidc.GrantTypeCode):              true,
	string(oidc.GrantTypeRefreshToken):      true,
	string(oidc.GrantTypeClientCredentials): true,
}

// New builds the provider; it creates the first signing key when there is none.
func New(ctx context.Context, db *postgres.DB, s Settings) (*Provider, error) {
	keys, err := NewKeys(ctx, db, s.SigningKeyKey)
	if err != nil {
		return nil, err
	}
	st := &storage{db: db, keys: keys, settings: s, clients: newClientCache(db)}
	go st.clients.run(ctx, slog.Default())
	cfg := &op.Config{
		CryptoKey:                s.CryptoKey,
		DefaultLogoutRedirectURI: s.LoggedOutURL,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedScopes:          passport.StandardScopes,
		SupportedClaims:          supportedClaims(),
	}
	opts := []op.Option{
		// Token, userinfo and introspection are called cross-origin by browser apps with
		// bearer tokens or PKCE, never with cookies: allow any origin, no credentials.
		op.WithCORSOptions(&cors.Options{
			AllowedOrigins:   []string{"*"},
			AllowedMethods:   []string{http.MethodGet, http.MethodPost},
			AllowedHeaders:   []string{"Authorization", "Content-Type"},
			AllowCredentials: false,
		}),
	}
	if u, _ := url.Parse(s.Issuer); u != nil && u.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	p, err := op.NewProvider(cfg, st, op.StaticIssuer(s.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	pr := &Provider{op: p, storage: st}
	mux := http.NewServeMux()
	mux.Handle(PathDiscovery, op.NewIssuerInterceptor(p.IssuerFromRequest).HandlerFunc(pr.discovery))
	mux.HandleFunc(PathToken, pr.token)
	mux.Handle("/", p)
	pr.handler = mux
	return pr, nil
}

func supportedClaims() []string {
	claims := []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "at_hash"}
	for _, scope := range passport.StandardScopes {
		claims = append(claims, passport.ScopeClaims[scope]...)
	}
	return claims
}

func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// discovery serves the library's document, corrected to what Passport really offers: the
// library always lists implicit, jwt-bearer, device flow and a session iframe.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	d := op.CreateDiscoveryConfig(r.Context(), p.op, p.storage)
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{"query", "form_post"}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic}
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.DeviceAuthorizationEndpoint = ""
	d.CheckSessionIframe = ""
	d.ACRValuesSupported = []string{passport.ACRPassword, passport.ACRMFA}
	d.RequestParameterSupported = false
	d.RequestURIParameterSupported = false
	d.ClaimsParameterSupported = false
	// prompt_values_supported (OpenID Connect Prompt Create 1.0 §4) is not in the library's
	// document type.
	prompts := []string{"none", "login", "consent"}
	if p.storage.settings.PromptCreate {
		prompts = append(prompts, "create")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(struct {
		*oidc.DiscoveryConfiguration
		PromptValuesSupported []string `json:"prompt_values_supported"`
	}{d, prompts})
}

// token refuses grant types the library would otherwise try (jwt-bearer is always on in it).
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("The request body cannot be parsed."), nil)
		return
	}
	g := r.PostForm.Get("grant_type")
	if !supportedGrants[g] {
		op.RequestError(w, r, oidc.ErrUnsupportedGrantType().WithDescription("Supported grant types: authorization_code, refresh_token, client_credentials."), nil)
		return
	}
	// The library answers invalid_request when a code that was issued with a PKCE challenge
	// comes without code_verifier; RFC 7636 §4.6 treats a failed verification as
	// invalid_grant, and the code is burnt as it would be for a wrong verifier.
	if code := r.PostForm.Get("code"); g == string(oidc.GrantTypeCode) && code != "" && r.PostForm.Get("code_verifier") == "" {
		hash := passport.HashToken(code)
		has, err := p.storage.db.CodeHasChallenge(r.Context(), hash)
		if err != nil {
			op.RequestError(w, r, oidc.ErrServerError().WithParent(err), nil)
			return
		}
		if has {
			_, _ = p.storage.db.UseAuthCode(r.Context(), hash)
			op.RequestError(w, r, oidc.ErrInvalidGrant().WithDescription("code_verifier is required: the request used PKCE."), nil)
			return
		}
	}
	if g == string(oidc.GrantTypeCode) || g == string(oidc.GrantTypeRefreshToken) {
		p.withoutIDTokenUnlessOpenID(w, r)
		return
	}
	p.op.ServeHTTP(w, r)
}

// withoutIDTokenUnlessOpenID serves a token request and removes the ID token from a
// successful response whose scope lacks openid: such a grant is plain OAuth 2.0 (OIDC Core
// §3.1.2.1 makes openid what turns a request into an OpenID Connect one), but the library
// issues an ID token for every code and refresh.
func (p *Provider) withoutIDTokenUnlessOpenID(w http.ResponseWriter, r *http.Request) {
	rec := &bufferedResponse{header: w.Header()}
	p.op.ServeHTTP(rec, r)
	body := rec.body.Bytes()
	if rec.status == 0 || rec.status == http.StatusOK {
		var resp map[string]json.RawMessage
		var scope string
		if json.Unmarshal(body, &resp) == nil && json.Unmarshal(resp["scope"], &scope) == nil {
			if _, ok := resp["id_token"]; ok && !slices.Contains(strings.Fields(scope), oidc.ScopeOpenID) {
				delete(resp, "id_token")
				if b, err := json.Marshal(resp); err == nil {
					body = b
				}
			}
		}
	}
	if rec.status != 0 {
		w.WriteHeader(rec.status)
	}
	_, _ = w.Write(body)
}

// bufferedResponse keeps a response so it can be changed before it is sent.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// CallbackURL is where the browser goes once the auth request is done.
func (p *Provider) CallbackURL(authRequestID string) string {
	return PathCallback + "?id=" + url.QueryEscape(authRequestID)
}

// Fail ends the auth request with an OAuth error sent to the application's redirect URI
// (access_denied, login_required, consent_required, …) and deletes the request.
func (p *Provider) Fail(w http.ResponseWriter, r *http.Request, req *passport.AuthRequest, code, description string) {
	var e *oidc.Error
	switch code {
	case "login_required":
		e = oidc.ErrLoginRequired()
	case "consent_required":
		e = &oidc.Error{ErrorType: "consent_required"}
	case "interaction_required":
		e = oidc.ErrInteractionRequired()
	case "account_selection_required":
		e = &oidc.Error{ErrorType: "account_selection_required"}
	case "access_denied":
		e = oidc.ErrAccessDenied()
	default:
		e = oidc.ErrServerError()
	}
	_ = p.storage.db.DeleteAuthRequest(r.Context(), req.ID)
	op.AuthRequestError(w, r, authRequest{req}, e.WithDescription("%s", description), p.op)
}

// AccessToken returns the live access token behind an opaque bearer value, for Passport's
// own API. Returns ENOTFOUND for anything that is not a valid token.
func (p *Provider) AccessToken(ctx context.Context, bearer string) (*passport.AccessToken, error) {
	invalid := passport.Errorf(passport.ENOTFOUND, "The access token is invalid, expired or revoked.")
	plain, err := p.op.Crypto().Decrypt(bearer)
	if err != nil {
		return nil, invalid
	}
	id, sub, ok := strings.Cut(plain, ":")
	if !ok {
		return nil, invalid
	}
	t, err := p.storage.db.AccessToken(ctx, id)
	if passport.ErrorCode(err) == passport.ENOTFOUND || (err == nil && t.Subject != sub) {
		return nil, invalid
	}
	return t, err
}
