package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/passport"
)

// The protocol and hardening items of issue 10: protocol errors, response types, plain
// OAuth 2.0 grants, error pages, security headers, CSRF, body limits, JSON text and the
// development sink's page.

// basicAuth is an Authorization header for client_secret_basic (RFC 6749 §2.3.1 encodes
// both parts before joining them).
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// TestClientAuthFailuresAreCleanJSON: failed client auth is 401 invalid_client JSON, no internals, WWW-Authenticate: Basic for any Basic attempt.
func TestClientAuthFailuresAreCleanJSON(t *testing.T) {
	srv := startServer(t, "")
	setupClient(t, "clean-err")
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/revoke"} {
		for _, c := range []struct {
			name, auth string // auth is the Authorization header
			form       url.Values
		}{
			{name: "wrong secret", auth: basicAuth("clean-err", "not-the-secret-000000")},
			{name: "unknown client", auth: basicAuth("no-such-client", "whatever-secret-0000")},
			{name: "malformed Basic header", auth: "Basic !!!"},
			{name: "Basic without credentials", auth: "basic"},
			{name: "wrong secret in the body", form: url.Values{"client_id": {"clean-err"}, "client_secret": {"not-the-secret-000000"}}},
			{name: "no client"},
		} {
			t.Run(path+" "+c.name, func(t *testing.T) {
				form := url.Values{"token": {"some-token"}}
				if path == "/oauth/token" {
					form = url.Values{"grant_type": {"client_credentials"}}
				}
				for k, v := range c.form {
					form[k] = v
				}
				req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if c.auth != "" {
					req.Header.Set("Authorization", c.auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body := readBody(t, resp)
				var e struct {
					Error string `json:"error"`
				}
				if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
					json.Unmarshal([]byte(body), &e) != nil || e.Error != "invalid_client" {
					t.Errorf("got %d %s %q; want 401 application/json invalid_client", resp.StatusCode, resp.Header.Get("Content-Type"), body)
				}
				for _, internal := range []string{"ErrorType", "Parent", "postgres", "password"} {
					if strings.Contains(body, internal) {
						t.Errorf("body %q contains %q", body, internal)
					}
				}
				if www := resp.Header.Get("WWW-Authenticate"); c.auth != "" && !strings.HasPrefix(www, "Basic ") {
					t.Errorf("401 to an HTTP Basic attempt: WWW-Authenticate %q, want Basic ...", www)
				}
			})
		}
	}
}

// TestOtherResponseTypesAreRedirectedAsUnsupported: non-code response types go back as unsupported_response_type, only to a registered URI.
func TestOtherResponseTypesAreRedirectedAsUnsupported(t *testing.T) {
	srv := startServer(t, "")
	setupClient(t, "rt-web")
	b := newBrowser(t, srv)
	for _, rt := range []string{"token", "id_token", "id_token token", "code id_token"} {
		t.Run(rt, func(t *testing.T) {
			q := url.Values{"client_id": {"rt-web"}, "redirect_uri": {rpCallback}, "response_type": {rt},
				"scope": {"openid"}, "state": {"st-" + rt}, "nonce": {"n"}}
			resp, _ := b.get(srv.URL + "/authorize?" + q.Encode())
			got := redirectParams(t, resp, rpCallback)
			if got.Get("error") != "unsupported_response_type" || got.Get("state") != "st-"+rt || got.Get("code") != "" {
				t.Errorf("redirect %v: want error=unsupported_response_type and state %q", got, "st-"+rt)
			}

			q.Set("redirect_uri", "https://evil.example/cb")
			resp, page := b.get(srv.URL + "/authorize?" + q.Encode())
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "cannot be processed") {
				t.Errorf("unregistered redirect_uri: got %d (Location %q) %.200s; want the error page", resp.StatusCode,
					resp.Header.Get("Location"), page)
			}
		})
	}
}

// TestRequestByReferenceIsRefusedAtTheRedirectURI: request_uri and registration, which
// Passport does not support, are answered at the redirect URI (OIDC Core §6.2, §7.2.1), not
// silently ignored.
func TestRequestByReferenceIsRefusedAtTheRedirectURI(t *testing.T) {
	srv := startServer(t, "")
	setupClient(t, "ru-web")
	b := newBrowser(t, srv)
	for param, want := range map[string]string{"request_uri": "request_uri_not_supported", "registration": "registration_not_supported"} {
		q := url.Values{"client_id": {"ru-web"}, "redirect_uri": {rpCallback}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"s-" + param}, param: {"https://x.example/r"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		resp, _ := b.get(srv.URL + "/authorize?" + q.Encode())
		if got := redirectParams(t, resp, rpCallback); got.Get("error") != want || got.Get("state") != "s-"+param {
			t.Errorf("%s: redirect %v, want error=%s with the state", param, got, want)
		}
	}
}

// TestNoIDTokenWithoutOpenIDScope: without openid neither the code exchange nor a refresh returns an ID token; with openid both do.
func TestNoIDTokenWithoutOpenIDScope(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "plain-oauth")
	setupUser(t, "plainer", "no-openid-here-1")
	b := newBrowser(t, srv)
	for _, c := range []struct {
		name   string
		scopes []string
		want   bool
	}{
		{"without openid", []string{"profile", "offline_access"}, false},
		{"with openid", []string{"openid", "profile", "offline_access"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rp := newRP(t, srv, "plain-oauth", secret)
			rp.oauth.Scopes = c.scopes
			v := oauth2.GenerateVerifier()
			q := walk(t, b, rp.oauth.AuthCodeURL("p", oauth2.S256ChallengeOption(v)), "plainer", "no-openid-here-1", "allow")
			if q.Get("code") == "" {
				t.Fatalf("callback %v: want a code", q)
			}
			tok, err := rp.exchange(q.Get("code"), v)
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if _, has := tok.Extra("id_token").(string); has != c.want {
				t.Errorf("code exchange: id_token present %v, want %v", has, c.want)
			}
			if tok.RefreshToken == "" {
				t.Fatal("no refresh token for offline_access")
			}
			refreshed, err := rp.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if _, has := refreshed.Extra("id_token").(string); has != c.want {
				t.Errorf("refresh: id_token present %v, want %v", has, c.want)
			}
		})
	}
}

// TestEndSessionErrorsArePages: a refused logout request (GET or POST) is a 400 HTML page, never JSON and never a redirect.
func TestEndSessionErrorsArePages(t *testing.T) {
	srv := startServer(t, "")
	setupClient(t, "bye-web")
	b := newBrowser(t, srv)
	for name, q := range map[string]url.Values{
		"garbage id_token_hint":              {"id_token_hint": {"not.a.jwt"}, "post_logout_redirect_uri": {rpLoggedOut}},
		"unknown post_logout_redirect_uri":   {"client_id": {"bye-web"}, "post_logout_redirect_uri": {"https://evil.example/bye"}},
		"unknown client":                     {"client_id": {"no-such-client"}, "post_logout_redirect_uri": {rpLoggedOut}},
		"redirect_uri differing in its case": {"client_id": {"bye-web"}, "post_logout_redirect_uri": {strings.ToUpper(rpLoggedOut)}},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(name+" "+method, func(t *testing.T) {
				var resp *http.Response
				var page string
				if method == http.MethodGet {
					resp, page = b.get(srv.URL + "/end_session?" + q.Encode())
				} else {
					resp, page = b.post("/end_session", q)
				}
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Errorf("got %d (Location %q); want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
				}
				if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "sign-out request cannot be processed") {
					t.Errorf("want an HTML page, got %s: %.200s", resp.Header.Get("Content-Type"), page)
				}
			})
		}
	}
}

// TestAuthorizeErrorPageExplainsInWords: max_age=abc gives a page naming max_age, without the library's decoder text.
func TestAuthorizeErrorPageExplainsInWords(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "maxage-web")
	rp := newRP(t, srv, "maxage-web", secret)
	resp, page := newBrowser(t, srv).get(rp.authURL("m", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("max_age", "abc")))
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %s; want a 400 page", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	_, main, _ := strings.Cut(page, "<main>")
	for _, library := range []string{"schema:", "error converting"} {
		if strings.Contains(page, library) {
			t.Errorf("page shows the library's text %q: %s", library, main)
		}
	}
	if !strings.Contains(main, "max_age") {
		t.Errorf("page does not name max_age: %s", main)
	}
}

// TestSecurityHeadersOnEveryRenderedResponse: nosniff and a CSP on 404, 405, the /authorize error page, profile.json, contact.vcf and API errors.
func TestSecurityHeadersOnEveryRenderedResponse(t *testing.T) {
	srv := startServer(t, "")
	setupClient(t, "hdr-web")
	sub := setupUser(t, "headers", "nosniff-please-1")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorizeError := srv.URL + "/authorize?" + url.Values{"client_id": {"hdr-web"}, "redirect_uri": {"https://evil.example/cb"},
		"response_type": {"code"}, "scope": {"openid"}}.Encode()
	for _, c := range []struct {
		name, method, url string
		status            int
		csp               string // a directive the policy must hold
	}{
		{"404 page", http.MethodGet, srv.URL + "/no-such-page", http.StatusNotFound, "frame-ancestors 'none'"},
		{"405 page", http.MethodDelete, srv.URL + "/signin", http.StatusMethodNotAllowed, "frame-ancestors 'none'"},
		{"405 at the token endpoint", http.MethodGet, srv.URL + "/oauth/token", http.StatusMethodNotAllowed, "frame-ancestors 'none'"},
		{"authorize error page", http.MethodGet, authorizeError, http.StatusBadRequest, "default-src 'none'"},
		{"profile.json", http.MethodGet, srv.URL + "/people/" + sub + "/profile.json", http.StatusOK, "default-src 'none'"},
		{"contact.vcf", http.MethodGet, srv.URL + "/people/" + sub + "/contact.vcf", http.StatusOK, "default-src 'none'"},
		{"unknown person's profile.json", http.MethodGet, srv.URL + "/people/00000000-0000-0000-0000-000000000000/profile.json", http.StatusNotFound, "frame-ancestors 'none'"},
		{"API error", http.MethodGet, srv.URL + "/api/v1/me", http.StatusUnauthorized, "default-src 'none'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, c.url, nil)
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			readBody(t, resp)
			if resp.StatusCode != c.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, c.status)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options: got %q, want nosniff", got)
			}
			if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, c.csp) {
				t.Errorf("Content-Security-Policy: got %q, want one with %q", got, c.csp)
			}
		})
	}
}

// TestCSRFTokenOnlyFromBodyOrHeader: a CSRF token in the query string is refused (403, nothing saved); in the body or header it works.
func TestCSRFTokenOnlyFromBodyOrHeader(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "csrfq", "token-in-url-1234")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "csrfq", "token-in-url-1234")
	_, page := b.get(srv.URL + "/profile/edit")
	token := hidden(page).Get("csrf")
	if token == "" {
		t.Fatal("no csrf token on the edit page")
	}
	inQuery := "?" + url.Values{"csrf": {token}}.Encode()
	account := func() *passport.Account {
		a, err := openDB(t).AccountByLogin(context.Background(), "csrfq")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	send := func(method, path, ctype string, body io.Reader, header string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, body)
		req.Header.Set("Content-Type", ctype)
		if header != "" {
			req.Header.Set("X-CSRF-Token", header)
		}
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		return resp
	}
	form := func(given string) io.Reader { return strings.NewReader(url.Values{"given_name": {given}}.Encode()) }
	const formType = "application/x-www-form-urlencoded"

	t.Run("refused from the query string", func(t *testing.T) {
		if resp := send(http.MethodPost, "/profile/edit"+inQuery, formType, form("Queried"), ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("form post: got %d at %s, want 403", resp.StatusCode, resp.Request.URL.Path)
		}
		if resp := send(http.MethodPatch, "/api/v1/me"+inQuery, "application/json", strings.NewReader(`{"given_name": "Queried"}`), ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("API: got %d, want 403", resp.StatusCode)
		}
		var photo bytes.Buffer
		w := multipart.NewWriter(&photo)
		fw, _ := w.CreateFormFile("photo", "me.png")
		_, _ = fw.Write(pngImage(t, 16, 16))
		_ = w.Close()
		if resp := send(http.MethodPost, "/profile/photo"+inQuery, w.FormDataContentType(), &photo, ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("photo upload: got %d at %s, want 403", resp.StatusCode, resp.Request.URL.Path)
		}
		if a := account(); a.GivenName != "Ada" || a.PhotoID != "" {
			t.Errorf("after refused requests: given name %q, photo %q", a.GivenName, a.PhotoID)
		}
	})
	t.Run("accepted from the body", func(t *testing.T) {
		resp, _ := b.post("/profile/edit", url.Values{"csrf": {token}, "given_name": {"Bodied"}})
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/profile" {
			t.Errorf("got %d at %s, want the profile", resp.StatusCode, resp.Request.URL.Path)
		}
		if got := account().GivenName; got != "Bodied" {
			t.Errorf("given name %q, want Bodied", got)
		}
	})
	t.Run("accepted from the header", func(t *testing.T) {
		resp := send(http.MethodPost, "/profile/edit", formType, form("Headed"), token)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/profile" {
			t.Errorf("got %d at %s, want the profile", resp.StatusCode, resp.Request.URL.Path)
		}
		if got := account().GivenName; got != "Headed" {
			t.Errorf("given name %q, want Headed", got)
		}
	})
}

// unsizedReader hides its length, so the client sends the body chunked, with no
// Content-Length to refuse it by.
type unsizedReader struct{ io.Reader }

// TestChunkedOversizedFormIs413: a 10 MB chunked form body is 413, not the 403 the CSRF check of a cut form would give.
func TestChunkedOversizedFormIs413(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "chunky", "ten-megabytes-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "chunky", "ten-megabytes-1")
	_, page := b.get(srv.URL + "/profile/edit")
	prefix := "csrf=" + url.QueryEscape(hidden(page).Get("csrf")) + "&given_name="
	for _, path := range []string{"/profile/edit", "/signin"} {
		body := io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeatReader('a'), 10<<20))
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, unsizedReader{body})
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: got %d, want 413", path, resp.StatusCode)
		}
	}
	a, err := openDB(t).AccountByLogin(context.Background(), "chunky")
	if err != nil {
		t.Fatal(err)
	}
	if a.GivenName != "Ada" {
		t.Errorf("given name after the refused post: %q", a.GivenName[:min(len(a.GivenName), 20)])
	}
}

// repeatReader is an endless stream of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// apiRaw sends body, as it is, to the account API with the browser's session and CSRF
// token, and returns the status and raw answer.
func apiRaw(t *testing.T, b *browser, method, path string, body []byte) (int, string) {
	t.Helper()
	_, page := b.get(b.base + "/profile")
	req, _ := http.NewRequest(method, b.base+"/api/v1"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", hidden(page).Get("csrf"))
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readBody(t, resp)
}

// TestJSONTextMustBeValid: invalid UTF-8, unpaired surrogates and NUL in API JSON are refused with a JSON error; valid text is stored.
func TestJSONTextMustBeValid(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "unicoder", "valid-text-only-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "unicoder", "valid-text-only-1")
	given := func() string {
		a, err := openDB(t).AccountByLogin(context.Background(), "unicoder")
		if err != nil {
			t.Fatal(err)
		}
		return a.GivenName
	}
	for name, body := range map[string]string{
		"invalid UTF-8 byte":         "{\"given_name\": \"Ad\xffa\"}",
		"truncated UTF-8 sequence":   "{\"given_name\": \"Ad\xc3\"}",
		"lone high surrogate":        `{"given_name": "Ada\ud800"}`,
		"high surrogate, no low":     `{"given_name": "Ada\ud800\u0041"}`,
		"lone low surrogate":         `{"given_name": "\udc00Ada"}`,
		"escaped NUL":                `{"given_name": "Ada\u0000"}`,
		"invalid byte in a key":      "{\"given\xff_name\": \"Ada\"}",
		"surrogate in another field": `{"family_name": "L\udfffovelace"}`,
		// One JSON value per body: what follows it would otherwise be ignored unseen.
		"a second value after it": `{"given_name": "Eve"}{"given_name": "Mallory"}`,
		"garbage after the value": `{"given_name": "Eve"} trailing`,
	} {
		t.Run(name, func(t *testing.T) {
			status, raw := apiRaw(t, b, http.MethodPatch, "/me", []byte(body))
			var e struct {
				Error struct {
					Code, Message string
				} `json:"error"`
			}
			if status != http.StatusBadRequest && status != http.StatusUnprocessableEntity || json.Unmarshal([]byte(raw), &e) != nil || e.Error.Code == "" {
				t.Errorf("got %d %q; want 400 or 422 with a JSON error", status, raw)
			}
			if got := given(); got != "Ada" {
				t.Errorf("given name stored: %q", got)
			}
		})
	}
	t.Run("valid text", func(t *testing.T) {
		status, raw := apiRaw(t, b, http.MethodPatch, "/me", []byte(`{"given_name": "Zoë \ud83d\ude00 Ωmega", "family_name": "Łukasiewicz"}`))
		if status != http.StatusOK {
			t.Fatalf("got %d %s", status, raw)
		}
		a, err := openDB(t).AccountByLogin(context.Background(), "unicoder")
		if err != nil {
			t.Fatal(err)
		}
		if a.GivenName != "Zoë 😀 Ωmega" || a.FamilyName != "Łukasiewicz" {
			t.Errorf("stored %q %q", a.GivenName, a.FamilyName)
		}
	})
}

// TestOneNameRuleForCLIAndAPI: `passport user create` refuses a name the API refuses, with the same message, and makes no account.
func TestOneNameRuleForCLIAndAPI(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "namer", "same-rule-everywhere-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "namer", "same-rule-everywhere-1")
	for _, c := range []struct{ field, flag, value string }{
		{"given_name", "--given-name", "<script>"},
		{"family_name", "--family-name", "Lovelace{{.}}"},
	} {
		t.Run(c.flag+" "+c.value, func(t *testing.T) {
			status, out := api(t, b, http.MethodPatch, "/me", "", map[string]string{c.field: c.value})
			e, _ := out["error"].(map[string]any)
			fields, _ := e["fields"].(map[string]any)
			msg, _ := fields[c.field].(string)
			if status != http.StatusBadRequest && status != http.StatusUnprocessableEntity || msg == "" {
				t.Fatalf("API: got %d %v; want %s refused", status, out, c.field)
			}
			args := []string{"user", "create", "--login", "cli-namer", "--email", "cli-namer@example.com",
				"--password", "same-rule-everywhere-2", "--given-name", "Ada", "--family-name", "Lovelace"}
			args = append(args, c.flag, c.value) // the last flag wins
			code, _, stderr := cli(t, env(), args...)
			if code == 0 {
				t.Fatalf("CLI accepted %s %q", c.flag, c.value)
			}
			if !strings.Contains(stderr, msg) {
				t.Errorf("CLI said %q; want the API's message %q", stderr, msg)
			}
			if n := countRows(t, `SELECT count(*) FROM accounts WHERE login = 'cli-namer'`); n != 0 {
				t.Errorf("the CLI made the account anyway")
			}
		})
	}
}

// TestDevMessagesPageOffByDefault: /dev/messages is 404 with the default dev channels and served only with PASSPORT_DEV_MESSAGES_PAGE=true.
func TestDevMessagesPageOffByDefault(t *testing.T) {
	for _, c := range []struct {
		name string
		env  []string
		want int
	}{
		{"default", nil, http.StatusNotFound},
		{"with sms and email at the dev sink", []string{"PASSPORT_MESSAGES_SMS", "dev", "PASSPORT_MESSAGES_EMAIL", "dev"}, http.StatusNotFound},
		{"enabled", []string{"PASSPORT_DEV_MESSAGES_PAGE", "true"}, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, "", c.env...)
			resp, page := newBrowser(t, srv).get(srv.URL + "/dev/messages")
			if resp.StatusCode != c.want {
				t.Errorf("got %d, want %d: %.200s", resp.StatusCode, c.want, page)
			}
		})
	}
}
