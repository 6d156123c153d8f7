package main

import (
	"net/http"
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
