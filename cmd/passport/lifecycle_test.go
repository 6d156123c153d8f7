package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/jobs"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// TestDeletionAndRestore: a deleted account cannot sign in to applications (access_denied,
// with a page that explains how to restore), and signing in to the cabinet restores it.
func TestDeletionAndRestore(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	secret := setupClient(t, "del-web")
	leavingID := setupSelfUser(t, "leaving", "goodbye-for-now-1")
	rp := newRP(t, srv, "del-web", secret, "email", "offline_access")
	b := newBrowser(t, srv)
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(b, "d1", v, "leaving", "goodbye-for-now-1"), v)
	if err != nil {
		t.Fatal(err)
	}

	if resp, page := formPost(t, b, "/profile/delete", "/profile/delete", "password", "wrong-password-0"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "not your password") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	_, page := formPost(t, b, "/profile/delete", "/profile/delete", "password", "goodbye-for-now-1")
	if !strings.Contains(page, "Your account will be deleted") {
		t.Fatalf("after deleting: %.300s", page)
	}
	if m := mb.wait(t, "leaving@example.com"); !strings.Contains(m.Subject, "will be deleted") || !strings.Contains(m.Text, "/signin") {
		t.Errorf("deletion notice: %+v", m)
	}
	if resp, _ := b.get(srv.URL + "/profile"); resp.Request.URL.Path != "/signin" {
		t.Error("still signed in after deleting")
	}
	rp.grantRevoked(t, tok, secret, "deletion")

	// Through the application: refused with an explanation, then access_denied.
	_, page = b.get(rp.authURL("d2", oauth2.GenerateVerifier()))
	form := hidden(page)
	form.Set("login", "leaving")
	form.Set("password", "goodbye-for-now-1")
	resp, page := b.post("/signin", form)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "scheduled for deletion") || !strings.Contains(page, "Restore account") {
		t.Fatalf("application sign-in of a deleted account: %d %.300s", resp.StatusCode, page)
	}
	resp, _ = b.post("/signin/cancel", hidden(page))
	if q := redirectParams(t, resp, rpCallback); q.Get("error") != "access_denied" || q.Get("state") != "d2" {
		t.Errorf("at the application: %v", q)
	}

	// In the cabinet: offered to restore.
	_, page = signinForm(t, b, "leaving", "goodbye-for-now-1")
	if !strings.Contains(page, "Restore your account?") {
		t.Fatalf("cabinet sign-in: %.300s", page)
	}
	resp, page = b.post("/account/restore", hidden(page))
	if resp.Request.URL.Path != "/profile" || !strings.Contains(page, "Your account is restored") {
		t.Fatalf("after restoring: %s %.300s", resp.Request.URL, page)
	}
	if m := mb.wait(t, "leaving@example.com"); !strings.Contains(m.Subject, "restored") {
		t.Errorf("restore notice: %+v", m)
	}
	v = oauth2.GenerateVerifier()
	if _, err := rp.exchange(rp.signIn(b, "d3", v, "", ""), v); err != nil {
		t.Errorf("application sign-in after restoring: %v", err)
	}
	var held int
	if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE kind = 'account_deleted' AND account_id = $1`, leavingID).Scan(&held); err != nil || held != 0 {
		t.Errorf("the final email is still waiting after the restore: %d", held)
	}
}

// TestPurgeLeavesNoPersonalData: after the grace period the purge job erases everything
// personal from every table; the id stays as a tombstone and the login is free again.
func TestPurgeLeavesNoPersonalData(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	secret := setupClient(t, "purge-web")
	id := setupSelfUser(t, "Vanishing.Person", "erase-me-entirely-9")
	b := newBrowser(t, srv)
	rp := newRP(t, srv, "purge-web", secret, "profile", "email", "offline_access")
	v := oauth2.GenerateVerifier()
	if _, err := rp.exchange(rp.signIn(b, "p", v, "Vanishing.Person", "erase-me-entirely-9"), v); err != nil {
		t.Fatal(err)
	}
	// Leave traces everywhere: a photo, a nickname, a birth date, a phone change waiting, a
	// failed sign-in counter, two-factor authentication.
	api(t, b, http.MethodPatch, "/me", "", map[string]any{"nickname": "ghostly-nick", "birthdate": "1950-05-05"})
	api(t, b, http.MethodPut, "/me/photo", "", pngImage(t, 16, 16))
	api(t, b, http.MethodPost, "/me/email", "", map[string]any{"email": "vanishing.new@example.org"})
	mb.wait(t, "vanishing.new@example.org")
	signinForm(t, newBrowser(t, srv), "Vanishing.Person", "wrong-password-1")
	_, enrol := api(t, b, http.MethodPost, "/me/2fa", "", nil)
	code, _ := totp.GenerateCode(enrol["secret"].(string), time.Now())
	if s, out := api(t, b, http.MethodPost, "/me/2fa/enable", "", map[string]any{"code": code}); s != http.StatusUnprocessableEntity {
		t.Fatalf("enabling without the password: %d %v", s, out)
	}
	if s, out := api(t, b, http.MethodPost, "/me/2fa/enable", "", map[string]any{"code": code, "password": "erase-me-entirely-9"}); s != http.StatusOK {
		t.Fatalf("2fa: %d %v", s, out)
	}
	code2, _ := totp.GenerateCode(enrol["secret"].(string), time.Now().Add(30*time.Second))
	if s, out := api(t, b, http.MethodDelete, "/me", "", map[string]any{"password": "erase-me-entirely-9", "code": code2}); s != http.StatusAccepted {
		t.Fatalf("delete: %d %v", s, out)
	}
	mb.waitSubject(t, "vanishing.person@example.com", "will be deleted")

	// Nothing happens before the grace period ends.
	ctx := context.Background()
	clock, err := postgres.Open(ctx, testDB, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer clock.Close()
	// Other tests of this package leave accounts waiting for deletion too: this one's status
	// tells, not the count.
	accountStatus := func() string {
		var s string
		if err := clock.Pool().QueryRow(ctx, `SELECT status FROM accounts WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := jobs.Purge(ctx, clock); err != nil || accountStatus() != passport.StatusPendingDeletion {
		t.Fatalf("purge before the grace period: %s %v", accountStatus(), err)
	}
	clock.Now = func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	if n, err := jobs.Purge(ctx, clock); err != nil || n < 1 || accountStatus() != passport.StatusDeleted {
		t.Fatalf("purge after the grace period: %d %s %v", n, accountStatus(), err)
	}
	mb.waitSubject(t, "vanishing.person@example.com", "was deleted")
	waitFor(t, func() bool {
		var n int
		_ = clock.Pool().QueryRow(ctx, `SELECT count(*) FROM messages WHERE recipient <> '' AND account_id = $1`, id).Scan(&n)
		return n == 0
	})

	// Look in every row of every table for anything that was this person's.
	traces := []string{"vanishing", "Vanishing", "ghostly-nick", "1950-05-05"}
	tables, err := clock.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		_ = tables.Scan(&n)
		names = append(names, n)
	}
	for _, table := range names {
		rows, err := clock.Pool().Query(ctx, `SELECT row_to_json(t)::text FROM `+table+` t`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			_ = rows.Scan(&row)
			for _, trace := range traces {
				if strings.Contains(row, trace) {
					t.Errorf("%s still holds %q: %s", table, trace, row)
				}
			}
		}
	}
	var photos, totps int
	_ = clock.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM photos WHERE account_id = $1), (SELECT count(*) FROM totp WHERE account_id = $1)`, id).Scan(&photos, &totps)
	if photos+totps != 0 {
		t.Errorf("photo or TOTP secret left: %d %d", photos, totps)
	}
	var status string
	var login *string
	if err := clock.Pool().QueryRow(ctx, `SELECT status, login FROM accounts WHERE id = $1`, id).Scan(&status, &login); err != nil || status != "deleted" || login != nil {
		t.Errorf("tombstone: status %q login %v (%v)", status, login, err)
	}
	if _, err := clock.Pool().Exec(ctx, `INSERT INTO accounts (id, login, login_folded) VALUES ($1, 'x-reuse', 'x-reuse')`, id); err == nil {
		t.Error("the tombstone's id was issued again")
	}
	newID := setupSelfUser(t, "vanishing.person", "a-new-person-here-1")
	if newID == id {
		t.Error("the new account got the old id")
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if ok() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

var secretOnPage = regexp.MustCompile(`id="totp-secret" class="mono-wrap">([A-Z2-7]+)<`)
var recoveryOnPage = regexp.MustCompile(`<li><code>([a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5})</code></li>`)

// enrol turns two factors on in the cabinet and returns the secret and recovery codes.
func enrol(t *testing.T, b *browser) (string, []string) {
	t.Helper()
	page := turnOn(t, b)
	m := secretOnPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no secret on the page: %.500s", page)
	}
	code, _ := totp.GenerateCode(m[1], time.Now())
	form := hidden(page)
	form.Set("code", code)
	form.Set("password", b.password)
	_, page = b.post("/profile/2fa", form)
	var codes []string
	for _, rc := range recoveryOnPage.FindAllStringSubmatch(page, -1) {
		codes = append(codes, rc[1])
	}
	if len(codes) != 10 {
		t.Fatalf("recovery codes: %d on %.400s", len(codes), page)
	}
	return m[1], codes
}

// secondStep signs in with the password and returns the code page.
func secondStep(t *testing.T, b *browser, login, password string) string {
	t.Helper()
	_, page := signinForm(t, b, login, password)
	if !strings.Contains(page, "Two-factor authentication") {
		t.Fatalf("no second step: %.300s", page)
	}
	return page
}

func submitCode(t *testing.T, b *browser, page, code string) (*http.Response, string) {
	form := hidden(page)
	form.Set("code", code)
	return b.post("/signin/2fa", form)
}

// TestTOTP: enrolment, sign-in, replay, recovery codes, rate limit, amr/acr, disabling.
func TestTOTP(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "totp-web")
	setupSelfUser(t, "twofa", "second-factor-22")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "twofa", "second-factor-22")

	page := turnOn(t, b)
	form := hidden(page)
	form.Set("code", "000000")
	if resp, page := b.post("/profile/2fa", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "not your password") {
		t.Fatalf("enrolment without the password: %d", resp.StatusCode)
	}
	form.Set("password", "second-factor-22")
	if resp, page := b.post("/profile/2fa", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "not right") {
		t.Fatalf("wrong enrolment code: %d", resp.StatusCode)
	}
	key, recovery := enrol(t, b) // used this 30 s step's code
	next, _ := totp.GenerateCode(key, time.Now().Add(30*time.Second))

	// The password alone is not enough.
	nb := newBrowser(t, srv)
	secondStep(t, nb, "twofa", "second-factor-22")
	if resp, _ := nb.get(srv.URL + "/profile"); resp.Request.URL.Path != "/signin" {
		t.Fatal("signed in after the password alone")
	}

	// Through an application with the next code: amr and acr say two factors.
	rp := newRP(t, srv, "totp-web", secret)
	ab := newBrowser(t, srv)
	v := oauth2.GenerateVerifier()
	_, page = ab.get(rp.authURL("t2", v))
	form = hidden(page)
	form.Set("login", "twofa")
	form.Set("password", "second-factor-22")
	_, page = ab.post("/signin", form)
	resp, page := submitCode(t, ab, page, next)
	q := walkFrom(t, ab, resp, page)
	tok, err := rp.exchange(q.Get("code"), v)
	if err != nil {
		t.Fatalf("exchange after two factors: %v (%v)", err, q)
	}
	var claims struct {
		AMR []string `json:"amr"`
		ACR string   `json:"acr"`
	}
	_ = rp.verify(tok, "nonce-t2").Claims(&claims)
	if strings.Join(claims.AMR, " ") != "pwd otp mfa" || claims.ACR != "urn:passport:acr:mfa" {
		t.Errorf("ID token amr %v acr %q", claims.AMR, claims.ACR)
	}

	// The same code again, in the same window: refused.
	rb := newBrowser(t, srv)
	page = secondStep(t, rb, "twofa", "second-factor-22")
	if resp, page := submitCode(t, rb, page, next); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "already used") {
		t.Errorf("replayed code: %d %.200s", resp.StatusCode, page)
	}
	// A recovery code works, once.
	page = secondStep(t, rb, "twofa", "second-factor-22")
	if resp, _ := submitCode(t, rb, page, strings.ToUpper(recovery[0])); resp.Request.URL.Path != "/profile" {
		t.Errorf("recovery code: ended at %s", resp.Request.URL)
	}
	xb := newBrowser(t, srv)
	page = secondStep(t, xb, "twofa", "second-factor-22")
	if resp, _ := submitCode(t, xb, page, recovery[0]); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("recovery code reused: %d", resp.StatusCode)
	}

	// Wrong codes are rate-limited: after five, even the right one waits.
	lb := newBrowser(t, srv)
	for i := 0; i < 5; i++ {
		page = secondStep(t, lb, "twofa", "second-factor-22")
		submitCode(t, lb, page, "111111")
	}
	page = secondStep(t, lb, "twofa", "second-factor-22")
	if resp, page := submitCode(t, lb, page, recovery[2]); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after 5 wrong codes: %d %.200s", resp.StatusCode, page)
	}

	// Disabling needs the password and a code.
	if _, err := openDB(t).Pool().Exec(context.Background(), `DELETE FROM rate_limits`); err != nil {
		t.Fatal(err)
	}
	_, page = b.get(srv.URL + "/profile/2fa")
	form = hidden(page)
	form.Set("password", "second-factor-22")
	form.Set("code", "123123")
	if resp, _ := b.post("/profile/2fa/disable", form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("disable with a wrong code: %d", resp.StatusCode)
	}
	form.Set("code", recovery[1])
	if resp, page := b.post("/profile/2fa/disable", form); !strings.Contains(page, "Two-factor authentication is off") {
		t.Errorf("disable: %d %.300s", resp.StatusCode, page)
	}
	signInDirectly(t, newBrowser(t, srv), "twofa", "second-factor-22")
}

// walkFrom continues a browser flow from a response, approving consent, until the browser
// reaches the application.
func walkFrom(t *testing.T, b *browser, resp *http.Response, page string) url.Values {
	t.Helper()
	for i := 0; i < 5; i++ {
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && strings.HasPrefix(loc, rpCallback) {
			return redirectParams(t, resp, rpCallback)
		}
		if !strings.Contains(page, `action="/consent"`) {
			t.Fatalf("unexpected page at %s: %.300s", resp.Request.URL, page)
		}
		form := hidden(page)
		form.Set("decision", "allow")
		resp, page = b.post("/consent", form)
	}
	t.Fatal("never reached the application")
	return nil
}

// TestClientRequiringTwoFactors: a person without two factors is led through enrolment
// before the application gets a code.
func TestClientRequiringTwoFactors(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "mfa-web", "--require-2fa")
	setupSelfUser(t, "onefactor", "only-a-password-1")
	rp := newRP(t, srv, "mfa-web", secret)
	b := newBrowser(t, srv)
	v := oauth2.GenerateVerifier()
	_, page := b.get(rp.authURL("m", v))
	form := hidden(page)
	form.Set("login", "onefactor")
	form.Set("password", "only-a-password-1")
	resp, page := b.post("/signin", form)
	if resp.Request.URL.Path != "/signin/2fa-setup" || !strings.Contains(page, "requires two-factor authentication") {
		t.Fatalf("want enrolment, got %s %.300s", resp.Request.URL, page)
	}
	// Posting the consent form instead does not get around it.
	bypass := hidden(page)
	bypass.Set("decision", "allow")
	if resp, _ := b.post("/consent", bypass); resp.Request.URL.Path != "/signin/2fa-setup" || strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Fatalf("consent post with one factor: ended at %s (Location %q)", resp.Request.URL, resp.Header.Get("Location"))
	}
	key := secretOnPage.FindStringSubmatch(page)[1]
	code, _ := totp.GenerateCode(key, time.Now())
	form = hidden(page)
	form.Set("code", code)
	_, page = b.post("/signin/2fa-setup", form)
	cont := regexp.MustCompile(`href="(/signin\?authRequestID=[^"]+)"`).FindStringSubmatch(page)
	if cont == nil || len(recoveryOnPage.FindAllString(page, -1)) != 10 {
		t.Fatalf("recovery page: %.400s", page)
	}
	resp, page = b.get(srv.URL + cont[1])
	q := walkFrom(t, b, resp, page)
	tok, err := rp.exchange(q.Get("code"), v)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		AMR []string `json:"amr"`
	}
	_ = rp.verify(tok, "nonce-m").Claims(&claims)
	if strings.Join(claims.AMR, " ") != "pwd otp mfa" {
		t.Errorf("amr %v", claims.AMR)
	}
	// prompt=none with a one-factor session cannot step up silently.
	b2 := newBrowser(t, srv)
	setupSelfUser(t, "onefactor2", "only-a-password-2")
	signInDirectly(t, b2, "onefactor2", "only-a-password-2")
	q2 := walk(t, b2, rp.authURL("n", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none")), "", "", "")
	if q2.Get("error") != "interaction_required" {
		t.Errorf("prompt=none: %v", q2)
	}
}
