package main

import (
	"context"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// TestWithdrawingConsentRevokesRefreshTokens: SPEC §3 — revoking consent in the cabinet
// also revokes that client's refresh tokens; allowing more does not.
func TestWithdrawingConsentRevokesRefreshTokens(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "withdraw-app")
	setupSelfUser(t, "withdrawer", "take-it-back-42")
	b := newBrowser(t, srv)
	rp := newRP(t, srv, "withdraw-app", secret, "profile", "email", "offline_access")
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(b, "w1", v, "withdrawer", "take-it-back-42"), v)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("sign-in: %v (refresh token %q)", err, tok.RefreshToken)
	}
	decide := func(fields ...string) {
		t.Helper()
		_, page := b.get(srv.URL + "/profile/apps")
		form := url.Values{"csrf": {hidden(page).Get("csrf")}, "client_id": {"withdraw-app"}}
		for _, f := range fields {
			form.Set("share_"+f, "on")
		}
		if resp, _ := b.post("/profile/apps/decisions", form); resp.Request.URL.Path != "/profile/apps" {
			t.Fatalf("saving decisions: %d at %s", resp.StatusCode, resp.Request.URL)
		}
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return rp.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
	}

	// Granting what was already granted revokes nothing.
	decide("email", "given_name", "family_name", "login")
	next, err := refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after confirming the same decisions: %v", err)
	}
	// Withdrawing the email revokes the refresh token the application holds.
	decide("given_name", "family_name", "login")
	if _, err := refresh(next.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("refresh after withdrawing consent: %v, want invalid_grant", err)
	}
	if got := userinfo(t, srv, next); got["email"] != nil {
		t.Errorf("userinfo still has the email: %v", got)
	}
}
