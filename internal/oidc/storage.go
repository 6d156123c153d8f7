package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// storage implements op.Storage over PostgreSQL. It keeps no protocol state in memory:
// every auth request, code, token and session is a row, so replicas are interchangeable.
//
// Errors that are the caller's fault are *oidc.Error values; the library copies any other
// error's text into the response, so database errors are wrapped as server_error with no
// description.
type storage struct {
	db       *postgres.DB
	keys     *Keys
	clients  *clientCache
	settings Settings
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

const refreshIDPrefix = "refresh/"

func serverError(err error) error {
	var oerr *oidc.Error
	if errors.As(err, &oerr) {
		return oerr
	}
	return oidc.ErrServerError().WithParent(err)
}

func notFound(err error) bool { return passport.ErrorCode(err) == passport.ENOTFOUND }

// --- clients -------------------------------------------------------------------------

func (s *storage) client(ctx context.Context, id string) (*client, error) {
	c, err := s.clients.get(ctx, id)
	if notFound(err) || (err == nil && c.Disabled) {
		return nil, oidc.ErrInvalidClient().WithDescription("Unknown or disabled client.")
	}
	if err != nil {
		return nil, serverError(err)
	}
	lifetime := s.settings.IDTokenLifetime
	if c.IDTokenLifetime > 0 {
		lifetime = c.IDTokenLifetime
	}
	return &client{Client: c, loginURL: s.settings.LoginURL, idTokenLifetime: lifetime}, nil
}

// GetClientByClientID returns an enabled client, or invalid_client.
func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	return s.client(ctx, id)
}

// AuthorizeClientIDSecret checks a confidential client's secret in constant time. Secrets
// are 256-bit random values, so SHA-256 at rest is enough (a slow hash would add nothing
// but latency to every token request).
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.client(ctx, id)
	if err != nil {
		return err
	}
	if c.Public || secret == "" || subtle.ConstantTimeCompare(passport.HashToken(secret), c.SecretHash) != 1 {
		return oidc.ErrInvalidClient().WithDescription("Client authentication failed.")
	}
	return nil
}

// ClientCredentials authenticates a client for the client_credentials grant.
func (s *storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.HasGrant(passport.GrantClientCredentials) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("This client may not use client_credentials.")
	}
	return c, nil
}

// ClientCredentialsTokenRequest keeps only the scopes that make sense without a person:
// the client's own extra scopes.
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	var granted []string
	for _, sc := range scopes {
		if slices.Contains(c.Scopes, sc) {
			granted = append(granted, sc)
		}
	}
	return &clientCredentialsRequest{clientID: id, scopes: granted}, nil
}

// --- authorization requests and codes --------------------------------------------------

// CreateAuthRequest stores the validated request, bound to the browser that made it.
// PKCE: S256 only, and required for public clients.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	c, err := s.client(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256.")
	}
	if req.CodeChallenge == "" && c.Public {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for this client.")
	}
	b := passport.BrowserFrom(ctx)
	if b == nil || b.Hash == nil {
		return nil, oidc.ErrServerError().WithParent(errors.New("no browser binding in context"))
	}
	now := s.db.Now()
	r := &passport.AuthRequest{
		ID:                  uuid.NewString(),
		ClientID:            req.ClientID,
		RedirectURI:         req.RedirectURI,
		Scopes:              req.Scopes,
		ResponseType:        string(req.ResponseType),
		ResponseMode:        string(req.ResponseMode),
		State:               req.State,
		Nonce:               req.Nonce,
		Prompt:              req.Prompt,
		LoginHint:           req.LoginHint,
		ACRValues:           req.ACRValues,
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		HintSubject:         hintSubject,
		BrowserHash:         b.Hash,
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.settings.AuthRequestLifetime),
	}
	if req.MaxAge != nil {
		age := int(min(*req.MaxAge, 1<<31-1))
		r.MaxAge = &age
	}
	for _, t := range req.UILocales {
		r.UILocales = append(r.UILocales, t.String())
	}
	if err := s.db.CreateAuthRequest(ctx, r); err != nil {
		return nil, serverError(err)
	}
	return authRequest{r}, nil
}

// AuthRequestByID serves the callback: only the browser that started the request may
// collect its code.
func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.db.AuthRequest(ctx, id)
	if err != nil {
		return nil, errors.New("sign-in request not found or expired")
	}
	b := passport.BrowserFrom(ctx)
	if b == nil || subtle.ConstantTimeCompare(b.Hash, r.BrowserHash) != 1 {
		return nil, errors.New("sign-in request not found or expired")
	}
	return authRequest{r}, nil
}

// SaveAuthCode stores the code's hash; a request gets one code only.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	err := s.db.SaveAuthCode(ctx, id, passport.HashToken(code), s.settings.CodeLifetime)
	if passport.ErrorCode(err) == passport.ECONFLICT {
		return oidc.ErrInvalidRequest().WithDescription("A code was already issued for this request.")
	}
	if err != nil {
		return serverError(err)
	}
	return nil
}

// AuthRequestByCode consumes the code: it is the first step of the exchange, before client
// authentication and PKCE, so a failed exchange burns the code (which is the safe choice).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.db.UseAuthCode(ctx, passport.HashToken(code))
	if notFound(err) {
		return nil, oidc.ErrInvalidGrant().WithDescription("The code is invalid, expired or already used.")
	}
	if err != nil {
		return nil, serverError(err)
	}
	return authRequest{r}, nil
}

// DeleteAuthRequest keeps the row: its used code must be recognised if it is replayed, so
// the tokens it produced can be revoked. The periodic cleanup removes it after expiry.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// --- tokens ----------------------------------------------------------------------------

func (s *storage) accessTokenLifetime(c *passport.Client) time.Duration {
	if c.AccessTokenLifetime > 0 {
		return c.AccessTokenLifetime
	}
	return s.settings.AccessTokenLifetime
}

func (s *storage) refreshTokenLifetime(c *passport.Client) time.Duration {
	if c.RefreshTokenLifetime > 0 {
		return c.RefreshTokenLifetime
	}
	return s.settings.RefreshTokenLifetime
}

// accessToken builds the access-token row for any supported token request.
func (s *storage) accessToken(ctx context.Context, req op.TokenRequest) (*passport.AccessToken, *client, error) {
	now := s.db.Now()
	var t passport.AccessToken
	var clientID string
	switch r := req.(type) {
	case authRequest:
		clientID = r.ClientID
		at := r.AuthTime
		t = passport.AccessToken{FamilyID: r.ID, AccountID: r.Subject, Subject: r.Subject, AuthTime: &at, AMR: r.AMR}
	case *refreshRequest:
		clientID = r.ClientID
		at := r.AuthTime
		t = passport.AccessToken{FamilyID: r.FamilyID, AccountID: r.AccountID, Subject: r.AccountID, AuthTime: &at, AMR: r.AMR}
	case *clientCredentialsRequest:
		clientID = r.clientID
		t = passport.AccessToken{FamilyID: uuid.NewString(), Subject: r.clientID}
	default:
		return nil, nil, oidc.ErrUnsupportedGrantType()
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, nil, err
	}
	t.ClientID = clientID
	t.Scopes = passport.NonNil(req.GetScopes())
	t.Audience = req.GetAudience()
	t.CreatedAt = now
	t.ExpiresAt = now.Add(s.accessTokenLifetime(c.Client))
	return &t, c, nil
}

// CreateAccessToken stores an access token for grants without a refresh token.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	t, _, err := s.accessToken(ctx, req)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.db.CreateAccessToken(ctx, t); err != nil {
		return "", time.Time{}, serverError(err)
	}
	return t.ID, t.ExpiresAt, nil
}

// CreateAccessAndRefreshTokens issues an access token and a new refresh token. When
// current is set this is a rotation: the database marks it used in the same transaction,
// and a token that was already used revokes its whole family (reuse detection).
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	at, c, err := s.accessToken(ctx, req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	// A refresh asking for fewer scopes narrows the access token only: the new refresh
	// token keeps the scopes of the grant (RFC 6749 §6).
	granted := at.Scopes
	if rr, ok := req.(*refreshRequest); ok {
		granted = rr.RefreshToken.Scopes
	}
	rt := &passport.RefreshToken{
		FamilyID: at.FamilyID, ClientID: at.ClientID, AccountID: at.AccountID, Scopes: granted,
		Audience: at.Audience, AuthTime: *at.AuthTime, AMR: at.AMR, CreatedAt: at.CreatedAt,
		ExpiresAt: at.CreatedAt.Add(s.refreshTokenLifetime(c.Client)),
	}
	var currentHash []byte
	if current != "" {
		currentHash = passport.HashToken(current)
	}
	value := passport.NewToken()
	err = s.db.RotateTokens(ctx, at, rt, passport.HashToken(value), currentHash)
	if notFound(err) {
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("The refresh token is invalid, expired or already used.")
	}
	if err != nil {
		return "", "", time.Time{}, serverError(err)
	}
	return at.ID, value, at.ExpiresAt, nil
}

// TokenRequestByRefreshToken looks a refresh token up. Presenting a rotated token revokes
// its family.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	rt, err := s.db.RefreshToken(ctx, passport.HashToken(token))
	if notFound(err) {
		return nil, oidc.ErrInvalidGrant().WithDescription("The refresh token is invalid, expired or already used.")
	}
	if err != nil {
		return nil, serverError(err)
	}
	return &refreshRequest{RefreshToken: rt}, nil
}

// GetRefreshTokenInfo identifies a refresh token for revocation.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := s.db.RefreshTokenInfo(ctx, passport.HashToken(token))
	if notFound(err) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	return rt.AccountID, refreshIDPrefix + rt.ID, nil
}

// RevokeToken revokes a refresh token (with its whole family, so the access tokens of the
// grant stop too) or one access token. Unknown tokens are not an error (RFC 7009 §2.2); a
// token of another client is refused.
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	if id, ok := strings.CutPrefix(tokenOrID, refreshIDPrefix); ok {
		family, owner, err := s.db.RefreshTokenFamily(ctx, id)
		if notFound(err) {
			return nil
		}
		if err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		if owner != clientID {
			return oidc.ErrInvalidClient().WithDescription("The token was issued to another client.")
		}
		if err := s.db.RevokeFamily(ctx, family); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	t, err := s.db.AccessTokenInfo(ctx, tokenOrID)
	if notFound(err) {
		return nil
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if t.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("The token was issued to another client.")
	}
	if err := s.db.RevokeAccessToken(ctx, t.ID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// --- claims ----------------------------------------------------------------------------

// errInvalidToken is what userinfo and introspection get for a token that is not valid
// (any more); the web layer turns it into RFC 6750's 401.
func errInvalidToken() *oidc.Error {
	return &oidc.Error{ErrorType: "invalid_token", Description: "The access token is invalid, expired or revoked."}
}

// validToken returns the live access token with the id, checked against its subject, with
// its account and the fields consented to its client (one round trip).
func (s *storage) validToken(ctx context.Context, id, subject string) (*passport.AccessToken, *passport.Account, []passport.Field, error) {
	t, a, consented, err := s.db.TokenWithAccount(ctx, id)
	if notFound(err) {
		return nil, nil, nil, errInvalidToken()
	}
	if err != nil {
		return nil, nil, nil, serverError(err)
	}
	if t.Subject != subject {
		return nil, nil, nil, errInvalidToken()
	}
	return t, a, consented, nil
}

// setClaims fills ui with the subject and the claims the release rule allows the client:
// the account, its publicity and the person's consents are read at every call, so a field
// made private stops flowing at once.
func (s *storage) setClaims(ctx context.Context, ui *oidc.UserInfo, accountID, clientID string, scopes []string) error {
	ui.Subject = accountID
	a, consented, err := s.db.AccountForClient(ctx, accountID, clientID)
	if notFound(err) {
		return errInvalidToken()
	}
	if err != nil {
		return serverError(err)
	}
	s.fill(ui, a, scopes, consented)
	return nil
}

// fill sets the subject and the claims the release rule allows.
func (s *storage) fill(ui *oidc.UserInfo, a *passport.Account, scopes []string, consented []passport.Field) {
	ui.Subject = a.ID
	for k, v := range s.settings.Rules.Release(a, scopes, consented) {
		ui.AppendClaims(k, v)
	}
}

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims. With an access token issued
// alongside, the library has already removed profile, email and phone (OIDC Core §5.4),
// so those come from userinfo, where the release rule runs at every call.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if !releasesClaims(scopes) {
		// Usually so: with an access token, profile, email and phone go to userinfo, and
		// the ID token needs only its subject. No need to read the account.
		ui.Subject = req.GetSubject()
		return nil
	}
	return s.setClaims(ctx, ui, req.GetSubject(), req.GetClientID(), scopes)
}

// releasesClaims reports whether any of the scopes releases claims about the person.
func releasesClaims(scopes []string) bool {
	for _, sc := range scopes {
		if len(passport.ScopeClaims[sc]) > 0 {
			return true
		}
	}
	return false
}

// SetUserinfoFromToken serves /userinfo from the token's stored scopes.
func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	t, a, consented, err := s.validToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if a == nil || !slices.Contains(t.Scopes, passport.ScopeOpenID) {
		return &oidc.Error{ErrorType: "insufficient_scope", Description: "The access token was not issued for the openid scope."}
	}
	s.fill(ui, a, t.Scopes, consented)
	return nil
}

// SetIntrospectionFromToken answers RFC 7662 for the token's own client or an audience.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, caller string) error {
	t, a, consented, err := s.validToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if caller != t.ClientID && !slices.Contains(t.Audience, caller) {
		return errInvalidToken()
	}
	if a != nil {
		ui := new(oidc.UserInfo)
		s.fill(ui, a, t.Scopes, consented)
		resp.SetUserInfo(ui)
		if login, ok := ui.Claims["preferred_username"].(string); ok {
			resp.Username = login
		}
	}
	resp.Subject = t.Subject
	resp.Scope = t.Scopes
	resp.ClientID = t.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(t.CreatedAt)
	resp.NotBefore = oidc.FromTime(t.CreatedAt)
	resp.Audience = t.Audience
	resp.Issuer = op.IssuerFromContext(ctx)
	resp.JWTID = t.ID
	return nil
}

// GetPrivateClaimsFromScopes adds nothing: access tokens are opaque.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID: private_key_jwt and the jwt-bearer grant are not offered.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("JWT client authentication is not supported.")
}

// ValidateJWTProfileScopes refuses the jwt-bearer grant, which the library cannot switch off.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnauthorizedClient().WithDescription("The jwt-bearer grant is not supported.")
}

// --- sessions --------------------------------------------------------------------------

// TerminateSession is unused: TerminateSessionFromRequest replaces it.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends the browser's Passport session for RP-initiated logout.
// With an id_token_hint for the signed-in person the session ends at once; without a hint
// the person is asked to confirm first (OpenID RP-Initiated Logout §2), and a hint for
// somebody else leaves the session alone.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	b := passport.BrowserFrom(ctx)
	if b == nil || b.Session == nil {
		return req.RedirectURI, nil
	}
	if req.IDTokenHintClaims == nil {
		return s.settings.ConfirmLogoutURL(req.RedirectURI), nil
	}
	if req.UserID != b.Session.AccountID {
		return req.RedirectURI, nil
	}
	// The library accepts expired hints, so any ID token the person ever received would do;
	// only one issued from this very session ends it without asking.
	if req.IDTokenHintClaims.GetAuthTime().Unix() != b.Session.AuthTime.Unix() {
		return s.settings.ConfirmLogoutURL(req.RedirectURI), nil
	}
	if err := s.db.EndSession(ctx, b.Session.ID); err != nil {
		return "", serverError(err)
	}
	b.EndSession = true
	return req.RedirectURI, nil
}

// --- keys and health --------------------------------------------------------------------

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.keys.SigningKey(ctx)
}
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) { return s.keys.KeySet(ctx) }
func (s *storage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	return s.keys.SignatureAlgorithms(ctx)
}

// Health backs the library's readiness probe.
func (s *storage) Health(ctx context.Context) error { return s.db.Ping(ctx) }
