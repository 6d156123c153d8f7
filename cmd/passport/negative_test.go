package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestAuthorizeErrorsNeverRedirect: an unknown client or an unregistered redirect_uri
// shows an error page and never sends the browser anywhere.
func TestAuthorizeErrorsNeverRedirect(t *testing.T) {
	srv := startServer(t, "")
	setupClient(t, "neg-web")
	b := newBrowser(t, srv)
	for name, q := range map[string]url.Values{
		"unknown client":                 {"client_id": {"no-such-client"}, "redirect_uri": {rpCallback}},
		"unregistered redirect_uri":      {"client_id": {"neg-web"}, "redirect_uri": {"https://evil.example/cb"}},
		"redirect_uri differing in case": {"client_id": {"neg-web"}, "redirect_uri": {strings.ToUpper(rpCallback)}},
	} {
		t.Run(name, func(t *testing.T) {
			q.Set("response_type", "code")
			q.Set("scope", "openid")
			q.Set("state", "st")
			resp, page := b.get(srv.URL + "/authorize?" + q.Encode())
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("got %d (Location %q); want 400 with no redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "cannot be processed") {
				t.Errorf("want an HTML error page, got %s: %.200s", resp.Header.Get("Content-Type"), page)
			}
		})
	}
}

// TestTokenEndpointNegatives covers the code exchange's failure modes.
func TestTokenEndpointNegatives(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "neg-a")
	otherSecret := setupClient(t, "neg-b")
	setupUser(t, "grace", "compiler-cobol-59")
	rp := newRP(t, srv, "neg-a", secret)
	b := newBrowser(t, srv)
	ctx := context.Background()

	t.Run("wrong client secret", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := rp.signIn(b, "w1", v, "grace", "compiler-cobol-59")
		bad := rp.oauth
		bad.ClientSecret = "not-the-secret-0000"
		bad.Endpoint.AuthStyle = oauth2.AuthStyleInHeader // client_secret_basic, no retry
		_, err := bad.Exchange(ctx, code, oauth2.VerifierOption(v))
		if oauthErrorCode(err) != "invalid_client" || err.(*oauth2.RetrieveError).Response.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %v, want 401 invalid_client", err)
		}
	})
	t.Run("reused code", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := rp.signIn(b, "r1", v, "grace", "compiler-cobol-59")
		tok, err := rp.exchange(code, v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rp.exchange(code, v); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("second exchange: got %v, want invalid_grant", err)
		}
		// RFC 6749 §4.1.2: the tokens issued for the code are revoked.
		if got := introspect(t, srv, tok.AccessToken, "neg-a", secret); got["active"] != false {
			t.Errorf("first token after code reuse: got %v, want inactive", got)
		}
	})
	t.Run("wrong code_verifier", func(t *testing.T) {
		code := rp.signIn(b, "p1", oauth2.GenerateVerifier(), "grace", "compiler-cobol-59")
		if _, err := rp.exchange(code, oauth2.GenerateVerifier()); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("got %v, want invalid_grant", err)
		}
	})
	t.Run("missing code_verifier", func(t *testing.T) {
		code := rp.signIn(b, "p2", oauth2.GenerateVerifier(), "grace", "compiler-cobol-59")
		if _, err := rp.oauth.Exchange(ctx, code); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("got %v, want invalid_grant", err)
		}
	})
	t.Run("code redeemed by another client", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := rp.signIn(b, "c1", v, "grace", "compiler-cobol-59")
		other := rp.oauth
		other.ClientID, other.ClientSecret = "neg-b", otherSecret
		if _, err := other.Exchange(ctx, code, oauth2.VerifierOption(v)); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("got %v, want invalid_grant", err)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := rp.signIn(b, "e1", v, "grace", "compiler-cobol-59")
		db := openDB(t)
		if _, err := db.Pool().Exec(ctx, `UPDATE auth_requests SET code_expires_at = now() - interval '1 second' WHERE code_used_at IS NULL AND code_hash IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if _, err := rp.exchange(code, v); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("got %v, want invalid_grant", err)
		}
	})
	t.Run("expired tokens", func(t *testing.T) {
		offline := newRP(t, srv, "neg-a", secret, "offline_access")
		v := oauth2.GenerateVerifier()
		tok, err := offline.exchange(offline.signIn(b, "x1", v, "grace", "compiler-cobol-59"), v)
		if err != nil {
			t.Fatal(err)
		}
		db := openDB(t)
		for _, q := range []string{
			`UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE client_id = 'neg-a'`,
			`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE client_id = 'neg-a'`,
		} {
			if _, err := db.Pool().Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("userinfo with an expired token: got %v, want 401", err)
		}
		if got := introspect(t, srv, tok.AccessToken, "neg-a", secret); got["active"] != false {
			t.Errorf("introspection of an expired token: got %v", got)
		}
		if _, err := offline.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthErrorCode(err) != "invalid_grant" {
			t.Errorf("expired refresh token: got %v, want invalid_grant", err)
		}
	})
	t.Run("introspection needs client authentication", func(t *testing.T) {
		status, _ := postJSON(t, srv.URL+"/oauth/introspect", url.Values{"token": {"x"}}, "", "")
		if status != http.StatusUnauthorized {
			t.Errorf("got %d, want 401", status)
		}
		status, _ = postJSON(t, srv.URL+"/oauth/introspect", url.Values{"token": {"x"}}, "neg-a", "wrong-secret-000000")
		if status != http.StatusUnauthorized {
			t.Errorf("wrong secret: got %d, want 401", status)
		}
	})
	t.Run("another client cannot introspect or revoke the token", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		tok, err := rp.exchange(rp.signIn(b, "o1", v, "grace", "compiler-cobol-59"), v)
		if err != nil {
			t.Fatal(err)
		}
		if got := introspect(t, srv, tok.AccessToken, "neg-b", otherSecret); got["active"] != false {
			t.Errorf("introspection by another client: got %v, want inactive", got)
		}
		status, _ := postJSON(t, srv.URL+"/revoke", url.Values{"token": {tok.AccessToken}}, "neg-b", otherSecret)
		if status == http.StatusOK {
			t.Errorf("revocation by another client: got 200")
		}
		if got := introspect(t, srv, tok.AccessToken, "neg-a", secret); got["active"] != true {
			t.Errorf("token after a foreign revocation attempt: got %v, want still active", got)
		}
	})
	t.Run("unsupported grant types", func(t *testing.T) {
		for _, g := range []string{"urn:ietf:params:oauth:grant-type:jwt-bearer", "password", "implicit", ""} {
			status, out := postJSON(t, srv.URL+"/oauth/token", url.Values{"grant_type": {g}}, "neg-a", secret)
			if status != http.StatusBadRequest || out["error"] != "unsupported_grant_type" {
				t.Errorf("grant %q: got %d %v", g, status, out)
			}
		}
		resp, err := http.Get(srv.URL + "/oauth/token")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /oauth/token: got %d, want 405", resp.StatusCode)
		}
	})
}

// TestAuthorizeRequestErrors covers errors that go back to the application.
func TestAuthorizeRequestErrors(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "neg-c")
	mustCLI(t, "client", "create", "--id", "neg-public", "--public", "--redirect-uri", rpCallback)
	setupUser(t, "linus", "kernel-hacker-91")
	rp := newRP(t, srv, "neg-c", secret, "email")

	t.Run("prompt=none without a session", func(t *testing.T) {
		b := newBrowser(t, srv)
		q := walk(t, b, rp.authURL("n1", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none")), "", "", "")
		if q.Get("error") != "login_required" || q.Get("state") != "n1" {
			t.Fatalf("got %v, want error=login_required&state=n1", q)
		}
	})
	t.Run("prompt=none with a session but no consent", func(t *testing.T) {
		b := newBrowser(t, srv)
		signInDirectly(t, b, "linus", "kernel-hacker-91")
		q := walk(t, b, rp.authURL("n2", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none")), "", "", "")
		if q.Get("error") != "consent_required" {
			t.Fatalf("got %v, want consent_required", q)
		}
	})
	t.Run("consent denied", func(t *testing.T) {
		b := newBrowser(t, srv)
		q := walk(t, b, rp.authURL("d1", oauth2.GenerateVerifier()), "linus", "kernel-hacker-91", "deny")
		if q.Get("error") != "access_denied" || q.Get("state") != "d1" || q.Get("code") != "" {
			t.Fatalf("got %v, want access_denied", q)
		}
	})
	t.Run("sign-in cancelled", func(t *testing.T) {
		b := newBrowser(t, srv)
		_, page := b.get(rp.authURL("c1", oauth2.GenerateVerifier()))
		resp, _ := b.post("/signin/cancel", hidden(page))
		if q := redirectParams(t, resp, rpCallback); q.Get("error") != "access_denied" {
			t.Fatalf("got %v, want access_denied", q)
		}
	})
	t.Run("plain PKCE is refused", func(t *testing.T) {
		b := newBrowser(t, srv)
		u := rp.oauth.AuthCodeURL("pl", oauth2.SetAuthURLParam("code_challenge", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"),
			oauth2.SetAuthURLParam("code_challenge_method", "plain"))
		resp, _ := b.get(u)
		if q := redirectParams(t, resp, rpCallback); q.Get("error") != "invalid_request" {
			t.Fatalf("got %v, want invalid_request", q)
		}
	})
	t.Run("public client needs PKCE", func(t *testing.T) {
		b := newBrowser(t, srv)
		pub := newRP(t, srv, "neg-public", "")
		resp, _ := b.get(pub.oauth.AuthCodeURL("pp"))
		if q := redirectParams(t, resp, rpCallback); q.Get("error") != "invalid_request" {
			t.Fatalf("got %v, want invalid_request", q)
		}
		// With PKCE it works, without a secret.
		v := oauth2.GenerateVerifier()
		if _, err := pub.exchange(pub.signIn(b, "pp2", v, "linus", "kernel-hacker-91"), v); err != nil {
			t.Fatalf("public client with PKCE: %v", err)
		}
	})
	t.Run("prompt=login and max_age=0 ask for the password again", func(t *testing.T) {
		b := newBrowser(t, srv)
		v := oauth2.GenerateVerifier()
		rp.signIn(b, "l0", v, "linus", "kernel-hacker-91")
		for _, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")} {
			_, page := b.get(rp.authURL("l1", v, opt))
			if !strings.Contains(page, `action="/signin"`) {
				t.Fatalf("want the sign-in form, got %.300s", page)
			}
		}
		// A generous max_age is satisfied by the session.
		q := walk(t, b, rp.authURL("l2", v, oauth2.SetAuthURLParam("max_age", "3600")), "", "", "")
		if q.Get("code") == "" {
			t.Fatalf("max_age=3600 with a fresh session: got %v", q)
		}
	})
	t.Run("auth request bound to its browser", func(t *testing.T) {
		victim, attacker := newBrowser(t, srv), newBrowser(t, srv)
		resp, _ := attacker.get(rp.authURL("b1", oauth2.GenerateVerifier()))
		signin := resp.Request.URL.String()
		// The victim opens the attacker's sign-in link: Passport refuses it.
		resp, page := victim.get(signin)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "another browser") {
			t.Fatalf("foreign auth request: got %d %.200s", resp.StatusCode, page)
		}
	})
}

// signInDirectly signs a browser in to Passport itself, with no application involved.
func signInDirectly(t *testing.T, b *browser, login, password string) {
	t.Helper()
	_, page := b.get(b.base + "/signin")
	form := hidden(page)
	form.Set("login", login)
	form.Set("password", password)
	resp, page := b.post("/signin", form)
	b.password = password
	if resp.Request.URL.Path != "/profile" || !strings.Contains(page, `id="main-info"`) { // in any language
		t.Fatalf("direct sign-in: ended at %s (%d): %.300s", resp.Request.URL, resp.StatusCode, page)
	}
}

// TestPromptAndHint covers prompt=none with a session, prompt=consent, and an
// id_token_hint naming somebody other than the signed-in person.
func TestPromptAndHint(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "hint-web")
	setupUser(t, "alan", "enigma-machine-36")
	setupUser(t, "joan", "hut-eight-1941")
	rp := newRP(t, srv, "hint-web", secret, "profile")

	alan := newBrowser(t, srv)
	v := oauth2.GenerateVerifier()
	alanTok, err := rp.exchange(rp.signIn(alan, "a1", v, "alan", "enigma-machine-36"), v)
	if err != nil {
		t.Fatal(err)
	}
	joan := newBrowser(t, srv)
	v = oauth2.GenerateVerifier()
	joanTok, err := rp.exchange(rp.signIn(joan, "j1", v, "joan", "hut-eight-1941"), v)
	if err != nil {
		t.Fatal(err)
	}

	// prompt=none with a session and consent: straight back with a code.
	v = oauth2.GenerateVerifier()
	q := walk(t, alan, rp.authURL("a2", v, oauth2.SetAuthURLParam("prompt", "none")), "", "", "")
	tok, err := rp.exchange(q.Get("code"), v)
	if err != nil {
		t.Fatalf("prompt=none with a session: %v (%v)", err, q)
	}
	if rp.verify(tok, "nonce-a2").Subject != rp.verify(alanTok, "").Subject {
		t.Error("prompt=none signed in somebody else")
	}

	// A hint for Joan in Alan's browser: prompt=none cannot answer; otherwise the form shows.
	joanHint, _ := joanTok.Extra("id_token").(string)
	hint := oauth2.SetAuthURLParam("id_token_hint", joanHint)
	q = walk(t, alan, rp.authURL("a3", oauth2.GenerateVerifier(), hint, oauth2.SetAuthURLParam("prompt", "none")), "", "", "")
	if q.Get("error") != "login_required" {
		t.Errorf("prompt=none with another person's hint: got %v, want login_required", q)
	}
	if _, page := alan.get(rp.authURL("a4", oauth2.GenerateVerifier(), hint)); !strings.Contains(page, `action="/signin"`) {
		t.Errorf("hint for another person: want the sign-in form, got %.200s", page)
	}

	// prompt=consent shows the consent page even though consent was given.
	if _, page := alan.get(rp.authURL("a5", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "consent"))); !strings.Contains(page, `action="/consent"`) {
		t.Errorf("prompt=consent: want the consent page, got %.200s", page)
	}
}
