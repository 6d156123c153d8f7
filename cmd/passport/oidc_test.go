package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	rpCallback  = "http://127.0.0.1:1/cb" // never served: the browser stops at the redirect
	rpLoggedOut = "http://127.0.0.1:1/bye"
)

// relyingParty is an application using coreos/go-oidc and x/oauth2, libraries we did not
// write, against a Passport server.
type relyingParty struct {
	t        *testing.T
	srv      *server
	provider *gooidc.Provider
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

func newRP(t *testing.T, srv *server, clientID, secret string, scopes ...string) *relyingParty {
	t.Helper()
	provider, err := gooidc.NewProvider(context.Background(), srv.Issuer) // discovery
	if err != nil {
		t.Fatal(err)
	}
	return &relyingParty{t: t, srv: srv, provider: provider,
		oauth: oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
			RedirectURL: rpCallback, Scopes: append([]string{gooidc.ScopeOpenID}, scopes...)},
		verifier: provider.Verifier(&gooidc.Config{ClientID: clientID})}
}

// authURL builds an authorization URL with S256 PKCE for verifier and a nonce.
func (rp *relyingParty) authURL(state, verifier string, opts ...oauth2.AuthCodeOption) string {
	opts = append(opts, gooidc.Nonce("nonce-"+state), oauth2.S256ChallengeOption(verifier))
	return rp.oauth.AuthCodeURL(state, opts...)
}

// walk drives a browser from authURL through whatever Passport shows (the sign-in form,
// the consent page) until it is redirected to the application, and returns that redirect's
// parameters. consent chooses the consent button.
func walk(t *testing.T, b *browser, authURL, login, password, consent string) url.Values {
	t.Helper()
	resp, page := b.get(authURL)
	for step := 0; step < 6; step++ {
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && !strings.HasPrefix(loc, b.base) {
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			return u.Query()
		}
		form := hidden(page)
		switch {
		case strings.Contains(page, `action="/signin"`):
			form.Set("login", login)
			form.Set("password", password)
			resp, page = b.post("/signin", form)
		case strings.Contains(page, `action="/consent"`):
			form.Set("decision", consent)
			resp, page = b.post("/consent", form)
		default:
			t.Fatalf("unexpected page (%d): %.400s", resp.StatusCode, page)
		}
	}
	t.Fatal("too many steps before reaching the application")
	return nil
}

// signIn runs the whole browser part and returns the code, checking the state.
func (rp *relyingParty) signIn(b *browser, state, verifier, login, password string, opts ...oauth2.AuthCodeOption) string {
	rp.t.Helper()
	q := walk(rp.t, b, rp.authURL(state, verifier, opts...), login, password, "allow")
	if q.Get("state") != state || q.Get("code") == "" {
		rp.t.Fatalf("callback %v: want a code and state %q", q, state)
	}
	return q.Get("code")
}

func (rp *relyingParty) exchange(code, verifier string) (*oauth2.Token, error) {
	return rp.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
}

// verify checks the ID token of a token response with go-oidc (signature via JWKS, iss,
// aud, exp) and the nonce.
func (rp *relyingParty) verify(tok *oauth2.Token, nonce string) *gooidc.IDToken {
	rp.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(context.Background(), raw)
	if err != nil {
		rp.t.Fatalf("ID token: %v", err)
	}
	if nonce != "" && idt.Nonce != nonce {
		rp.t.Fatalf("nonce: got %q, want %q", idt.Nonce, nonce)
	}
	return idt
}

// grantRevoked checks that a grant is dead: its refresh token is refused and its access
// token is inactive at introspection (as the token's own client).
func (rp *relyingParty) grantRevoked(t *testing.T, tok *oauth2.Token, secret, what string) {
	t.Helper()
	if _, err := rp.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("refresh token after %s: got %v, want invalid_grant", what, err)
	}
	if got := introspect(t, rp.srv, tok.AccessToken, rp.oauth.ClientID, secret); got["active"] != false {
		t.Errorf("access token after %s: %v", what, got)
	}
}

func oauthErrorCode(err error) string {
	if re, ok := err.(*oauth2.RetrieveError); ok {
		return re.ErrorCode
	}
	return ""
}

// introspect asks /oauth/introspect about a token as the given client.
func introspect(t *testing.T, srv *server, token, clientID, secret string) map[string]any {
	t.Helper()
	status, out := postJSON(t, srv.URL+"/oauth/introspect", url.Values{"token": {token}}, clientID, secret)
	if status != http.StatusOK {
		t.Fatalf("introspect: %d %v", status, out)
	}
	return out
}

func setupClient(t *testing.T, id string, extra ...string) string {
	t.Helper()
	secret := "secret-of-" + id + "-0123456789"
	args := append([]string{"client", "create", "--id", id, "--secret", secret, "--name", "App " + id,
		"--redirect-uri", rpCallback, "--post-logout-redirect-uri", rpLoggedOut}, extra...)
	mustCLI(t, args...)
	return secret
}

// setupSelfUser is setupUser for a person who registered themselves, so no field is locked.
func setupSelfUser(t *testing.T, login, password string) string {
	t.Helper()
	id := setupUser(t, login, password)
	if _, err := openDB(t).Pool().Exec(context.Background(), `UPDATE accounts SET registration_method = 'self' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func setupUser(t *testing.T, login, password string) string {
	t.Helper()
	return strings.TrimSpace(mustCLI(t, "user", "create", "--login", login, "--email", login+"@example.com",
		"--password", password, "--given-name", "Ada", "--family-name", "Lovelace"))
}

// TestOIDCEndToEnd walks the whole protocol with a relying-party library we did not write:
// discovery, code + PKCE through the sign-in form, ID token, userinfo, refresh rotation and
// reuse, revocation then introspection, and RP-initiated logout.
func TestOIDCEndToEnd(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "e2e-web")
	sub := setupUser(t, "Ada", "analytical-engine-1")
	rp := newRP(t, srv, "e2e-web", secret, "profile", "email", gooidc.ScopeOfflineAccess)
	b := newBrowser(t, srv)
	ctx := context.Background()

	// Code + PKCE through the sign-in form (login typed in another case) and consent.
	v1 := oauth2.GenerateVerifier()
	code := rp.signIn(b, "s1", v1, "ADA", "analytical-engine-1")
	tok, err := rp.exchange(code, v1)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idt := rp.verify(tok, "nonce-s1")
	if idt.Subject != sub {
		t.Errorf("sub: got %q, want %q", idt.Subject, sub)
	}
	var claims struct {
		AMR      []string `json:"amr"`
		AuthTime int64    `json:"auth_time"`
		Email    string   `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(claims.AMR, []string{"pwd"}) || claims.AuthTime == 0 || time.Since(time.Unix(claims.AuthTime, 0)) > time.Minute {
		t.Errorf("ID token amr/auth_time: got %v / %d", claims.AMR, claims.AuthTime)
	}
	if claims.Email != "" {
		t.Errorf("ID token carries email %q; personal claims belong to userinfo", claims.Email)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}

	// Userinfo releases the granted scopes' claims.
	ui, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uiClaims map[string]any
	_ = ui.Claims(&uiClaims)
	if ui.Subject != sub || ui.Email != "Ada@example.com" || uiClaims["given_name"] != "Ada" || uiClaims["preferred_username"] != "Ada" {
		t.Errorf("userinfo: got %v", uiClaims)
	}
	if _, ok := uiClaims["phone_number"]; ok {
		t.Errorf("userinfo released phone without the phone scope")
	}

	// Refresh rotates the token; the old one is then reuse and revokes the whole family.
	ts := rp.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken})
	tok2, err := ts.Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	idt2 := rp.verify(tok2, "")
	if idt2.Subject != sub {
		t.Errorf("refreshed ID token sub: got %q", idt2.Subject)
	}
	if got := introspect(t, srv, tok2.AccessToken, "e2e-web", secret); got["active"] != true || got["sub"] != sub ||
		got["client_id"] != "e2e-web" || !strings.Contains(got["scope"].(string), "email") {
		t.Errorf("introspection of a live token: got %v", got)
	}
	_, err = rp.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if oauthErrorCode(err) != "invalid_grant" {
		t.Fatalf("reuse of a rotated refresh token: got %v, want invalid_grant", err)
	}
	_, err = rp.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token()
	if oauthErrorCode(err) != "invalid_grant" {
		t.Fatalf("newest refresh token after reuse: got %v, want invalid_grant (family revoked)", err)
	}
	if got := introspect(t, srv, tok2.AccessToken, "e2e-web", secret); got["active"] != false {
		t.Errorf("access token after reuse detection: got %v, want inactive", got)
	}

	// A new sign-in is single sign-on: no form, and consent is remembered.
	v3 := oauth2.GenerateVerifier()
	q := walk(t, b, rp.authURL("s3", v3), "", "", "")
	tok3, err := rp.exchange(q.Get("code"), v3)
	if err != nil {
		t.Fatalf("SSO exchange: %v", err)
	}
	rp.verify(tok3, "nonce-s3")

	// Revocation (RFC 7009) of the access token, then introspection says inactive and
	// userinfo refuses it.
	if got := introspect(t, srv, tok3.AccessToken, "e2e-web", secret); got["active"] != true {
		t.Fatalf("before revocation: got %v", got)
	}
	status, out := postJSON(t, srv.URL+"/revoke", url.Values{"token": {tok3.AccessToken}, "token_type_hint": {"access_token"}}, "e2e-web", secret)
	if status != http.StatusOK {
		t.Fatalf("revoke: %d %v", status, out)
	}
	if got := introspect(t, srv, tok3.AccessToken, "e2e-web", secret); got["active"] != false {
		t.Errorf("after revocation: got %v", got)
	}
	if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok3)); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("userinfo with a revoked token: got %v, want 401", err)
	}
	// Revoking the refresh token ends its grant; revoking an unknown token is still 200.
	status, _ = postJSON(t, srv.URL+"/revoke", url.Values{"token": {tok3.RefreshToken}}, "e2e-web", secret)
	if status != http.StatusOK {
		t.Fatalf("revoke refresh token: %d", status)
	}
	if _, err := rp.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok3.RefreshToken}).Token(); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("refresh after revocation: got %v, want invalid_grant", err)
	}
	if status, _ = postJSON(t, srv.URL+"/revoke", url.Values{"token": {"no-such-token"}}, "e2e-web", secret); status != http.StatusOK {
		t.Errorf("revoke unknown token: got %d, want 200", status)
	}

	// RP-initiated logout with id_token_hint: redirected to the registered URI with state,
	// and the Passport session is over (prompt=none now says login_required).
	rawID, _ := tok3.Extra("id_token").(string)
	endURL := srv.URL + "/end_session?" + url.Values{"id_token_hint": {rawID}, "post_logout_redirect_uri": {rpLoggedOut}, "state": {"bye-state"}}.Encode()
	resp, _ := b.get(endURL)
	if q := redirectParams(t, resp, rpLoggedOut); q.Get("state") != "bye-state" {
		t.Errorf("logout redirect state: got %v", q)
	}
	q = walk(t, b, rp.authURL("s4", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none")), "", "", "")
	if q.Get("error") != "login_required" || q.Get("state") != "s4" {
		t.Errorf("prompt=none after logout: got %v, want login_required", q)
	}
}
