package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/passport"
)

// Required actions after sign-in (SPEC §6) and temporary passwords, from outside: a real
// application (go-oidc), the sign-in form, the steps, the cabinet, the admin API.

// actionsOf reads an account's stored required actions and whether its password expires.
func actionsOf(t *testing.T, id string) (string, bool) {
	t.Helper()
	var list string
	var expires bool
	if err := openDB(t).Pool().QueryRow(context.Background(),
		`SELECT array_to_string(required_actions, ','), password_expires_at IS NOT NULL FROM accounts WHERE id = $1`, id).Scan(&list, &expires); err != nil {
		t.Fatal(err)
	}
	// In the order the actions run, whatever order they were stored in.
	var ordered []string
	for _, x := range passport.Actions {
		if slices.Contains(strings.Split(list, ","), x) {
			ordered = append(ordered, x)
		}
	}
	return strings.Join(ordered, ","), expires
}

var alertOnPage = regexp.MustCompile(`role="alert">[^<]*<`)

// atStep fails unless the browser ended on path (a step's page).
func atStep(t *testing.T, what string, resp *http.Response, page, path string) {
	t.Helper()
	if resp.Request.URL.Path != path {
		if m := alertOnPage.FindStringSubmatch(page); m != nil {
			page = m[0]
		}
		t.Fatalf("%s: ended at %s (%d), want %s: %.300s", what, resp.Request.URL, resp.StatusCode, path, page)
	}
}

// TestRequiredActionsInOrder: an account with a temporary password and every action set
// signs in to an application: each step comes in order, no later step (nor consent, nor the
// code) can be reached first, prompt=none answers interaction_required, and once every step
// is done the code is issued, the list is empty and the temporary password is dead.
func TestRequiredActionsInOrder(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_PROFILE_REQUIRED_FIELDS", "nickname")
	secret := setupClient(t, "actions-web")
	id := setupSelfUser(t, "actions-person", "issued-password-1")
	db := openDB(t)
	mustExec(t, db, `UPDATE accounts SET email_verified = false, password_expires_at = now() + interval '7 days',
		required_actions = '{enrol_two_factor,fill_required,confirm_email,change_password}' WHERE id = $1`, id)
	rp := newRP(t, srv, "actions-web", secret, "profile")
	b := newBrowser(t, srv)

	v := oauth2.GenerateVerifier()
	_, page := b.get(rp.authURL("a", v))
	form := hidden(page)
	form.Set("login", "actions-person")
	form.Set("password", "issued-password-1")
	resp, page := b.post("/signin", form)
	atStep(t, "after the password", resp, page, "/signin/actions/password")
	reqID := resp.Request.URL.Query().Get("authRequestID")
	if reqID == "" {
		t.Fatal("the step lost the application's request")
	}

	// Every later door, posted first: refused, back at the first pending step, nothing done.
	attack := func(when, want string) {
		t.Helper()
		for _, path := range []string{"/signin/actions/email/send", "/signin/actions/email/confirm", "/signin/complete",
			"/signin/actions/profile", "/signin/actions/2fa", "/signin/2fa-setup", "/consent", "/signin/actions/password"} {
			if strings.HasPrefix(path, want) || (want == "/signin/complete" && path == "/signin/actions/profile") {
				continue // the step due itself
			}
			f := url.Values{"csrf": {hidden(page).Get("csrf")}, "authRequestID": {reqID}, "nickname": {"skipper"},
				"code": {"123456"}, "decision": {"allow"}, "new_password": {"skipped-it-1"}, "repeat_password": {"skipped-it-1"},
				"email": {"elsewhere@example.com"}}
			resp, body := b.post(path, f)
			if loc := resp.Header.Get("Location"); strings.Contains(loc, "code=") || resp.Request.URL.Path != want {
				t.Errorf("%s: POST %s ended at %s (Location %q): %.200s", when, path, resp.Request.URL, loc, body)
			}
			for _, get := range []string{"/signin/actions/email", "/signin/actions/2fa", "/consent"} {
				if strings.HasPrefix(get, want) {
					continue
				}
				if resp, _ := b.get(srv.URL + get + "?authRequestID=" + reqID); resp.Request.URL.Path != want {
					t.Errorf("%s: GET %s ended at %s", when, get, resp.Request.URL)
				}
			}
		}
		// prompt=none while anything is pending.
		resp, _ := b.get(rp.authURL("n", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none")))
		if q := redirectParams(t, resp, rpCallback); q.Get("error") != "interaction_required" || q.Get("code") != "" {
			t.Errorf("%s: prompt=none: %v", when, q)
		}
		// The cabinet is closed too.
		cabinetWant := want
		if want == "/signin/complete" {
			cabinetWant = "/signin/actions/profile" // the same step without an application
		}
		if resp, _ := b.get(srv.URL + "/profile"); resp.Request.URL.Path != cabinetWant {
			t.Errorf("%s: the cabinet opened at %s", when, resp.Request.URL)
		}
	}
	attack("before the password", "/signin/actions/password")
	if list, _ := actionsOf(t, id); list != "change_password,confirm_email,fill_required,enrol_two_factor" {
		t.Fatalf("after the attacks the list is %q", list)
	}
	if totpEnabled(t, "actions-person") {
		t.Fatal("two factors were turned on by a skipped step")
	}

	// 1. The new password: mistakes first.
	_, page = b.get(srv.URL + "/signin/actions/password?authRequestID=" + reqID)
	for _, bad := range [][2]string{{"short1", "short1"}, {"own-password-22", "own-password-23"}, {"issued-password-1", "issued-password-1"}} {
		f := hidden(page)
		f.Set("new_password", bad[0])
		f.Set("repeat_password", bad[1])
		if resp, _ := b.post("/signin/actions/password", f); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("new password %q/%q: got %d, want 400", bad[0], bad[1], resp.StatusCode)
		}
	}
	f := hidden(page)
	f.Set("new_password", "own-password-22")
	f.Set("repeat_password", "own-password-22")
	resp, page = b.post("/signin/actions/password", f)
	atStep(t, "after the password change", resp, page, "/signin/actions/email")
	if list, expires := actionsOf(t, id); list != "confirm_email,fill_required,enrol_two_factor" || expires {
		t.Fatalf("after the change: %q, expires %v", list, expires)
	}
	// The session goes on; the temporary password no longer signs in.
	other := newBrowser(t, srv)
	if _, p := signinForm(t, other, "actions-person", "issued-password-1"); !strings.Contains(p, "Wrong login or password.") {
		t.Errorf("the temporary password still works: %.300s", p)
	}
	attack("before the email", "/signin/actions/email")

	// 2. The email address: a code to the account's own, unconfirmed address.
	_, page = b.get(srv.URL + "/signin/actions/email?authRequestID=" + reqID)
	resp, page = b.post("/signin/actions/email/send", with(hidden(page), "email", "actions-person@example.com"))
	atStep(t, "after sending the code", resp, page, "/signin/actions/email")
	code := devCode(t, db, "actions-person@example.com")
	if resp, _ := b.post("/signin/actions/email/confirm", with(hidden(page), "code", "000000")); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a wrong code: got %d, want 400", resp.StatusCode)
	}
	resp, page = b.post("/signin/actions/email/confirm", with(hidden(page), "code", code))
	atStep(t, "after the email", resp, page, "/signin/complete")
	attack("before the required fields", "/signin/complete")

	// 3. The required fields.
	_, page = b.get(srv.URL + "/signin/complete?authRequestID=" + reqID)
	resp, page = b.post("/signin/complete", with(hidden(page), "nickname", "finisher"))
	atStep(t, "after the required fields", resp, page, "/signin/actions/2fa")
	attack("before two factors", "/signin/actions/2fa")

	// 4. Two factors.
	_, page = b.get(srv.URL + "/signin/actions/2fa?authRequestID=" + reqID)
	m := secretOnPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no key on the two-factor step: %.400s", page)
	}
	if resp, _ := b.post("/signin/actions/2fa", with(hidden(page), "code", wrongCode(t, m[1]))); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a wrong TOTP code: got %d", resp.StatusCode)
	}
	totpCode, _ := totp.GenerateCode(m[1], time.Now())
	_, page = b.post("/signin/actions/2fa", with(hidden(page), "code", totpCode))
	if len(recoveryOnPage.FindAllStringSubmatch(page, -1)) != 10 {
		t.Fatalf("no recovery codes after enrolment: %.400s", page)
	}
	if list, _ := actionsOf(t, id); list != "" {
		t.Errorf("after every step the list is %q", list)
	}

	// On to consent and the code.
	resp, page = b.get(srv.URL + "/signin?authRequestID=" + reqID)
	for step := 0; step < 3 && !strings.HasPrefix(resp.Header.Get("Location"), rpCallback); step++ {
		if !strings.Contains(page, `action="/consent"`) {
			t.Fatalf("after the steps: %s %.300s", resp.Request.URL, page)
		}
		resp, page = b.post("/consent", with(hidden(page), "decision", "allow"))
	}
	q := redirectParams(t, resp, rpCallback)
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	if _, err := rp.exchange(q.Get("code"), v); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	// The cabinet opens now.
	if resp, page := b.get(srv.URL + "/profile"); resp.Request.URL.Path != "/profile" || !strings.Contains(page, `id="main-info"`) {
		t.Errorf("the cabinet after the steps: %s", resp.Request.URL)
	}
}

// with returns the form v with the pairs kv set.
func with(v url.Values, kv ...string) url.Values {
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// TestTemporaryPasswordExpires: an expired temporary password is refused with its own
// message once the password is right (a wrong one answers as ever), recorded as a failed
// sign-in; an application gets no code.
func TestTemporaryPasswordExpires(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "expired-temp", "issued-password-2")
	db := openDB(t)
	mustExec(t, db, `UPDATE accounts SET required_actions = '{change_password}', password_expires_at = now() - interval '1 minute' WHERE id = $1`, id)
	since := lastEventID(t, db)
	b := newBrowser(t, srv)
	resp, page := signinForm(t, b, "expired-temp", "issued-password-2")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Your temporary password has expired. Ask your administrator for new login details.") {
		t.Errorf("expired: %d %.300s", resp.StatusCode, page)
	}
	if resp, page := signinForm(t, b, "expired-temp", "not-the-password-3"); resp.StatusCode != http.StatusUnauthorized ||
		strings.Contains(page, "temporary") {
		t.Errorf("a wrong password for an expired account tells more: %d %.300s", resp.StatusCode, page)
	}
	if signedIn(t, b) {
		t.Error("a session was started")
	}
	found := false
	for _, e := range eventsSince(t, db, since, id) {
		if e.Type == passport.EventSigninFailed && strings.Contains(e.Text, `"factor": "expired"`) {
			found = true
		}
	}
	if !found {
		t.Error("no signin.failed event with factor expired")
	}
	// Not yet expired: it signs in, straight to the change.
	mustExec(t, db, `UPDATE accounts SET password_expires_at = now() + interval '1 hour' WHERE id = $1`, id)
	if resp, page := signinForm(t, newBrowser(t, srv), "expired-temp", "issued-password-2"); resp.Request.URL.Path != "/signin/actions/password" {
		t.Errorf("before the expiry: ended at %s: %.300s", resp.Request.URL, page)
	}
}

// TestCabinetSignInRunsRequiredActions: signing in to Passport itself runs the steps before
// the cabinet opens; sign-out stays reachable; the organisation's two-factor policy and an
// administrator's list, set through the admin API (foreign ids 404, unknown action refused),
// apply at once.
func TestCabinetSignInRunsRequiredActions(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_ADMIN_REQUIRE_TWO_FACTOR", "false")
	db := openDB(t)
	orgA, orgB := setupOrg(t, "actions-a", "Actions A"), setupOrg(t, "actions-b", "Actions B")
	adminID := setupUser(t, "actions-admin", "admin-password-4")
	grantAdmin(t, adminID, passport.RoleOrgAdmin, orgA)
	member := setupSelfUser(t, "actions-member", "member-password-5")
	joinOrg(t, orgA, member, true, "")
	stranger := setupSelfUser(t, "actions-stranger", "stranger-password-6")
	joinOrg(t, orgB, stranger, true, "")
	admin := adminCookie(t, srv, "admin", "actions-admin", "admin-password-4", orgA)

	// The admin API: scope, validation, the change.
	admin.mustCall(t, srv, http.StatusNotFound, http.MethodPut, "/admin/orgs/"+orgB+"/members/"+stranger+"/required-actions",
		map[string]any{"actions": []string{"change_password"}})
	admin.mustCall(t, srv, http.StatusNotFound, http.MethodPut, "/admin/orgs/"+orgA+"/members/"+stranger+"/required-actions",
		map[string]any{"actions": []string{"change_password"}})
	admin.mustCall(t, srv, http.StatusNotFound, http.MethodPut, "/admin/orgs/"+orgB+"/two-factor-policy", map[string]any{"require_two_factor": true})
	if status, _ := admin.call(t, srv, http.MethodPut, "/admin/orgs/"+orgA+"/members/"+member+"/required-actions",
		map[string]any{"actions": []string{"change_password", "format_disk"}}); status/100 != 4 {
		t.Errorf("unknown action: %d", status)
	}
	if list, _ := actionsOf(t, stranger); list != "" {
		t.Fatalf("the stranger's list: %q", list)
	}
	if list, _ := actionsOf(t, member); list != "" {
		t.Fatalf("a refused change was written: %q", list)
	}
	since := lastEventID(t, db)
	out := admin.mustCall(t, srv, http.StatusOK, http.MethodPut, "/admin/orgs/"+orgA+"/members/"+member+"/required-actions",
		map[string]any{"actions": []string{"confirm_phone", "change_password"}})
	if got, _ := out["actions"].([]any); len(got) != 2 || got[0] != "change_password" || got[1] != "confirm_phone" {
		t.Errorf("answer: %v", out)
	}
	out = admin.mustCall(t, srv, http.StatusOK, http.MethodPut, "/admin/orgs/"+orgA+"/two-factor-policy", map[string]any{"require_two_factor": true})
	if out["require_two_factor"] != true {
		t.Errorf("policy answer: %v", out)
	}
	types := map[string]bool{}
	for _, e := range eventsSince(t, db, since, member) {
		types[e.Type] = true
	}
	if !types[passport.EventRequiredActionsChanged] {
		t.Errorf("the member's events: %v", types)
	}

	// The member signs in to Passport itself: the steps, then the cabinet.
	b := newBrowser(t, srv)
	resp, page := signinForm(t, b, "actions-member", "member-password-5")
	atStep(t, "cabinet sign-in", resp, page, "/signin/actions/password")
	for _, path := range []string{"/profile", "/profile/edit", "/profile/2fa", "/profile/sessions"} {
		if resp, _ := b.get(srv.URL + path); resp.Request.URL.Path != "/signin/actions/password" {
			t.Errorf("GET %s ended at %s", path, resp.Request.URL)
		}
	}
	if resp, _ := b.post("/profile/edit", with(hidden(page), "nickname", "sneaky")); resp.Request.URL.Path != "/signin/actions/password" {
		t.Errorf("POST /profile/edit ended at %s", resp.Request.URL)
	}
	if resp, _ := b.get(srv.URL + "/signout"); resp.StatusCode != http.StatusOK {
		t.Errorf("sign-out page: %d", resp.StatusCode)
	}
	resp, page = b.post("/signin/actions/password", with(hidden(page), "new_password", "member-own-77", "repeat_password", "member-own-77"))
	atStep(t, "after the password", resp, page, "/signin/actions/phone")
	// The phone step: a number typed, a code by SMS.
	resp, page = b.post("/signin/actions/phone/send", with(hidden(page), "phone", "+37251234567"))
	atStep(t, "after sending the SMS", resp, page, "/signin/actions/phone")
	code := devCode(t, db, "+37251234567")
	resp, page = b.post("/signin/actions/phone/confirm", with(hidden(page), "code", code))
	// The organisation's policy: two factors, asking the password (the step is fresh: no).
	atStep(t, "after the phone", resp, page, "/signin/actions/2fa")
	m := secretOnPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no key: %.300s", page)
	}
	totpCode, _ := totp.GenerateCode(m[1], time.Now())
	_, page = b.post("/signin/actions/2fa", with(hidden(page), "code", totpCode))
	if len(recoveryOnPage.FindAllStringSubmatch(page, -1)) != 10 {
		t.Fatalf("no recovery codes: %.300s", page)
	}
	if resp, page := b.get(srv.URL + "/profile"); resp.Request.URL.Path != "/profile" || !strings.Contains(page, `id="main-info"`) {
		t.Errorf("the cabinet after the steps: %s", resp.Request.URL)
	}
	if list, _ := actionsOf(t, member); list != "" {
		t.Errorf("list after the steps: %q", list)
	}
	// Clearing the policy and the list is allowed; the admin console's form works too.
	admin.mustCall(t, srv, http.StatusOK, http.MethodPut, "/admin/orgs/"+orgA+"/two-factor-policy", map[string]any{"require_two_factor": false})
}
