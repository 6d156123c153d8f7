package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"
)

// Tests for issue 10's sign-in items: trusted proxies, device cookies, per-address
// failures, the two-factor set-up inside a sign-in, the second-step and restore tokens,
// the consent post, and the smaller refusals around them.

// clearSigninLimits forgets every sign-in counter: every test signs in from 127.0.0.1, so a
// test of the limits starts from zero.
func clearSigninLimits(t *testing.T) {
	t.Helper()
	if _, err := openDB(t).Pool().Exec(context.Background(), `DELETE FROM rate_limits WHERE key LIKE 'signin:%'`); err != nil {
		t.Fatal(err)
	}
}

// forgedForwardedFor sends every request with a made-up X-Forwarded-For in 203.0.113.0/24,
// as a client pretending to be many addresses would.
type forgedForwardedFor struct{ next http.RoundTripper }

func (f forgedForwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", 1+rand.IntN(254)))
	return f.next.RoundTrip(r)
}

// totpEnabled reports whether the account's two factors are on, from the database.
func totpEnabled(t *testing.T, login string) bool {
	t.Helper()
	db := openDB(t)
	a, err := db.AccountByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := db.TOTPOf(context.Background(), a.ID)
	return err == nil && tp.EnabledAt != nil
}

// tokenExpiry reads the expiry (Unix seconds) of a signed form token: "base64(exp|…).mac".
func tokenExpiry(t *testing.T, token string) string {
	t.Helper()
	enc, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || token == "" {
		t.Fatalf("not a signed token: %q", token)
	}
	exp, _, _ := strings.Cut(string(raw), "|")
	return exp
}

// TestForwardedForOnlyFromTrustedProxies: X-Forwarded-For counts only from a configured proxy, never from loopback.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_HTTP_TRUSTED_PROXIES", "192.0.2.10/32", "PASSPORT_RATE_LIMIT_SIGNIN_PER_IP", "3")
	setupUser(t, "proxied", "behind-no-proxy-1")
	clearSigninLimits(t)

	b := newBrowser(t, srv)
	b.Transport = forgedForwardedFor{http.DefaultTransport}
	signInDirectly(t, b, "proxied", "behind-no-proxy-1")
	if _, page := b.get(srv.URL + "/profile/sessions"); !strings.Contains(page, "IP 127.0.0.1") || strings.Contains(page, "203.0.113.") {
		t.Errorf("sessions list: want IP 127.0.0.1 and no forged address, got %.600s", page)
	}

	for i := range 3 {
		if resp, _ := signinForm(t, b, fmt.Sprintf("nobody-%d", i), "wrong-password-1"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: got %d, want 401", i+1, resp.StatusCode)
		}
	}
	if resp, _ := signinForm(t, b, "nobody-3", "wrong-password-1"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("4th failure with a new forged address each time: got %d, want 429", resp.StatusCode)
	}

	// A configured proxy is believed, for the address it appended (the rightmost), not for
	// what the client wrote before it.
	behind := startServer(t, "", "PASSPORT_HTTP_TRUSTED_PROXIES", "127.0.0.1/32")
	pb := newBrowser(t, behind)
	pb.Transport = appendedForwardedFor{http.DefaultTransport}
	signInDirectly(t, pb, "proxied", "behind-no-proxy-1")
	if _, page := pb.get(behind.URL + "/profile/sessions"); !strings.Contains(page, "IP 198.51.100.7") || strings.Contains(page, "203.0.113.") {
		t.Errorf("sessions list behind a trusted proxy: want IP 198.51.100.7, got %.600s", page)
	}
}

// appendedForwardedFor is a proxy in front of Passport: the client's own X-Forwarded-For,
// forged, then the address the proxy saw.
type appendedForwardedFor struct{ next http.RoundTripper }

func (f appendedForwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", "203.0.113.66, 198.51.100.7")
	return f.next.RoundTrip(r)
}

// TestDeviceCookieKeepsTheOwnerIn: strangers lock a login for new browsers, not for its owner's.
func TestDeviceCookieKeepsTheOwnerIn(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_RATE_LIMIT_SIGNIN_PER_ACCOUNT", "3")
	setupUser(t, "owner", "my-usual-browser-1")
	clearSigninLimits(t)

	owner := newBrowser(t, srv)
	signInDirectly(t, owner, "owner", "my-usual-browser-1")
	formPost(t, owner, "/signout", "/signout") // the device cookie stays

	for i := range 3 {
		if resp, _ := signinForm(t, newBrowser(t, srv), "owner", fmt.Sprintf("stranger-guess-%d", i)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("stranger's guess %d: got %d, want 401", i+1, resp.StatusCode)
		}
	}
	if resp, _ := signinForm(t, newBrowser(t, srv), "owner", "my-usual-browser-1"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password from a new browser after the stranger's guesses: got %d, want 429", resp.StatusCode)
	}

	if resp, page := signinForm(t, owner, "Owner", "my-usual-browser-1"); resp.Request.URL.Path != "/profile" {
		t.Fatalf("owner's browser, right password, login locked for strangers: %d at %s %.200s", resp.StatusCode, resp.Request.URL, page)
	}
	formPost(t, owner, "/signout", "/signout")

	for i := range 3 {
		if resp, _ := signinForm(t, owner, "owner", fmt.Sprintf("owner-typo-%d", i)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("owner's typo %d: got %d, want 401", i+1, resp.StatusCode)
		}
	}
	if resp, _ := signinForm(t, owner, "owner", "my-usual-browser-1"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("owner's browser past its own budget: got %d, want 429", resp.StatusCode)
	}
}

// TestSuccessfulSigninsDoNotUseThePerAddressBudget: only failures count toward the per-address limit.
func TestSuccessfulSigninsDoNotUseThePerAddressBudget(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_RATE_LIMIT_SIGNIN_PER_IP", "3", "PASSPORT_RATE_LIMIT_SIGNIN_ATTEMPTS_PER_IP", "2000")
	setupUser(t, "office-a", "open-plan-office-1")
	setupUser(t, "office-b", "open-plan-office-2")
	clearSigninLimits(t)

	for i := range 6 {
		login, password := "office-a", "open-plan-office-1"
		if i%2 == 1 {
			login, password = "office-b", "open-plan-office-2"
		}
		if resp, _ := signinForm(t, newBrowser(t, srv), login, password); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/profile" {
			t.Fatalf("sign-in %d from the shared address: got %d at %s", i+1, resp.StatusCode, resp.Request.URL)
		}
	}
	for i := range 3 {
		if resp, _ := signinForm(t, newBrowser(t, srv), fmt.Sprintf("guess-%d", i), "wrong-password-1"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: got %d, want 401", i+1, resp.StatusCode)
		}
	}
	if resp, _ := signinForm(t, newBrowser(t, srv), "office-a", "open-plan-office-1"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("past the per-address failure limit: got %d, want 429", resp.StatusCode)
	}
}

// TestTwoFactorSetupOnlyForClientsThatRequireIt: only a client requiring two factors can switch them on.
func TestTwoFactorSetupOnlyForClientsThatRequireIt(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "plain-setup-web")
	setupSelfUser(t, "unattended", "left-signed-in-1")
	rp := newRP(t, srv, "plain-setup-web", secret)
	b := newBrowser(t, srv)
	signInDirectly(t, b, "unattended", "left-signed-in-1")

	resp, _ := b.get(rp.authURL("p", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "consent")))
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("no authorization request at %s", resp.Request.URL)
	}
	if _, page := b.get(srv.URL + "/signin/2fa-setup?authRequestID=" + id); strings.Contains(page, `id="totp-secret"`) {
		t.Errorf("the set-up page offered a secret for an application that does not require two factors")
	}
	// The visitor brings a pending secret of their own (the cabinet shows one) and posts it.
	page := turnOn(t, b)
	m := secretOnPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no pending secret: %.300s", page)
	}
	code, _ := totp.GenerateCode(m[1], time.Now())
	form := hidden(page)
	form.Set("authRequestID", id)
	form.Set("code", code)
	resp, page = b.post("/signin/2fa-setup", form)
	if resp.StatusCode != http.StatusForbidden || recoveryOnPage.MatchString(page) {
		t.Errorf("set-up post: got %d %.300s; want 403 and no recovery codes", resp.StatusCode, page)
	}
	if totpEnabled(t, "unattended") {
		t.Error("two factors were switched on through a client that does not require them")
	}
}

// TestTwoFactorSetupAsksForThePasswordOnAnExistingSession: set-up on an earlier session asks for the password.
func TestTwoFactorSetupAsksForThePasswordOnAnExistingSession(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "mfa-setup-web", "--require-2fa")
	setupSelfUser(t, "earlier-session", "typed-an-hour-ago-1")
	rp := newRP(t, srv, "mfa-setup-web", secret)
	b := newBrowser(t, srv)
	signInDirectly(t, b, "earlier-session", "typed-an-hour-ago-1")

	v := oauth2.GenerateVerifier()
	resp, page := b.get(rp.authURL("e", v))
	if resp.Request.URL.Path != "/signin/2fa-setup" {
		t.Fatalf("want the set-up page, got %s %.400s", resp.Request.URL, page)
	}
	if !strings.Contains(page, `name="password"`) {
		t.Errorf("the set-up page does not ask for the password: %.400s", page)
	}
	key := secretOnPage.FindStringSubmatch(page)[1]
	code, _ := totp.GenerateCode(key, time.Now())
	for _, password := range []string{"", "not-my-password-1"} {
		form := hidden(page)
		form.Set("code", code)
		form.Set("password", password)
		resp, p := b.post("/signin/2fa-setup", form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(p, "not your password") {
			t.Errorf("password %q: got %d %.300s", password, resp.StatusCode, p)
		}
		if totpEnabled(t, "earlier-session") {
			t.Fatalf("two factors switched on with password %q", password)
		}
	}
	form := hidden(page)
	form.Set("code", code)
	form.Set("password", "typed-an-hour-ago-1")
	_, page = b.post("/signin/2fa-setup", form)
	cont := regexp.MustCompile(`href="(/signin\?authRequestID=[^"]+)"`).FindStringSubmatch(page)
	if cont == nil || len(recoveryOnPage.FindAllString(page, -1)) != 10 || !totpEnabled(t, "earlier-session") {
		t.Fatalf("with the password: %.400s", page)
	}
	resp, page = b.get(srv.URL + cont[1])
	if _, err := rp.exchange(walkFrom(t, b, resp, page).Get("code"), v); err != nil {
		t.Fatalf("exchange after setting two factors up: %v", err)
	}
}

// TestWrongCodesDoNotExtendTheSecondStep: the code page shown again keeps its first token and expiry.
func TestWrongCodesDoNotExtendTheSecondStep(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "slow-typist", "ten-minutes-only-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "slow-typist", "ten-minutes-only-1")
	enrol(t, b)

	nb := newBrowser(t, srv)
	page := secondStep(t, nb, "slow-typist", "ten-minutes-only-1")
	first := hidden(page).Get("token")
	exp := tokenExpiry(t, first)
	time.Sleep(1100 * time.Millisecond) // a fresh token would now expire at least a second later
	for i := range 6 {
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		var resp *http.Response
		resp, page = submitCode(t, nb, page, "111111")
		if resp.StatusCode != want {
			t.Fatalf("wrong code %d: got %d, want %d", i+1, resp.StatusCode, want)
		}
		if tok := hidden(page).Get("token"); tok != first || tokenExpiry(t, tok) != exp {
			t.Fatalf("wrong code %d handed out another token (expiry %s, first %s)", i+1, tokenExpiry(t, tok), exp)
		}
	}
}

// TestCredentialChangesVoidTheSecondStep: a sign-out everywhere or new password voids a code step.
func TestCredentialChangesVoidTheSecondStep(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "stolen-codes", "before-the-change-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "stolen-codes", "before-the-change-1")
	_, recovery := enrol(t, b)

	stale := newBrowser(t, srv)
	page := secondStep(t, stale, "stolen-codes", "before-the-change-1")
	formPost(t, b, "/profile/sessions/end-all", "/profile/sessions/end-all", "confirm", "yes")
	if resp, p := submitCode(t, stale, page, recovery[0]); resp.StatusCode != http.StatusForbidden || resp.Request.URL.Path == "/profile" {
		t.Errorf("second step from before signing out everywhere: got %d at %s %.200s", resp.StatusCode, resp.Request.URL, p)
	}

	page = secondStep(t, b, "stolen-codes", "before-the-change-1")
	if resp, _ := submitCode(t, b, page, recovery[1]); resp.Request.URL.Path != "/profile" {
		t.Fatalf("signing in again: ended at %s", resp.Request.URL)
	}
	stale = newBrowser(t, srv)
	page = secondStep(t, stale, "stolen-codes", "before-the-change-1")
	if resp, _ := formPost(t, b, "/profile/password", "/profile/password",
		"current_password", "before-the-change-1", "new_password", "after-the-change-2", "repeat_password", "after-the-change-2"); resp.Request.URL.Path != "/signin" {
		t.Fatalf("password change: ended at %s", resp.Request.URL)
	}
	if resp, p := submitCode(t, stale, page, recovery[2]); resp.StatusCode != http.StatusForbidden || resp.Request.URL.Path == "/profile" {
		t.Errorf("second step from before the password change: got %d at %s %.200s", resp.StatusCode, resp.Request.URL, p)
	}

	// The refused recovery codes were good: the tokens were what failed.
	fresh := newBrowser(t, srv)
	page = secondStep(t, fresh, "stolen-codes", "after-the-change-2")
	if resp, _ := submitCode(t, fresh, page, recovery[0]); resp.Request.URL.Path != "/profile" {
		t.Errorf("new password and an unused recovery code: ended at %s", resp.Request.URL)
	}
}

// pendingDeletion signs the person in with b and schedules their account's deletion. It
// returns two functions: the account's status, read from the database, and a sign-in in b
// that must end on the restore page, which it returns.
func pendingDeletion(t *testing.T, b *browser, id, login, password string) (status func() string, restorePage func() string) {
	t.Helper()
	signInDirectly(t, b, login, password)
	if _, page := formPost(t, b, "/profile/delete", "/profile/delete", "password", password); !strings.Contains(page, "Your account will be deleted") {
		t.Fatalf("scheduling the deletion: %.300s", page)
	}
	db := openDB(t)
	// The database is shared: an account left waiting for deletion would be another test's
	// purge.
	t.Cleanup(func() { _ = db.RestoreAccount(context.Background(), id) })
	status = func() string {
		t.Helper()
		var s string
		if err := db.Pool().QueryRow(context.Background(), `SELECT status FROM accounts WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	restorePage = func() string {
		t.Helper()
		_, page := signinForm(t, b, login, password)
		if !strings.Contains(page, "Restore your account?") {
			t.Fatalf("want the restore page, got %.300s", page)
		}
		return page
	}
	return status, restorePage
}

// TestRestorePageIsVoidAfterASignOutEverywhere: a sign-out everywhere voids a restore page opened before it.
func TestRestorePageIsVoidAfterASignOutEverywhere(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "undecided", "delete-me-or-not-1")
	b := newBrowser(t, srv)
	status, restorePage := pendingDeletion(t, b, id, "undecided", "delete-me-or-not-1")
	page := restorePage()
	if err := openDB(t).SignOutEverywhere(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.post("/account/restore", hidden(page)); resp.StatusCode != http.StatusForbidden || status() != "pending_deletion" {
		t.Errorf("restore page from before a sign-out everywhere: got %d, account %s", resp.StatusCode, status())
	}
	if resp, _ := b.post("/account/restore", hidden(restorePage())); resp.Request.URL.Path != "/profile" || status() != "active" {
		t.Errorf("a new restore page: ended at %s, account %s", resp.Request.URL, status())
	}
}

// TestRestorePageWorksOnce: a used restore page cannot restore the account a second time.
func TestRestorePageWorksOnce(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "twice-undecided", "delete-me-or-not-2")
	b := newBrowser(t, srv)
	status, restorePage := pendingDeletion(t, b, id, "twice-undecided", "delete-me-or-not-2")
	page := restorePage()
	if resp, _ := b.post("/account/restore", hidden(page)); resp.Request.URL.Path != "/profile" || status() != "active" {
		t.Fatalf("restoring: ended at %s, account %s", resp.Request.URL, status())
	}
	// Waiting for deletion again, set directly so that only the restore itself moved anything.
	if _, err := openDB(t).Pool().Exec(context.Background(),
		`UPDATE accounts SET status = 'pending_deletion', purge_at = now() + interval '30 days' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.post("/account/restore", hidden(page)); resp.StatusCode != http.StatusForbidden || status() != "pending_deletion" {
		t.Errorf("restore page used a second time: got %d, account %s", resp.StatusCode, status())
	}
}

// TestConsentPostCannotSkipRequiredFields: a consent post with a required field empty gives no code.
func TestConsentPostCannotSkipRequiredFields(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_PROFILE_REQUIRED_FIELDS", "nickname")
	secret := setupClient(t, "required-consent-web")
	setupSelfUser(t, "no-nickname", "skip-the-form-1")
	rp := newRP(t, srv, "required-consent-web", secret, "profile")
	b := newBrowser(t, srv)
	_, page := b.get(rp.authURL("c", oauth2.GenerateVerifier()))
	form := hidden(page)
	form.Set("login", "no-nickname")
	form.Set("password", "skip-the-form-1")
	resp, page := b.post("/signin", form)
	if resp.Request.URL.Path != "/signin/complete" {
		t.Fatalf("want the completion form, got %s", resp.Request.URL)
	}
	form = hidden(page)
	form.Set("decision", "allow")
	resp, _ = b.post("/consent", form)
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "code=") || resp.Request.URL.Path != "/signin/complete" {
		t.Errorf("consent post with a required field empty: ended at %s (Location %q)", resp.Request.URL, loc)
	}
}

// TestRateLimitedTwoFactorFormIs429: a rate-limited /profile/2fa answers 429, not 400.
func TestRateLimitedTwoFactorFormIs429(t *testing.T) {
	srv := startServer(t, "", "PASSPORT_RATE_LIMIT_SIGNIN_PER_ACCOUNT", "3")
	for name, c := range map[string]struct {
		password, code string
		allowed        int
	}{
		"wrong passwords": {"not-the-password-1", "", 3},
		"wrong codes":     {"", "000000", 5},
	} {
		t.Run(name, func(t *testing.T) {
			login := "limited-" + strings.ReplaceAll(name, " ", "-")
			setupSelfUser(t, login, "guessing-at-2fa-1")
			b := newBrowser(t, srv)
			signInDirectly(t, b, login, "guessing-at-2fa-1")
			password := c.password
			if password == "" {
				password = "guessing-at-2fa-1"
			}
			turnOn(t, b)
			for i := 0; i <= c.allowed; i++ {
				want := http.StatusBadRequest
				if i == c.allowed {
					want = http.StatusTooManyRequests
				}
				if resp, p := formPost(t, b, "/profile/2fa", "/profile/2fa", "password", password, "code", c.code); resp.StatusCode != want {
					t.Fatalf("attempt %d: got %d, want %d: %.200s", i+1, resp.StatusCode, want, p)
				}
			}
		})
	}
}

// TestEmailLinkRefusedForInactiveAccounts: the email link changes no account that is not active.
func TestEmailLinkRefusedForInactiveAccounts(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	id := setupSelfUser(t, "link-holder", "click-the-link-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "link-holder", "click-the-link-1")
	formPost(t, b, "/profile/email", "/profile/email", "value", "link-holder.new@example.org")
	link := linkInMail.FindStringSubmatch(mb.wait(t, "link-holder.new@example.org").Text)
	if link == nil {
		t.Fatal("no link in the mail")
	}
	db := openDB(t)
	t.Cleanup(func() { // the database is shared: leave no account waiting for the purge
		_, _ = db.Pool().Exec(context.Background(), `UPDATE accounts SET status = 'active', purge_at = NULL WHERE id = $1`, id)
	})
	for _, status := range []string{"blocked", "pending_deletion"} {
		if _, err := db.Pool().Exec(context.Background(),
			`UPDATE accounts SET status = $2, purge_at = CASE WHEN $2 = 'pending_deletion' THEN now() + interval '30 days' END WHERE id = $1`, id, status); err != nil {
			t.Fatal(err)
		}
		mail := newBrowser(t, srv)
		_, page := mail.get(link[1])
		if resp, _ := mail.post("/confirm/email", hidden(page)); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s account: got %d, want 403", status, resp.StatusCode)
		}
		if email, verified := accountEmail(t, "link-holder"); email != "link-holder@example.com" || verified {
			t.Errorf("%s account: the link changed the email to %s (verified %v)", status, email, verified)
		}
	}
	if _, err := db.Pool().Exec(context.Background(), `UPDATE accounts SET status = 'active', purge_at = NULL WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	mail := newBrowser(t, srv)
	_, page := mail.get(link[1])
	if _, page = mail.post("/confirm/email", hidden(page)); !strings.Contains(page, "Email address confirmed") {
		t.Errorf("the link after the account is active again: %.300s", page)
	}
}

// TestPendingTwoFactorSecretExpires: a pending secret older than the code lifetime cannot be enabled.
func TestPendingTwoFactorSecretExpires(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "left-open", "page-left-open-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "left-open", "page-left-open-1")
	page := turnOn(t, b)
	old := secretOnPage.FindStringSubmatch(page)[1]
	if _, err := openDB(t).Pool().Exec(context.Background(),
		`UPDATE totp SET created_at = created_at - interval '11 minutes' WHERE account_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(old, time.Now())
	form := hidden(page)
	form.Set("password", "page-left-open-1")
	form.Set("code", code)
	resp, page := b.post("/profile/2fa", form)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "expired") {
		t.Errorf("an 11-minute-old secret: got %d %.300s", resp.StatusCode, page)
	}
	if totpEnabled(t, "left-open") {
		t.Fatal("two factors switched on with an expired pending secret")
	}
	if m := secretOnPage.FindStringSubmatch(page); m == nil || m[1] == old {
		t.Errorf("want a new secret on the page, got %v", m)
	}
	enrol(t, b) // the new one works
}
