package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/passport"
)

// signupOn turns self sign-up on, with a per-address ceiling that the tests, all from
// 127.0.0.1, do not reach (the limits are tested on their own).
var signupOn = []string{"PASSPORT_SIGNUP_ENABLED", "true", "PASSPORT_SIGNUP_PER_IP", "100000"}

var signupLink = regexp.MustCompile(`href="(/signup[^"]*)"`)

// startSignup fills the sign-up form on page (already fetched) and submits it.
func startSignup(t *testing.T, b *browser, page, login, password, email, phone string) (*http.Response, string) {
	t.Helper()
	form := hidden(page)
	form.Set("login", login)
	form.Set("password", password)
	form.Set("email", email)
	form.Set("phone", phone)
	return b.post("/signup", form)
}

// openSignup opens the sign-up form of Passport itself.
func openSignup(t *testing.T, b *browser) string {
	t.Helper()
	resp, page := b.get(b.base + "/signup")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `action="/signup"`) {
		t.Fatalf("the sign-up form: %d %.300s", resp.StatusCode, page)
	}
	return page
}

// mailedCode waits for the sign-up code mailed to an address.
func mailedCode(t *testing.T, mb *mailbox, to string) string {
	t.Helper()
	m := mb.wait(t, to)
	code := codeInMail.FindStringSubmatch(m.Text)
	if code == nil || !strings.Contains(m.HTML, code[1]) || !strings.Contains(m.Subject, "Confirm your email address") {
		t.Fatalf("sign-up mail to %s: %+v", to, m)
	}
	return code[1]
}

func otherCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestSignupIsOffByDefault: without [signup] enabled the routes do not exist, the sign-in
// page offers nothing, and prompt=create opens the ordinary sign-in form.
func TestSignupIsOffByDefault(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "nosignup-app")
	b := newBrowser(t, srv)
	for _, p := range []string{"/signup", "/signup/confirm?id=00000000-0000-0000-0000-000000000000"} {
		if resp, _ := b.get(srv.URL + p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	_, page := b.get(srv.URL + "/signin")
	for _, p := range []string{"/signup", "/signup/confirm", "/signup/resend"} {
		if resp, _ := b.post(p, url.Values{"csrf": {hidden(page).Get("csrf")}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if strings.Contains(page, "/signup") || strings.Contains(page, "Create an account") {
		t.Errorf("the sign-in page offers a sign-up: %.500s", page)
	}
	rp := newRP(t, srv, "nosignup-app", secret)
	resp, page := b.get(rp.authURL("off", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "create")))
	if resp.Request.URL.Path != "/signin" || !strings.Contains(page, `action="/signin"`) || strings.Contains(page, "/signup") {
		t.Errorf("prompt=create with sign-up off: at %s, %.300s", resp.Request.URL, page)
	}
}

// TestSignupThroughAnApplication: from an application's sign-in page to a code at the
// application. The code mailed to the address is needed — not a wrong one, not another
// sign-up's, not from another browser, not twice — and the account is self-registered,
// with nothing locked, through the same required fields and consent as anyone.
func TestSignupThroughAnApplication(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", append(mb.env(), signupOn...)...)
	secret := setupClient(t, "signup-app")
	rp := newRP(t, srv, "signup-app", secret, "profile", "email", "phone")
	db := openDB(t)
	ctx := context.Background()

	b := newBrowser(t, srv)
	verifier := oauth2.GenerateVerifier()
	_, page := b.get(rp.authURL("su1", verifier))
	link := signupLink.FindStringSubmatch(page)
	if link == nil || !strings.Contains(link[1], "authRequestID=") || !strings.Contains(page, "Create an account") {
		t.Fatalf("the application's sign-in page offers no sign-up keeping its request: %.600s", page)
	}
	_, page = b.get(srv.URL + html.UnescapeString(link[1]))
	if !strings.Contains(page, `action="/signup"`) || !strings.Contains(page, "App signup-app") {
		t.Fatalf("the sign-up form for the application: %.400s", page)
	}

	t.Run("form problems are shown next to the fields", func(t *testing.T) {
		resp, page := startSignup(t, b, page, "x", "password", "not-an-address", "12345")
		for _, want := range []string{"Login must be at least 3 characters long.", "Password must contain at least one letter and one digit.",
			"Enter an email address like name@example.com.", "Enter the number with its country code"} {
			if !strings.Contains(page, want) {
				t.Errorf("missing %q", want)
			}
		}
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(page, `value="password"`) {
			t.Errorf("got %d; the password must not come back: %.300s", resp.StatusCode, page)
		}
	})

	resp, page := startSignup(t, b, page, "Newcomer", "fresh-start-2024", "newcomer@example.org", "+44 20 7946 0958")
	if resp.Request.URL.Path != "/signup/confirm" || !strings.Contains(page, "newcomer@example.org") {
		t.Fatalf("after the form: at %s (%d): %.400s", resp.Request.URL, resp.StatusCode, page)
	}
	confirmPage := page
	id := hidden(page).Get("id")
	code := mailedCode(t, mb, "newcomer@example.org")
	noAccount := func(t *testing.T, what string) {
		t.Helper()
		if _, err := db.AccountByLogin(ctx, "Newcomer"); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Fatalf("%s created the account (%v)", what, err)
		}
	}
	confirm := func(b *browser, page, id, code string) (*http.Response, string) {
		form := url.Values{"csrf": {hidden(page).Get("csrf")}, "id": {id}, "code": {code}}
		return b.post("/signup/confirm", form)
	}

	t.Run("the code is needed", func(t *testing.T) {
		// The last step posted without a sign-up, or from a browser that did not start it.
		if resp, _ := confirm(b, confirmPage, "", code); resp.StatusCode != http.StatusNotFound {
			t.Errorf("without the sign-up: %d, want 404", resp.StatusCode)
		}
		stranger := newBrowser(t, srv)
		_, own := stranger.get(srv.URL + "/signin")
		if resp, page := confirm(stranger, own, id, code); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "another browser") {
			t.Errorf("another browser with the id and the code: %d %.300s", resp.StatusCode, page)
		}
		if resp, page := confirm(b, confirmPage, id, ""); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Enter the code.") {
			t.Errorf("no code: %d %.300s", resp.StatusCode, page)
		}
		noAccount(t, "a sign-up without its code")
	})
	t.Run("wrong code", func(t *testing.T) {
		resp, page := confirm(b, confirmPage, id, otherCode(code))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Wrong code. 4 attempts left.") {
			t.Errorf("got %d %.300s", resp.StatusCode, page)
		}
		noAccount(t, "a wrong code")
	})
	t.Run("another sign-up's code", func(t *testing.T) {
		other := newBrowser(t, srv)
		if resp, _ := startSignup(t, other, openSignup(t, other), "Othercomer", "fresh-start-2025", "othercomer@example.org", ""); resp.Request.URL.Path != "/signup/confirm" {
			t.Fatalf("the other sign-up: at %s", resp.Request.URL)
		}
		theirs := mailedCode(t, mb, "othercomer@example.org")
		if theirs == code {
			t.Skip("the two random codes collided")
		}
		if resp, page := confirm(b, confirmPage, id, theirs); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Wrong code") {
			t.Errorf("another sign-up's code: %d %.300s", resp.StatusCode, page)
		}
		noAccount(t, "another sign-up's code")
	})
	t.Run("a new code replaces the old one", func(t *testing.T) {
		resend := url.Values{"csrf": {hidden(confirmPage).Get("csrf")}, "id": {id}}
		if resp, page := b.post("/signup/resend", resend); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "seconds") {
			t.Errorf("a new code at once: %d %.300s", resp.StatusCode, page)
		}
		if _, err := db.Pool().Exec(ctx, `UPDATE signups SET last_sent_at = last_sent_at - interval '2 minutes' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		resp, page := b.post("/signup/resend", resend)
		if resp.Request.URL.Path != "/signup/confirm" || !strings.Contains(page, "We sent a new code.") {
			t.Fatalf("a new code: at %s (%d) %.300s", resp.Request.URL, resp.StatusCode, page)
		}
		old := code
		code = mailedCode(t, mb, "newcomer@example.org")
		if old == code {
			t.Skip("the new random code is the old one")
		}
		if resp, page := confirm(b, confirmPage, id, old); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Wrong code. 4 attempts left.") {
			t.Errorf("the replaced code (attempts start again): %d %.300s", resp.StatusCode, page)
		}
		noAccount(t, "a replaced code")
	})

	// The right code: the account exists and is signed in; the application's request goes
	// on to the required fields, then consent, then the application.
	resp, page = confirm(b, confirmPage, id, code)
	if resp.Request.URL.Path != "/signin/complete" || !strings.Contains(page, `name="given_name"`) {
		t.Fatalf("after the right code: at %s (%d): %.400s", resp.Request.URL, resp.StatusCode, page)
	}
	a, err := db.AccountByLogin(ctx, "newcomer")
	if err != nil {
		t.Fatal(err)
	}
	if a.RegistrationMethod != passport.RegisteredSelf || a.Email != "newcomer@example.org" || !a.EmailVerified ||
		a.Phone != "+442079460958" || a.PhoneVerified || a.Status != passport.StatusActive || a.Login != "Newcomer" || a.Locale != "en" {
		t.Errorf("the new account: %+v", a)
	}
	if resp, page := confirm(b, confirmPage, id, code); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "expired") {
		t.Errorf("the code used again: %d %.300s", resp.StatusCode, page)
	}
	form := hidden(page)
	form.Set("given_name", "Nova")
	form.Set("family_name", "Comer")
	resp, page = b.post("/signin/complete", form)
	q := walkFrom(t, b, resp, page)
	if q.Get("state") != "su1" || q.Get("code") == "" {
		t.Fatalf("at the application: %v", q)
	}
	tok, err := rp.exchange(q.Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	if sub := rp.verify(tok, "nonce-su1").Subject; sub != a.ID {
		t.Errorf("the application got %s, want the new account %s", sub, a.ID)
	}
	info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Email    string `json:"email"`
		Verified bool   `json:"email_verified"`
		Given    string `json:"given_name"`
	}
	if err := info.Claims(&claims); err != nil || claims.Email != "newcomer@example.org" || !claims.Verified || claims.Given != "Nova" {
		t.Errorf("userinfo: %+v (%v)", claims, err)
	}

	// Self-registered: nothing of the person's is locked, the names and birth date included.
	_, page = b.get(srv.URL + "/profile/edit")
	for _, f := range []string{"nickname", "given_name", "family_name", "birthdate"} {
		if !strings.Contains(page, `<input id="f-`+f+`"`) {
			t.Errorf("the new account cannot edit %s", f)
		}
	}

	t.Run("a sign-up expires", func(t *testing.T) {
		late := newBrowser(t, srv)
		startSignup(t, late, openSignup(t, late), "Latecomer", "fresh-start-2026", "latecomer@example.org", "")
		c := mailedCode(t, mb, "latecomer@example.org")
		_, page := late.get(srv.URL + "/signup")
		if _, err := db.Pool().Exec(ctx, `UPDATE signups SET expires_at = now() - interval '1 second' WHERE login = 'Latecomer'`); err != nil {
			t.Fatal(err)
		}
		var lateID string
		if err := db.Pool().QueryRow(ctx, `SELECT id::text FROM signups WHERE login = 'Latecomer'`).Scan(&lateID); err != nil {
			t.Fatal(err)
		}
		if resp, _ := confirm(late, page, lateID, c); resp.StatusCode != http.StatusNotFound {
			t.Errorf("an expired sign-up: %d", resp.StatusCode)
		}
		if _, err := db.AccountByLogin(ctx, "Latecomer"); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("an expired sign-up created the account (%v)", err)
		}
	})
}

// TestSignupLoginTaken: a login is unique, so the form says when it is taken (whatever the
// case); an email address is not, so another account's address is accepted and nothing is
// said about it. A login taken while the code travelled sends the person back to the form.
func TestSignupLoginTaken(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", append(mb.env(), signupOn...)...)
	setupUser(t, "taken-one", "first-come-2020")
	db := openDB(t)
	ctx := context.Background()

	b := newBrowser(t, srv)
	resp, page := startSignup(t, b, openSignup(t, b), "TAKEN-One", "second-come-2021", "someone.else@example.org", "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "This login is already taken.") || resp.Request.URL.Path != "/signup" {
		t.Errorf("a taken login: %d at %s: %.300s", resp.StatusCode, resp.Request.URL, page)
	}
	if !strings.Contains(page, `value="someone.else@example.org"`) {
		t.Error("the form forgot what was typed")
	}

	resp, page = startSignup(t, b, openSignup(t, b), "taken-two", "second-come-2021", "taken-one@example.com", "")
	if resp.Request.URL.Path != "/signup/confirm" || strings.Contains(page, "already") {
		t.Fatalf("another account's email address: at %s (%d): %.300s", resp.Request.URL, resp.StatusCode, page)
	}
	code := mailedCode(t, mb, "taken-one@example.com")

	// Someone else takes the login before the code is entered.
	setupUser(t, "Taken-Two", "quicker-one-2022")
	form := url.Values{"csrf": {hidden(page).Get("csrf")}, "id": {hidden(page).Get("id")}, "code": {code}}
	resp, page = b.post("/signup/confirm", form)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "This login is already taken.") || !strings.Contains(page, `action="/signup"`) ||
		!strings.Contains(page, `value="taken-one@example.com"`) {
		t.Errorf("a login taken meanwhile: %d %.400s", resp.StatusCode, page)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM accounts WHERE email = 'taken-one@example.com'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("accounts with the address: %d (%v), want only the first", n, err)
	}
	if resp, _ := b.post("/signup/confirm", form); resp.StatusCode != http.StatusNotFound {
		t.Errorf("that sign-up afterwards: %d, want 404", resp.StatusCode)
	}
}

// TestPromptCreate: an application sending prompt=create (OIDC Prompt Create) opens the
// sign-up form directly, even over a session; its "Sign in" link leads to the sign-in form.
func TestPromptCreate(t *testing.T) {
	srv := startServer(t, "", signupOn...)
	secret := setupClient(t, "create-app")
	setupSelfUser(t, "create-owner", "already-here-77")
	rp := newRP(t, srv, "create-app", secret, "profile")
	create := oauth2.SetAuthURLParam("prompt", "create")

	b := newBrowser(t, srv)
	resp, page := b.get(rp.authURL("pc1", oauth2.GenerateVerifier(), create))
	if resp.Request.URL.Path != "/signup" || !strings.Contains(page, `action="/signup"`) || !strings.Contains(page, "App create-app") ||
		hidden(page).Get("authRequestID") == "" {
		t.Fatalf("prompt=create: at %s: %.400s", resp.Request.URL, page)
	}
	var signin string
	for _, m := range regexp.MustCompile(`href="(/signin[^"]*)"`).FindAllStringSubmatch(page, -1) {
		signin = html.UnescapeString(m[1])
	}
	resp, page = b.get(srv.URL + signin)
	if resp.Request.URL.Path != "/signin" || !strings.Contains(page, `action="/signin"`) {
		t.Fatalf("the sign-up form's sign-in link (%s): at %s: %.300s", signin, resp.Request.URL, page)
	}
	form := hidden(page)
	form.Set("login", "create-owner")
	form.Set("password", "already-here-77")
	resp, page = b.post("/signin", form)
	if q := walkFrom(t, b, resp, page); q.Get("code") == "" {
		t.Fatalf("signing in instead: %v", q)
	}

	// Signed in, prompt=create still opens the form: the person wants a new account.
	resp, page = b.get(rp.authURL("pc2", oauth2.GenerateVerifier(), create))
	if resp.Request.URL.Path != "/signup" || !strings.Contains(page, `action="/signup"`) {
		t.Errorf("prompt=create over a session: at %s: %.300s", resp.Request.URL, page)
	}
	// Without prompt=create the session answers as always.
	if q := walk(t, b, rp.authURL("pc3", oauth2.GenerateVerifier()), "", "", "allow"); q.Get("code") == "" {
		t.Errorf("single sign-on: %v", q)
	}
	// prompt=create cannot go with none (OIDC Core: none stands alone).
	q := walk(t, b, rp.authURL("pc4", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none create")), "", "", "")
	if q.Get("error") != "invalid_request" {
		t.Errorf("prompt=none create: %v", q)
	}
}

// TestSignupRateLimits: sign-ups per client address (forms that reach the login check —
// so probing logins is limited as well — and new codes) and codes per email address.
func TestSignupRateLimits(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	clear := func() {
		if _, err := db.Pool().Exec(ctx, `DELETE FROM rate_limits WHERE key LIKE 'signup:%'`); err != nil {
			t.Fatal(err)
		}
	}
	clear()
	t.Cleanup(clear)
	mb := newMailbox(t)
	srv := startServer(t, "", append(mb.env(), "PASSPORT_SIGNUP_ENABLED", "true", "PASSPORT_SIGNUP_PER_IP", "3",
		"PASSPORT_SIGNUP_PER_EMAIL", "1")...)
	setupUser(t, "limit-taken", "limited-one-2020")

	b := newBrowser(t, srv)
	// Invalid forms do not count.
	for i := 0; i < 5; i++ {
		if resp, _ := startSignup(t, b, openSignup(t, b), "limit-x", "short", "limit@example.org", ""); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("an invalid form: %d", resp.StatusCode)
		}
	}
	// 1: sent.
	if resp, _ := startSignup(t, b, openSignup(t, b), "limit-a", "limited-try-2021", "limit@example.org", ""); resp.Request.URL.Path != "/signup/confirm" {
		t.Fatalf("the first sign-up: at %s", resp.Request.URL)
	}
	mailedCode(t, mb, "limit@example.org")
	// 2: the same address again, from another browser.
	other := newBrowser(t, srv)
	resp, page := startSignup(t, other, openSignup(t, other), "limit-b", "limited-try-2021", "LIMIT@example.org", "")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Too many codes were sent") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a second code to the same address: %d %.300s", resp.StatusCode, page)
	}
	// 3: a taken login is told while under the limit…
	if resp, page := startSignup(t, b, openSignup(t, b), "limit-taken", "limited-try-2021", "c@example.org", ""); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(page, "already taken") {
		t.Errorf("a taken login under the limit: %d", resp.StatusCode)
	}
	// 4: …but not beyond it: the address has had its attempts.
	resp, page = startSignup(t, b, openSignup(t, b), "limit-taken", "limited-try-2021", "d@example.org", "")
	if resp.StatusCode != http.StatusTooManyRequests || strings.Contains(page, "already taken") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the limit: %d %.300s", resp.StatusCode, page)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM messages WHERE kind = 'signup_code' AND recipient ILIKE 'limit@example.org'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("codes sent to the limited address: %d (%v), want 1", n, err)
	}
}
