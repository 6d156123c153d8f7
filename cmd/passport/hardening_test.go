package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestPagesCannotSkipDemandedLogin: prompt=login, max_age and id_token_hint hold on every
// page after the sign-in form, not only on the form.
func TestPagesCannotSkipDemandedLogin(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "skip-web")
	setupUser(t, "skipper", "fresh-login-please-1")
	setupUser(t, "bystander", "someone-else-2")
	rp := newRP(t, srv, "skip-web", secret, "email")
	b := newBrowser(t, srv)
	rp.signIn(b, "s0", oauth2.GenerateVerifier(), "skipper", "fresh-login-please-1") // session + consent

	for name, opt := range map[string]oauth2.AuthCodeOption{
		"prompt=login":             oauth2.SetAuthURLParam("prompt", "login"),
		"max_age=0":                oauth2.SetAuthURLParam("max_age", "0"),
		"prompt=consent and login": oauth2.SetAuthURLParam("prompt", "login consent"),
	} {
		t.Run(name, func(t *testing.T) {
			resp, page := b.get(rp.authURL("s1", oauth2.GenerateVerifier(), opt))
			if !strings.Contains(page, `action="/signin"`) {
				t.Fatalf("want the sign-in form, got %.200s", page)
			}
			id := resp.Request.URL.Query().Get("authRequestID")
			// Going straight to the consent page, or posting it, leads back to sign-in.
			resp, page = b.get(srv.URL + "/consent?authRequestID=" + id)
			if resp.Request.URL.Path != "/signin" {
				t.Errorf("consent page opened without the demanded login: %s", resp.Request.URL)
			}
			form := hidden(page)
			form.Set("authRequestID", id)
			form.Set("decision", "allow")
			resp, _ = b.post("/consent", form)
			if loc := resp.Header.Get("Location"); strings.Contains(loc, "code=") || resp.Request.URL.Path != "/signin" {
				t.Errorf("consent post without the demanded login ended at %s (Location %q)", resp.Request.URL, loc)
			}
		})
	}

	t.Run("fresh sign-in as somebody else than the hint", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		tok, err := rp.exchange(rp.signIn(b, "h0", v, "skipper", "fresh-login-please-1"), v)
		if err != nil {
			t.Fatal(err)
		}
		hint, _ := tok.Extra("id_token").(string)
		fresh := newBrowser(t, srv)
		_, page := fresh.get(rp.authURL("h1", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("id_token_hint", hint)))
		form := hidden(page)
		form.Set("login", "bystander")
		form.Set("password", "someone-else-2")
		resp, page := fresh.post("/signin", form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "different account") {
			t.Fatalf("got %d %.300s", resp.StatusCode, page)
		}
	})
}

// TestLogoutWithAnOldIDTokenAsks: an ID token from an earlier session does not end the
// current one without confirmation.
func TestLogoutWithAnOldIDTokenAsks(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "old-hint-web")
	sub := setupUser(t, "oldhint", "stale-token-9999")
	rp := newRP(t, srv, "old-hint-web", secret)
	b := newBrowser(t, srv)
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(b, "o1", v, "oldhint", "stale-token-9999"), v)
	if err != nil {
		t.Fatal(err)
	}
	hint, _ := tok.Extra("id_token").(string)
	// The person signs in again later: a new session with a later auth_time.
	if _, err := openDB(t).Pool().Exec(context.Background(),
		`UPDATE sessions SET auth_time = auth_time + interval '1 hour' WHERE account_id = $1 AND ended_at IS NULL`, sub); err != nil {
		t.Fatal(err)
	}
	resp, page := b.get(srv.URL + "/end_session?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {rpLoggedOut}}.Encode())
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign out of Passport?") {
		t.Fatalf("want the confirmation page, got %d %.200s", resp.StatusCode, page)
	}
}

// TestBadBytesAreRefusedNotCrashed: invalid UTF-8 or NUL anywhere gives a clear 400.
func TestBadBytesAreRefusedNotCrashed(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "bytes-web")
	setupUser(t, "bytesuser", "clean-input-1234")
	rp := newRP(t, srv, "bytes-web", secret)

	b := newBrowser(t, srv)
	_, page := b.get(srv.URL + "/signin")
	for _, login := range []string{"bad\xffbyte", "nul\x00byte"} {
		form := hidden(page)
		form.Set("login", login)
		form.Set("password", "x-password-1")
		if resp, _ := b.post("/signin", form); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("login %q: got %d, want 400", login, resp.StatusCode)
		}
	}
	resp, _ := b.get(rp.oauth.AuthCodeURL("st\x00ate"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("state with NUL: got %d, want 400", resp.StatusCode)
	}
	// A browser with a broken User-Agent still signs in.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/signin", nil)
	req.Header.Set("User-Agent", "Broken\xffAgent")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page = readBody(t, resp)
	form := hidden(page)
	form.Set("login", "bytesuser")
	form.Set("password", "clean-input-1234")
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Broken\xffAgent")
	resp, err = b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/profile" {
		t.Errorf("sign-in with a broken User-Agent: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	// Secrets in the token endpoint's URL are refused.
	status, out := postJSON(t, srv.URL+"/oauth/token?client_secret="+secret, url.Values{"grant_type": {"client_credentials"}}, "bytes-web", secret)
	if status != http.StatusBadRequest || out["error"] != "invalid_request" {
		t.Errorf("query string on /oauth/token: %d %v", status, out)
	}
}

// TestCrossSitePostKeepsTheBrowserCookie: a POST without Passport's cookies (as a cross-site
// form post arrives) is refused and does not replace them; a form-posted authorization
// request becomes a GET, which carries them.
func TestCrossSitePostKeepsTheBrowserCookie(t *testing.T) {
	srv := startServer(t, "")
	resp, err := http.PostForm(srv.URL+"/signin", url.Values{"login": {"x"}, "password": {"y"}})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("cookieless POST: got %d with cookies %v; want 403 and none set", resp.StatusCode, resp.Cookies())
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.PostForm(srv.URL+"/authorize", url.Values{"client_id": {"x"}, "scope": {"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/authorize?") {
		t.Errorf("POST /authorize: got %d to %q; want 303 to GET", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestRefreshWithNarrowerScope: asking for fewer scopes narrows the access token; the next
// refresh may still ask for everything granted (RFC 6749 §6).
func TestRefreshWithNarrowerScope(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "narrow-web")
	setupUser(t, "narrower", "scope-subset-42")
	rp := newRP(t, srv, "narrow-web", secret, "email", "offline_access")
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(newBrowser(t, srv), "n", v, "narrower", "scope-subset-42"), v)
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt, scope string) map[string]any {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if scope != "" {
			form.Set("scope", scope)
		}
		status, out := postJSON(t, srv.URL+"/oauth/token", form, "narrow-web", secret)
		if status != http.StatusOK {
			t.Fatalf("refresh with scope %q: %d %v", scope, status, out)
		}
		return out
	}
	narrow := refresh(tok.RefreshToken, "openid")
	if narrow["scope"] != "openid" {
		t.Errorf("narrowed scope: got %v", narrow["scope"])
	}
	if got := introspect(t, srv, narrow["access_token"].(string), "narrow-web", secret); got["scope"] != "openid" {
		t.Errorf("narrowed access token: %v", got["scope"])
	}
	full := refresh(narrow["refresh_token"].(string), "openid email offline_access")
	if !strings.Contains(full["scope"].(string), "email") {
		t.Errorf("full scope after narrowing: %v", full["scope"])
	}
}

// TestBlockedAndDisabled: a code for an account blocked after sign-in yields nothing, and
// a disabled client's tokens stop working.
func TestBlockedAndDisabled(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "blk-web")
	sub := setupUser(t, "soon-blocked", "blocked-later-77")
	rp := newRP(t, srv, "blk-web", secret)
	b := newBrowser(t, srv)
	db := openDB(t)
	ctx := context.Background()

	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(b, "b1", v, "soon-blocked", "blocked-later-77"), v)
	if err != nil {
		t.Fatal(err)
	}
	v2 := oauth2.GenerateVerifier()
	code := rp.signIn(b, "b2", v2, "soon-blocked", "blocked-later-77")
	if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET status = 'blocked' WHERE id = $1`, sub); err != nil {
		t.Fatal(err)
	}
	if _, err := rp.exchange(code, v2); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("code of a blocked account: got %v, want invalid_grant", err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET status = 'active' WHERE id = $1`, sub); err != nil {
		t.Fatal(err)
	}
	if got := introspect(t, srv, tok.AccessToken, "blk-web", secret); got["active"] != true {
		t.Fatalf("before disabling: %v", got)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE clients SET disabled = true WHERE id = 'blk-web'`); err != nil {
		t.Fatal(err)
	}
	if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo with a disabled client's token succeeded")
	}
}
