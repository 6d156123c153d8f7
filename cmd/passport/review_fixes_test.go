package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestCredentialChangeCancelsPendingContactChanges: an email change started from a session
// that a password change, a reset or "log out of all devices" then ends (a stolen session)
// cannot be completed afterwards with its link or code.
func TestCredentialChangeCancelsPendingContactChanges(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	setupSelfUser(t, "evicted-thief", "owner-password-1")
	thief := newBrowser(t, srv)
	signInDirectly(t, thief, "evicted-thief", "owner-password-1")
	formPost(t, thief, "/profile/email", "/profile/email", "value", "thief@example.org")
	link := linkInMail.FindStringSubmatch(mb.wait(t, "thief@example.org").Text)
	if link == nil {
		t.Fatal("no link in the thief's mail")
	}

	owner := newBrowser(t, srv)
	signInDirectly(t, owner, "evicted-thief", "owner-password-1")
	_, page := owner.get(srv.URL + "/profile/password")
	form := hidden(page)
	form.Set("current_password", "owner-password-1")
	form.Set("new_password", "owner-password-2")
	form.Set("repeat_password", "owner-password-2")
	owner.post("/profile/password", form)
	if thief.signedIn(t) {
		t.Fatal("the password change left the thief's session on")
	}

	fresh := newBrowser(t, srv)
	_, page = fresh.get(link[1])
	resp, _ := fresh.post("/confirm/email", hidden(page))
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusSeeOther {
		t.Errorf("the link after the password change: %d, want it refused", resp.StatusCode)
	}
	if email, _ := accountEmail(t, "evicted-thief"); email != "evicted-thief@example.com" {
		t.Errorf("the thief's link changed the email to %s", email)
	}
}

// signedIn reports whether the browser's session still opens the cabinet.
func (b *browser) signedIn(t *testing.T) bool {
	t.Helper()
	resp, _ := b.get(b.base + "/profile")
	return resp.Request.URL.Path == "/profile"
}

// TestSignupCodeGuessesAreCappedPerAddress: however many sign-ups are started for one
// address, at most 4 × codes.max_attempts wrong codes are checked for it in a day.
func TestSignupCodeGuessesAreCappedPerAddress(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_SIGNUP_ENABLED", "true", "PASSPORT_SIGNUP_PER_EMAIL", "100",
		"PASSPORT_SIGNUP_PER_IP", "100")
	checked, refused := 0, 0
	for i := 0; i < 6; i++ {
		b := newBrowser(t, srv)
		_, page := startSignup(t, b, openSignup(t, b), "guesser"+string(rune('a'+i)), "guessing-codes-1", "victim@example.org", "")
		form := hidden(page)
		for j := 0; j < 5; j++ {
			form.Set("code", "000000")
			resp, _ := b.post("/signup/confirm", form)
			switch {
			case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "":
				refused++
			case resp.StatusCode < 500:
				checked++
			}
		}
	}
	if checked > 20 || refused == 0 {
		t.Errorf("wrong codes checked for one address: %d (refused %d), want at most 20", checked, refused)
	}
}

// TestSignupLoginCannotBeAStrangersAddress: a self-chosen login that reads as an email
// address or a phone number must be the one given with it; otherwise it would capture that
// person's "Forgot password?".
func TestSignupLoginCannotBeAStrangersAddress(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_SIGNUP_ENABLED", "true")
	for _, c := range []struct{ login, email, phone string }{
		{"victim@example.com", "attacker@example.org", ""},
		{"+37251234567", "attacker@example.org", ""},
		{"37251234567", "attacker@example.org", "+372 5999 9999"},
	} {
		b := newBrowser(t, srv)
		resp, page := startSignup(t, b, openSignup(t, b), c.login, "not-my-address-1", c.email, c.phone)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "must be the") {
			t.Errorf("login %q with email %q, phone %q: %d, want the login refused", c.login, c.email, c.phone, resp.StatusCode)
		}
	}
	// One's own address or number as the login is fine.
	b := newBrowser(t, srv)
	if resp, page := startSignup(t, b, openSignup(t, b), "Me@Example.org", "my-own-address-1", "me@example.org", ""); resp.StatusCode != http.StatusOK ||
		!strings.Contains(page, `action="/signup/confirm"`) {
		t.Errorf("one's own email as the login: %d %.300s", resp.StatusCode, page)
	}
}

// switcherBack is where a page's language switcher returns.
func switcherBack(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, `action="/language"`)
	if i < 0 {
		t.Fatalf("no language switcher: %.300s", page)
	}
	return hidden(page[i:]).Get("back")
}

// TestSwitcherAfterAFormAndWithinASignIn: on a page that answers a form the switcher
// returns to a page one can open (not a 405), keeping the application's sign-in; and within
// a sign-in whose application asked for ui_locales, the person's choice wins.
func TestSwitcherAfterAFormAndWithinASignIn(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "switch-app")
	setupSelfUser(t, "switcher", "switch-languages-1")
	b := newBrowser(t, srv)
	rp := newRP(t, srv, "switch-app", secret, "profile")
	_, page := b.get(rp.authURL("s1", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("ui_locales", "ru")))
	if pageLang(t, page) != "ru" {
		t.Fatalf("ui_locales=ru: %s", pageLang(t, page))
	}
	id := hidden(page).Get("authRequestID")
	form := hidden(page)
	form.Set("login", "switcher")
	form.Set("password", "wrong")
	_, page = b.post("/signin", form)
	back := switcherBack(t, page)
	if back != "/signin?authRequestID="+id {
		t.Errorf("after a refused sign-in the switcher returns to %q", back)
	}
	resp, page := b.post("/language", url.Values{"csrf": {hidden(page).Get("csrf")}, "lang": {"en"}, "back": {back}})
	if resp.StatusCode != http.StatusOK || pageLang(t, page) != "en" || !strings.Contains(page, id) {
		t.Errorf("choosing English within a sign-in that asked for ru: %d, lang %s", resp.StatusCode, pageLang(t, page))
	}

	// A page answering a POST: the two-factor set-up after "Turn on".
	signInDirectly(t, b, "switcher", "switch-languages-1")
	_, page = formPost(t, b, "/profile/2fa", "/profile/2fa/start")
	if back := switcherBack(t, page); back != "/profile/2fa" {
		t.Errorf("after Turn on the switcher returns to %q", back)
	}
	resp, _ = b.post("/language", url.Values{"csrf": {hidden(page).Get("csrf")}, "lang": {"sv"}, "back": {switcherBack(t, page)}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("switching after Turn on: %d", resp.StatusCode)
	}
}
