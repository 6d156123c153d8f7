package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Review of issue 13 (required actions, temporary passwords, locked fields): attacks on
// the doors, each a defect found and fixed.

// devMatch waits for the development sink's message to an address and returns re's first
// group in it.
func devMatch(t *testing.T, to string, re *regexp.Regexp) string {
	t.Helper()
	db := openDB(t)
	var out string
	waitFor(t, func() bool {
		msgs, err := db.DevMessages(context.Background(), 200)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Recipient == to {
				if c := re.FindStringSubmatch(m.Body); c != nil {
					out = c[1]
					return true
				}
			}
		}
		return false
	})
	return out
}

// TestLockedContactCanBeConfirmed: an email address the organisation locks is still
// the person's to confirm. The confirm_email step of a locked, unconfirmed address sends
// the code to it and the person goes on (they were stuck for ever: the step refused its own
// address as a change of a locked field), and the administrator's contact-confirmation
// request reaches them. A different address is still refused, naming the organisation.
func TestLockedContactCanBeConfirmed(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_CONFIG", locksConfig(t))
	db := openDB(t)
	org := setupOrg(t, "review-confirm", "Review Confirm")
	const pw = "review-confirm-pw-1"
	person := setupUser(t, "review-confirmer", pw) // registration method admin: email locked
	joinOrg(t, org, person, true, "")
	mustExec(t, db, `UPDATE accounts SET email_verified = false, nickname = 'rc', required_actions = '{confirm_email}' WHERE id = $1`, person)
	adminB, _, _ := consoleAdmin(t, srv, "review-confirm-admin", "org_admin", org)
	admin := &apiCaller{name: "admin", b: adminB}

	// The administrator asks for the confirmation: the code goes out.
	if s, out := admin.call(t, srv, http.MethodPost, "/admin/orgs/review-confirm/members/"+person+"/contact-confirmation",
		map[string]any{"email": true}); s/100 != 2 {
		t.Errorf("the administrator's confirmation request: %d %v", s, out)
	}

	b := newBrowser(t, srv)
	resp, page := signinForm(t, b, "review-confirmer", pw)
	atStep(t, "after the password", resp, page, "/signin/actions/email")
	// Another address: refused, naming the organisation.
	resp, body := b.post("/signin/actions/email/send", with(hidden(page), "email", "elsewhere@example.com"))
	if !strings.Contains(body, "is managed by Review Confirm") {
		t.Errorf("another address in the step: %d %.300s", resp.StatusCode, body)
	}
	// Its own address: a code is sent (a resend after the administrator's).
	mustExec(t, db, `UPDATE contact_changes SET last_sent_at = last_sent_at - interval '10 minutes' WHERE account_id = $1`, person)
	resp, page = b.post("/signin/actions/email/send", with(hidden(page), "email", "review-confirmer@example.com"))
	atStep(t, "after sending", resp, page, "/signin/actions/email")
	if strings.Contains(page, "is managed by") {
		t.Fatalf("the step refused the person's own address: %.400s", alertOnPage.FindString(page))
	}
	// The newest of the two codes (the administrator's, then the step's): the worker may
	// not have delivered the second yet.
	code := devCodeOf(t, db, "review-confirmer@example.com", 2)
	resp, page = b.post("/signin/actions/email/confirm", with(hidden(page), "code", code))
	if resp.Request.URL.Path != "/profile" {
		t.Errorf("after the code: %s %.300s", resp.Request.URL, alertOnPage.FindString(page))
	}
	if got := dbString(t, db, `SELECT email || ' ' || email_verified FROM accounts WHERE id = $1`, person); got != "review-confirmer@example.com true" {
		t.Errorf("the address after confirming: %q", got)
	}
}

// TestRelockStopsAChangeUnderWay: a change of an unlocked email address started
// before the administrator locked it again cannot be confirmed afterwards, neither by the
// code nor by the email's link; the address stays, and the refusal names the organisation.
func TestRelockStopsAChangeUnderWay(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_CONFIG", locksConfig(t))
	db := openDB(t)
	org := setupOrg(t, "review-relock", "Review Relock")
	const pw = "review-relock-pw-1"
	person := setupUser(t, "review-relocked", pw)
	joinOrg(t, org, person, true, "")
	mustExec(t, db, `UPDATE accounts SET nickname = 'rr' WHERE id = $1`, person)
	adminB, _, _ := consoleAdmin(t, srv, "review-relock-admin", "org_admin", org)
	admin := &apiCaller{name: "admin", b: adminB}
	unlocks := "/admin/orgs/review-relock/members/" + person + "/unlocks/email"
	pb := newBrowser(t, srv)
	signInDirectly(t, pb, "review-relocked", pw)

	for _, how := range []string{"code", "link"} {
		admin.mustCall(t, srv, http.StatusOK, http.MethodPut, unlocks, map[string]any{"until": nil})
		to := "moved-" + how + "@example.com"
		mustExec(t, db, `UPDATE contact_changes SET last_sent_at = last_sent_at - interval '10 minutes' WHERE account_id = $1`, person)
		if s, out := api(t, pb, http.MethodPost, "/me/email", "", map[string]any{"email": to}); s/100 != 2 {
			t.Fatalf("%s: the change while unlocked: %d %v", how, s, out)
		}
		admin.mustCall(t, srv, http.StatusOK, http.MethodDelete, unlocks, nil)
		var said string
		if how == "code" {
			s, out := api(t, pb, http.MethodPost, "/me/email/confirm", "", map[string]any{"code": devCode(t, db, to)})
			said = toJSON(out)
			if s/100 == 2 {
				t.Errorf("code: confirmed after the re-lock: %d", s)
			}
		} else {
			link := devMatch(t, to, linkInMail)
			mail := newBrowser(t, srv)
			_, page := mail.get(link)
			resp, body := mail.post("/confirm/email", hidden(page))
			said = body
			if resp.StatusCode/100 == 2 {
				t.Errorf("link: confirmed after the re-lock: %d", resp.StatusCode)
			}
		}
		if !strings.Contains(said, "Review Relock") {
			t.Errorf("%s: the refusal does not name the organisation: %.300s", how, said)
		}
		if got := dbString(t, db, `SELECT email FROM accounts WHERE id = $1`, person); got != "review-relocked@example.com" {
			t.Fatalf("%s: the locked address changed to %q", how, got)
		}
	}
}

// TestUnlockUntilFarAway: an unlock's end must stay within reach: the console's
// "until 9999-12-31" (the unlock ends when that day ends, in the year 10000) and the API's
// end past the year 9999 in UTC are refused with a message, and the account stays readable
// (it was stored, and every read of the account failed: the person could not sign in, the
// administrator could not open the member page to undo it).
func TestUnlockUntilFarAway(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_CONFIG", locksConfig(t))
	db := openDB(t)
	org := setupOrg(t, "review-until", "Review Until")
	const pw = "review-until-pw-1"
	person := setupUser(t, "review-until", pw)
	joinOrg(t, org, person, true, "")
	adminB, _, _ := consoleAdmin(t, srv, "review-until-admin", "org_admin", org)
	admin := &apiCaller{name: "admin", b: adminB}
	member := "/admin/orgs/review-until/members/" + person

	resp, body := consolePost(t, adminB, member+"/unlock", member, map[string][]string{"field": {"given_name"}, "until": {"9999-12-31"}})
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("console unlock until 9999-12-31: %d %.300s", resp.StatusCode, body)
	}
	if s, out := admin.call(t, srv, http.MethodPut, "/admin/orgs/review-until/members/"+person+"/unlocks/family_name",
		map[string]any{"until": "9999-12-31T23:30:00-01:00"}); s != http.StatusUnprocessableEntity {
		t.Errorf("API unlock past the year 9999: %d %v", s, out)
	}
	if got := dbString(t, db, `SELECT field_unlocks::text FROM accounts WHERE id = $1`, person); got != "{}" {
		t.Errorf("stored: %s", got)
	}
	if resp, _ := adminB.get(srv.URL + member); resp.StatusCode != http.StatusOK {
		t.Errorf("the member page: %d", resp.StatusCode)
	}
	b := newBrowser(t, srv)
	if resp, _ := signinForm(t, b, "review-until", pw); resp.StatusCode != http.StatusOK {
		t.Errorf("the person's sign-in: %d", resp.StatusCode)
	}
	// A reasonable end still works.
	resp, body = consolePost(t, adminB, member+"/unlock", member, map[string][]string{"field": {"given_name"},
		"until": {time.Now().AddDate(1, 0, 0).Format(time.DateOnly)}})
	consoleWantRedirect(t, "console unlock for a year", resp, body, member+"?locks=unlocked")
}

// TestGateHoldsOnEveryCookieDoor: while a required action is pending, the cookie
// session reaches no account API call (reads, writes, export, events, schema, password,
// deletion) and no admin API call; signing out still works. Checked, held.
func TestGateHoldsOnEveryCookieDoor(t *testing.T) {
	srv := startServer(t, "")
	db := openDB(t)
	id := setupSelfUser(t, "review-gated", "review-gated-pw-1")
	mustExec(t, db, `UPDATE accounts SET required_actions = '{change_password}' WHERE id = $1`, id)
	b := newBrowser(t, srv)
	resp, page := signinForm(t, b, "review-gated", "review-gated-pw-1")
	atStep(t, "sign-in", resp, page, "/signin/actions/password")
	caller := &apiCaller{name: "gated", b: b, csrf: hidden(page).Get("csrf")}
	before := locksRow(t, id)
	for _, x := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/me", nil}, {http.MethodPatch, "/me", map[string]any{"nickname": "gate"}},
		{http.MethodGet, "/me/export", nil}, {http.MethodGet, "/me/events", nil}, {http.MethodGet, "/me/profile/schema", nil},
		{http.MethodPost, "/me/password", map[string]any{"current_password": "review-gated-pw-1", "new_password": "gate-skipped-22"}},
		{http.MethodPost, "/me/email", map[string]any{"email": "gate@example.com"}}, {http.MethodDelete, "/me/sessions", nil},
		{http.MethodPatch, "/me/publicity", map[string]any{"nickname": "private"}}, {http.MethodDelete, "/me", nil},
		{http.MethodGet, "/admin/orgs", nil},
	} {
		if s, out := caller.call(t, srv, x.method, x.path, x.body); s != http.StatusForbidden {
			t.Errorf("%s %s: %d %v", x.method, x.path, s, out)
		}
	}
	if after := locksRow(t, id); after != before {
		t.Errorf("a gated call changed the account:\n%s\n%s", before, after)
	}
	if list, _ := actionsOf(t, id); list != "change_password" {
		t.Errorf("the list: %q", list)
	}
	if resp, _ := b.post("/signout", hidden(page)); resp.StatusCode >= 400 {
		t.Errorf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ := b.get(srv.URL + "/signin/actions/password"); resp.Request.URL.Path != "/signin" {
		t.Errorf("after signing out the step is at %s", resp.Request.URL)
	}
}

// TestOldSessionIsAskedThePassword: a session signed in long ago (an administrator
// set change_password afterwards) must give the current password at the step: without it,
// or with a wrong one, nothing changes; with it, the password is replaced. Checked, held.
func TestOldSessionIsAskedThePassword(t *testing.T) {
	srv := startServer(t, "")
	db := openDB(t)
	id := setupSelfUser(t, "review-old", "review-old-pw-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "review-old", "review-old-pw-1")
	mustExec(t, db, `UPDATE sessions SET auth_time = auth_time - interval '2 hours' WHERE account_id = $1`, id)
	mustExec(t, db, `UPDATE accounts SET required_actions = '{change_password}' WHERE id = $1`, id)
	resp, page := b.get(srv.URL + "/profile")
	atStep(t, "the cabinet", resp, page, "/signin/actions/password")
	if !strings.Contains(page, `name="current_password"`) {
		t.Fatal("the step of an old session does not ask the password")
	}
	hash := dbString(t, db, `SELECT password_hash FROM accounts WHERE id = $1`, id)
	for _, current := range []string{"", "not-it-at-all-3"} {
		resp, _ := b.post("/signin/actions/password", with(hidden(page), "current_password", current,
			"new_password", "review-new-pw-2", "repeat_password", "review-new-pw-2"))
		if resp.StatusCode != http.StatusBadRequest || dbString(t, db, `SELECT password_hash FROM accounts WHERE id = $1`, id) != hash {
			t.Errorf("current password %q: %d, or the password changed", current, resp.StatusCode)
		}
	}
	resp, page = b.post("/signin/actions/password", with(hidden(page), "current_password", "review-old-pw-1",
		"new_password", "review-new-pw-2", "repeat_password", "review-new-pw-2"))
	if resp.Request.URL.Path != "/profile" {
		t.Errorf("with the password: %s %.200s", resp.Request.URL, alertOnPage.FindString(page))
	}
}
