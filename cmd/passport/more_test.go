package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestTwoInstancesActAsOne: authorize and sign in through one server, then redeem the code,
// call userinfo and refresh through another on the same database.
func TestTwoInstancesActAsOne(t *testing.T) {
	a := startServer(t, "")
	b := startServer(t, a.Issuer) // same issuer, as behind a load balancer
	secret := setupClient(t, "two-web")
	sub := setupUser(t, "twin", "replicated-state-2")

	viaA := newRP(t, a, "two-web", secret, "email", "offline_access")
	viaB := newRP(t, a, "two-web", secret, "email", "offline_access")
	viaB.oauth.Endpoint.TokenURL = b.URL + "/oauth/token"
	browser := newBrowser(t, a)

	v := oauth2.GenerateVerifier()
	code := viaA.signIn(browser, "two", v, "twin", "replicated-state-2")
	tok, err := viaB.exchange(code, v)
	if err != nil {
		t.Fatalf("exchange on the second server: %v", err)
	}
	viaB.verify(tok, "nonce-two")
	if got := userinfo(t, b, tok); got["sub"] != sub || got["email"] != "twin@example.com" {
		t.Fatalf("userinfo on the second server: %v", got)
	}
	// Rotation on one server is seen by the other: the old refresh token is reuse there.
	if _, err := viaB.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh on B: %v", err)
	}
	if _, err := viaA.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthErrorCode(err) != "invalid_grant" {
		t.Fatalf("reuse on A: got %v, want invalid_grant", err)
	}
	// The browser's session, made on A, is valid on B.
	jarURL, _ := url.Parse(a.URL)
	bURL, _ := url.Parse(b.URL)
	browserB := newBrowser(t, b)
	browserB.Jar.SetCookies(bURL, browser.Jar.Cookies(jarURL))
	if _, page := browserB.get(b.URL + "/profile"); !strings.Contains(page, "twin@example.com") {
		t.Errorf("session from A not recognised on B: %.300s", page)
	}
}

// TestClientCredentials: a confidential client gets a token for itself; it carries no
// person, so userinfo refuses it while introspection describes it.
func TestClientCredentials(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "cc-api", "--grant-type", "client_credentials")
	noGrant := setupClient(t, "cc-web")
	ctx := context.Background()

	conf := clientcredentials.Config{ClientID: "cc-api", ClientSecret: secret, TokenURL: srv.URL + "/oauth/token"}
	tok, err := conf.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Error("client_credentials must not issue a refresh token")
	}
	got := introspect(t, srv, tok.AccessToken, "cc-api", secret)
	if got["active"] != true || got["sub"] != "cc-api" || got["client_id"] != "cc-api" {
		t.Errorf("introspection: got %v", got)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/userinfo", nil)
	tok.SetAuthHeader(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Errorf("userinfo with a client token: got %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	wrong := conf
	wrong.ClientSecret = "wrong-secret-0000000"
	if _, err := wrong.Token(ctx); oauthErrorCode(err) != "invalid_client" {
		t.Errorf("wrong secret: got %v, want invalid_client", err)
	}
	other := clientcredentials.Config{ClientID: "cc-web", ClientSecret: noGrant, TokenURL: srv.URL + "/oauth/token"}
	// The library reports every refusal of this grant as invalid_client.
	if _, err := other.Token(ctx); oauthErrorCode(err) != "invalid_client" {
		t.Errorf("client without the grant: got %v, want invalid_client", err)
	}
}

// TestClientSecretPost: the token endpoint takes the secret in the body too.
func TestClientSecretPost(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "post-web")
	setupUser(t, "poster", "form-encoded-77")
	rp := newRP(t, srv, "post-web", secret)
	rp.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	v := oauth2.GenerateVerifier()
	if _, err := rp.exchange(rp.signIn(newBrowser(t, srv), "p", v, "poster", "form-encoded-77"), v); err != nil {
		t.Fatalf("client_secret_post: %v", err)
	}
}

// TestEndSession covers logout without a hint (confirmation page) and a
// post_logout_redirect_uri that is not registered.
func TestEndSession(t *testing.T) {
	srv := startServer(t, "")
	setupClient(t, "logout-web")
	setupUser(t, "leaver", "goodbye-world-3")

	t.Run("without id_token_hint the person confirms", func(t *testing.T) {
		b := newBrowser(t, srv)
		signInDirectly(t, b, "leaver", "goodbye-world-3")
		resp, page := b.get(srv.URL + "/end_session?" + url.Values{"client_id": {"logout-web"},
			"post_logout_redirect_uri": {rpLoggedOut}, "state": {"st"}}.Encode())
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign out of Passport?") {
			t.Fatalf("want the confirmation page, got %d %.300s", resp.StatusCode, page)
		}
		// Still signed in until confirmed.
		if _, home := b.get(srv.URL + "/profile"); !strings.Contains(home, "Main information") {
			t.Fatal("session ended before confirmation")
		}
		resp, _ = b.post("/signout", hidden(page))
		if q := redirectParams(t, resp, rpLoggedOut); q.Get("state") != "st" {
			t.Errorf("after confirmation: got %v", q)
		}
		if resp, _ := b.get(srv.URL + "/"); resp.Request.URL.Path != "/signin" {
			t.Errorf("after logout / shows %s, want the sign-in page", resp.Request.URL.Path)
		}
	})
	t.Run("tampered redirect on the confirmation page is ignored", func(t *testing.T) {
		b := newBrowser(t, srv)
		signInDirectly(t, b, "leaver", "goodbye-world-3")
		_, page := b.get(srv.URL + "/signout?redirect=https%3A%2F%2Fevil.example%2F&sig=forged")
		resp, _ := b.post("/signout", hidden(page))
		if loc := resp.Request.URL.String(); !strings.HasSuffix(loc, "/signed-out") {
			t.Errorf("ended at %s, want /signed-out", loc)
		}
	})
	t.Run("unregistered post_logout_redirect_uri", func(t *testing.T) {
		b := newBrowser(t, srv)
		resp, _ := b.get(srv.URL + "/end_session?" + url.Values{"client_id": {"logout-web"},
			"post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("got %d to %q; want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestSmallPool: the listeners (message queue, client cache) have connections of their own,
// so even the smallest pool serves requests.
func TestSmallPool(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_DATABASE_MAX_CONNS", "2")
	setupSelfUser(t, "small-pool", "two-connections-2")
	signInDirectly(t, newBrowser(t, srv), "small-pool", "two-connections-2")
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("readyz: %d", resp.StatusCode)
	}
}
