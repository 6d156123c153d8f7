package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/passport-idp/passport/internal/pgtest"
)

// TestDatabaseOutageIsNotTheCallersFault: two replicas reach PostgreSQL through a proxy
// that the test cuts. While it is cut, nothing blames the caller: the token, revocation and
// introspection endpoints answer 503 temporarily_unavailable with Retry-After (never 401
// invalid_client, which a client would take for a revoked secret), userinfo the same, pages
// a 503 page (a sign-in is not "wrong password"), the JSON API a 503 JSON; no answer names
// the database. When the proxy is restored, both replicas serve again.
func TestDatabaseOutageIsNotTheCallersFault(t *testing.T) {
	proxy, dsn := pgtest.NewProxy(t, testDB)
	u, err := url.Parse(testDB) // its database name must not appear in any answer
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	a := startServer(t, "", "PASSPORT_DATABASE_URL", dsn)
	b := startServer(t, a.Issuer, "PASSPORT_DATABASE_URL", dsn)
	secret := setupClient(t, "fault-api", "--grant-type", "client_credentials")
	setupUser(t, "outage", "during-an-outage-77")
	ctx := context.Background()

	conf := clientcredentials.Config{ClientID: "fault-api", ClientSecret: secret, TokenURL: a.URL + "/oauth/token"}
	tok, err := conf.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials before the outage: %v", err)
	}
	browser := newBrowser(t, b)
	signInDirectly(t, browser, "outage", "during-an-outage-77")
	stranger := newBrowser(t, a)
	_, signinPage := stranger.get(a.URL + "/signin")

	proxy.Cut()

	// refusesCalmly checks one answer given while the database is away.
	refusesCalmly := func(what string, resp *http.Response, wantType string) map[string]any {
		t.Helper()
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503: %.300s", what, resp.StatusCode, body)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", what)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
			t.Errorf("%s: Content-Type %q, want %s", what, ct, wantType)
		}
		for _, leak := range []string{dbName, "127.0.0.1", "5432", "postgres", "dial tcp", "user=", "SQLSTATE", "ErrorType", "Parent"} {
			if strings.Contains(strings.ToLower(string(body)), strings.ToLower(leak)) {
				t.Errorf("%s: the answer names %q: %.300s", what, leak, body)
			}
		}
		var m map[string]any
		if wantType == "application/json" {
			if err := json.Unmarshal(body, &m); err != nil {
				t.Errorf("%s: not JSON: %.300s", what, body)
			}
		}
		return m
	}
	protocol := func(what string, srv *server, path string, form url.Values, user, pass string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if m := refusesCalmly(what, resp, "application/json"); m != nil && m["error"] != "temporarily_unavailable" {
			t.Errorf("%s: error %v, want temporarily_unavailable", what, m["error"])
		}
	}
	for _, srv := range []*server{a, b} {
		protocol("client_credentials", srv, "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "fault-api", secret)
		// A wrong secret is the caller's fault when the replica still holds the client (its
		// cache empties as soon as its listener notices the outage): 401 invalid_client is
		// then the truth; without the client it cannot know, and says 503.
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("fault-api", "not-the-secret-000000")
		if resp, err := http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		} else if resp.StatusCode == http.StatusUnauthorized {
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if m["error"] != "invalid_client" {
				t.Errorf("wrong secret during the outage: 401 %v", m)
			}
		} else if m := refusesCalmly("client_credentials with a wrong secret", resp, "application/json"); m != nil && m["error"] != "temporarily_unavailable" {
			t.Errorf("wrong secret during the outage: %v", m["error"])
		}
		protocol("client_secret_post", srv, "/oauth/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {"fault-api"}, "client_secret": {secret}}, "", "")
		protocol("revoke", srv, "/revoke", url.Values{"token": {tok.AccessToken}}, "fault-api", secret)
		protocol("introspect", srv, "/oauth/introspect", url.Values{"token": {tok.AccessToken}}, "fault-api", secret)

		req, _ = http.NewRequest(http.MethodGet, srv.URL+"/userinfo", nil)
		tok.SetAuthHeader(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		refusesCalmly("userinfo", resp, "application/json")
	}

	// Pages: the cabinet of a signed-in person, and a sign-in with the right password.
	resp, err := browser.Client.Get(b.URL + "/profile")
	if err != nil {
		t.Fatal(err)
	}
	refusesCalmly("cabinet page", resp, "text/html")
	form := hidden(signinPage)
	form.Set("login", "outage")
	form.Set("password", "during-an-outage-77")
	resp, err = stranger.Client.PostForm(a.URL+"/signin", form)
	if err != nil {
		t.Fatal(err)
	}
	refusesCalmly("sign-in", resp, "text/html")

	// The JSON API, with the browser's session.
	resp, err = browser.Client.Get(b.URL + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	refusesCalmly("API", resp, "application/json")

	// Back: both replicas serve again, without a restart.
	proxy.Restore()
	for _, srv := range []*server{a, b} {
		conf.TokenURL = srv.URL + "/oauth/token"
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err = conf.Token(ctx); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: client_credentials after the database came back: %v", srv.URL, err)
		}
		if got := introspect(t, srv, tok.AccessToken, "fault-api", secret); got["active"] != true {
			t.Errorf("%s: the token issued before the outage: %v", srv.URL, got)
		}
	}
	if resp, _ := browser.get(b.URL + "/profile"); resp.StatusCode != http.StatusOK {
		t.Errorf("cabinet after the outage: %d", resp.StatusCode)
	}
}
