package main

import (
	"net/http"
	"strings"
	"testing"
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
