package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/passport"
)

func signinForm(t *testing.T, b *browser, login, password string) (*http.Response, string) {
	t.Helper()
	_, page := b.get(b.base + "/signin")
	form := hidden(page)
	form.Set("login", login)
	form.Set("password", password)
	return b.post("/signin", form)
}

// TestSigninPage: one message for unknown logins and wrong passwords, CSRF, headers.
func TestSigninPage(t *testing.T) {
	srv := startServer(t, "")
	setupUser(t, "margaret", "apollo-guidance-11")

	t.Run("same answer for an unknown login and a wrong password", func(t *testing.T) {
		r1, p1 := signinForm(t, newBrowser(t, srv), "margaret", "wrong-password-1")
		r2, p2 := signinForm(t, newBrowser(t, srv), "nobody-at-all", "wrong-password-1")
		if r1.StatusCode != r2.StatusCode || !strings.Contains(p1, "Wrong login or password.") || !strings.Contains(p2, "Wrong login or password.") {
			t.Fatalf("got %d and %d; pages differ in their message", r1.StatusCode, r2.StatusCode)
		}
	})
	t.Run("empty fields", func(t *testing.T) {
		resp, page := signinForm(t, newBrowser(t, srv), "", "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Enter your login and password.") {
			t.Fatalf("got %d %.200s", resp.StatusCode, page)
		}
	})
	t.Run("missing or foreign CSRF token", func(t *testing.T) {
		b := newBrowser(t, srv)
		b.get(srv.URL + "/signin")
		resp, _ := b.post("/signin", url.Values{"login": {"margaret"}, "password": {"apollo-guidance-11"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("no token: got %d, want 403", resp.StatusCode)
		}
		// Another browser's token does not fit this browser's cookie.
		other := newBrowser(t, srv)
		_, page := other.get(srv.URL + "/signin")
		form := hidden(page)
		form.Set("login", "margaret")
		form.Set("password", "apollo-guidance-11")
		if resp, _ := b.post("/signin", form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("foreign token: got %d, want 403", resp.StatusCode)
		}
	})
	t.Run("cross-origin post", func(t *testing.T) {
		b := newBrowser(t, srv)
		_, page := b.get(srv.URL + "/signin")
		form := hidden(page)
		form.Set("login", "margaret")
		form.Set("password", "apollo-guidance-11")
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %d, want 403", resp.StatusCode)
		}
	})
	t.Run("security headers and cookies", func(t *testing.T) {
		b := newBrowser(t, srv)
		resp, _ := b.get(srv.URL + "/signin")
		h := resp.Header
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
		} {
			if h.Get(k) != want {
				t.Errorf("%s: got %q, want %q", k, h.Get(k), want)
			}
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("CSP: got %q", h.Get("Content-Security-Policy"))
		}
		_, page := b.get(srv.URL + "/signin")
		form := hidden(page)
		form.Set("login", "margaret")
		form.Set("password", "apollo-guidance-11")
		noFollow := *b.Client
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := noFollow.PostForm(srv.URL+"/signin", form)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "passport-session" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
			t.Errorf("session cookie on an http issuer: got %+v", session)
		}
	})
	t.Run("blocked account", func(t *testing.T) {
		setupUser(t, "blocked-user", "locked-out-4242")
		if _, err := openDB(t).Pool().Exec(context.Background(), `UPDATE accounts SET status = 'blocked' WHERE login = 'blocked-user'`); err != nil {
			t.Fatal(err)
		}
		resp, page := signinForm(t, newBrowser(t, srv), "blocked-user", "locked-out-4242")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "blocked") {
			t.Errorf("got %d %.200s", resp.StatusCode, page)
		}
		// A wrong password does not reveal the status.
		_, page = signinForm(t, newBrowser(t, srv), "blocked-user", "wrong-password-1")
		if !strings.Contains(page, "Wrong login or password.") {
			t.Errorf("wrong password on a blocked account: %.200s", page)
		}
	})
}

// TestSecureCookies: with an https issuer every cookie is Secure with the __Host- prefix.
func TestSecureCookies(t *testing.T) {
	srv := startServer(t, "https://id.example.test", "PASSPORT_DEV_ALLOW_DEV_SINK_WITH_HTTPS", "true")
	resp, err := http.Get(srv.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	cookies := resp.Cookies()
	if len(cookies) == 0 {
		t.Fatal("no cookie set")
	}
	for _, c := range cookies {
		if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
			t.Errorf("cookie %+v: want __Host-, Secure, HttpOnly, Path=/", c)
		}
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS header on an https issuer")
	}
}

// TestSigninRateLimit: failures are limited per login across replicas, then per IP; the
// right password does not get through while limited.
func TestSigninRateLimit(t *testing.T) {
	a := startServer(t, "", "PASSPORT_RATE_LIMIT_SIGNIN_PER_ACCOUNT", "3", "PASSPORT_RATE_LIMIT_SIGNIN_PER_IP", "6")
	b := startServer(t, a.Issuer, "PASSPORT_RATE_LIMIT_SIGNIN_PER_ACCOUNT", "3", "PASSPORT_RATE_LIMIT_SIGNIN_PER_IP", "6")
	setupUser(t, "hopper", "nanosecond-wire-30")
	// Other tests signed in from 127.0.0.1 too: start from a clean count.
	if _, err := openDB(t).Pool().Exec(context.Background(), `DELETE FROM rate_limits`); err != nil {
		t.Fatal(err)
	}
	for i, srv := range []*server{a, b, a} {
		if resp, _ := signinForm(t, newBrowser(t, srv), "Hopper", "bad-guess-000"+string(rune('0'+i))); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: got %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp, page := signinForm(t, newBrowser(t, b), "HOPPER", "nanosecond-wire-30")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Too many sign-in attempts") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th attempt on the other server: got %d %.200s", resp.StatusCode, page)
	}
	// Other logins from this IP still work until the IP limit.
	setupUser(t, "other-login", "different-person-5")
	if resp, _ := signinForm(t, newBrowser(t, a), "other-login", "different-person-5"); resp.StatusCode != http.StatusOK {
		t.Fatalf("another login: got %d", resp.StatusCode)
	}
	// The 7th attempt from this IP is refused whatever the login.
	for i := 0; i < 2; i++ {
		signinForm(t, newBrowser(t, a), "someone-"+string(rune('a'+i)), "x-password-1")
	}
	if resp, _ := signinForm(t, newBrowser(t, a), "other-login", "different-person-5"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("past the IP limit: got %d, want 429", resp.StatusCode)
	}
}

// TestPasswordRehash: a hash made with older argon2id settings is replaced at sign-in.
func TestPasswordRehash(t *testing.T) {
	setupUser(t, "rehash-me", "upgrade-path-2024") // made with the test settings (1 MiB, t=1)
	srv := startServer(t, "", "PASSPORT_PASSWORD_ARGON2_MEMORY_KIB", "2048", "PASSPORT_PASSWORD_ARGON2_ITERATIONS", "2")
	if resp, _ := signinForm(t, newBrowser(t, srv), "rehash-me", "upgrade-path-2024"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: got %d", resp.StatusCode)
	}
	a, err := openDB(t).AccountByLogin(context.Background(), "rehash-me")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.PasswordHash, "m=2048,t=2,p=1") {
		t.Errorf("hash not upgraded: %s", a.PasswordHash)
	}
	if ok, stale, _ := passport.CheckPassword(context.Background(), a.PasswordHash, "upgrade-path-2024", passport.Argon2Params{MemoryKiB: 2048, Iterations: 2, Parallelism: 1}); !ok || stale {
		t.Errorf("new hash: ok %v stale %v", ok, stale)
	}
}
