package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
)

// Forgotten password (SPEC §8): a code by email (with a link) or SMS through the queue, the
// same answer whether the account exists or not, limits, the second factor, and a new
// password that ends every session.

var (
	forgotLink      = regexp.MustCompile(`href="(/signin/forgot[^"]*)"`)
	resetLinkInMail = regexp.MustCompile(`(http://\S+/signin/forgot/link\?token=[A-Za-z0-9_-]{43})`)
)

// clearResetLimits forgets the counters of forgotten-password requests: every test asks
// from 127.0.0.1, and the database is shared.
func clearResetLimits(t *testing.T) {
	t.Helper()
	if _, err := openDB(t).Pool().Exec(context.Background(), `DELETE FROM rate_limits WHERE key LIKE 'reset:%'`); err != nil {
		t.Fatal(err)
	}
}

// resetUser makes an account whose email address is verified, or not, and with a verified
// phone when one is given.
func resetUser(t *testing.T, login, password string, emailVerified bool, phone string) string {
	t.Helper()
	id := setupSelfUser(t, login, password)
	if _, err := openDB(t).Pool().Exec(context.Background(),
		`UPDATE accounts SET email_verified = $2, phone = $3, phone_verified = $3 <> '' WHERE id = $1`, id, emailVerified, phone); err != nil {
		t.Fatal(err)
	}
	return id
}

// setStatus sets an account's status (pending_deletion with a purge time a month ahead) and
// makes it active again when the test ends: the database is shared with the purge of
// other tests.
func setStatus(t *testing.T, id, status string) {
	t.Helper()
	q := `UPDATE accounts SET status = $2, purge_at = CASE WHEN $2 = 'pending_deletion' THEN now() + interval '30 days' END WHERE id = $1`
	db := openDB(t)
	if _, err := db.Pool().Exec(context.Background(), q, id, status); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Pool().Exec(context.Background(), q, id, passport.StatusActive) })
}

// askReset asks for a code for who from the forgotten-password page and returns the code
// step, where the browser lands.
func askReset(t *testing.T, b *browser, who string) (*http.Response, string) {
	t.Helper()
	_, page := b.get(b.base + "/signin/forgot")
	form := hidden(page)
	form.Set("login", who)
	return b.post("/signin/forgot", form)
}

func enterResetCode(t *testing.T, b *browser, page, code string) (*http.Response, string) {
	t.Helper()
	form := hidden(page)
	form.Set("code", code)
	return b.post("/signin/forgot/code", form)
}

func chooseNewPassword(t *testing.T, b *browser, page, password, secondFactor string) (*http.Response, string) {
	t.Helper()
	form := hidden(page)
	form.Set("new_password", password)
	if secondFactor != "" {
		form.Set("code", secondFactor)
	}
	return b.post("/signin/forgot/password", form)
}

// resetMail waits for the reset message to an address and returns its code and link.
func resetMail(t *testing.T, mb *mailbox, to string) (code, link string) {
	t.Helper()
	m := mb.waitSubject(t, to, "Reset your Passport password")
	c, l := codeInMail.FindStringSubmatch(m.Text), resetLinkInMail.FindStringSubmatch(m.Text)
	if c == nil || l == nil || !strings.Contains(m.HTML, c[1]) || !strings.Contains(m.HTML, html.EscapeString(l[1])) {
		t.Fatalf("reset mail without its code or link: %+v", m)
	}
	return c[1], l[1]
}

// passwordHash reads an account's password hash, to see that a refused step changed nothing.
func passwordHash(t *testing.T, id string) string {
	t.Helper()
	var h string
	if err := openDB(t).Pool().QueryRow(context.Background(), `SELECT password_hash FROM accounts WHERE id = $1`, id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// resetMessages counts the reset messages queued, for one account or ("") for all.
func resetMessages(t *testing.T, accountID string) int {
	t.Helper()
	var n int
	if err := openDB(t).Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM messages WHERE kind = 'password_reset' AND ($1 = '' OR account_id::text = $1)`, accountID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPasswordResetByEmailCode: from an application's sign-in, a code by email, the policy,
// then every session and token of the account ends, the old password fails, and the new one
// signs in and returns to the application.
func TestPasswordResetByEmailCode(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	secret := setupClient(t, "reset-web")
	resetUser(t, "rst-grace", "compiler-hopper-52", true, "")
	clearResetLimits(t)
	rp := newRP(t, srv, "reset-web", secret, "email", "offline_access")

	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(newBrowser(t, srv), "r1", v, "rst-grace", "compiler-hopper-52"), v)
	if err != nil {
		t.Fatal(err)
	}
	cabinet := newBrowser(t, srv)
	signInDirectly(t, cabinet, "rst-grace", "compiler-hopper-52")

	// The person forgot the password while signing in to the application.
	b := newBrowser(t, srv)
	v = oauth2.GenerateVerifier()
	_, page := b.get(rp.authURL("r2", v))
	authRequestID := hidden(page).Get("authRequestID")
	link := forgotLink.FindStringSubmatch(page)
	if authRequestID == "" || link == nil || html.UnescapeString(link[1]) != "/signin/forgot?authRequestID="+authRequestID {
		t.Fatalf("the sign-in page's link: %v (auth request %q)", link, authRequestID)
	}
	_, page = b.get(srv.URL + html.UnescapeString(link[1]))
	if hidden(page).Get("authRequestID") != authRequestID || !strings.Contains(page, "App reset-web") {
		t.Fatalf("the forgotten-password page lost the application: %.400s", page)
	}
	form := hidden(page)
	form.Set("login", "RST-Grace") // logins compare folded
	resp, page := b.post("/signin/forgot", form)
	if resp.Request.URL.Path != "/signin/forgot/code" || !strings.Contains(page, "If what you entered belongs to an account") {
		t.Fatalf("after asking: %s %.300s", resp.Request.URL, page)
	}
	code, _ := resetMail(t, mb, "rst-grace@example.com")

	resp, page = enterResetCode(t, b, page, code)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Choose a new password") || strings.Contains(page, `name="code"`) {
		t.Fatalf("the right code: %d %.400s", resp.StatusCode, page)
	}
	if resp, again := chooseNewPassword(t, b, page, "password123", ""); resp.StatusCode != http.StatusBadRequest || !strings.Contains(again, "too common") {
		t.Fatalf("a common password: %d %.300s", resp.StatusCode, again)
	} else {
		page = again
	}
	resp, page = chooseNewPassword(t, b, page, "hopper-new-secret-8", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign in with the new password") ||
		hidden(page).Get("authRequestID") != authRequestID || !strings.Contains(page, `value="rst-grace"`) {
		t.Fatalf("after the new password: %d %.400s", resp.StatusCode, page)
	}

	// Every session and every token of the account ended; the person is told.
	if resp, _ := cabinet.get(srv.URL + "/profile"); resp.Request.URL.Path != "/signin" {
		t.Error("another browser is still signed in")
	}
	rp.grantRevoked(t, tok, secret, "a password reset")
	mb.waitSubject(t, "rst-grace@example.com", "password was changed")

	// The old password fails; the new one signs in and goes on to the application.
	form = hidden(page)
	form.Set("login", "rst-grace")
	form.Set("password", "compiler-hopper-52")
	if resp, _ := b.post("/signin", form); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password: got %d, want 401", resp.StatusCode)
	}
	form.Set("password", "hopper-new-secret-8")
	resp, page = b.post("/signin", form)
	q := walkFrom(t, b, resp, page)
	if q.Get("state") != "r2" {
		t.Fatalf("back at the application with %v", q)
	}
	if _, err := rp.exchange(q.Get("code"), v); err != nil {
		t.Errorf("the application's code after the reset: %v", err)
	}
}

// TestPasswordResetByLinkInAnotherBrowser: the email's link works in any browser (it proves
// the mailbox), opening it changes nothing, it works once, and the code dies with it.
func TestPasswordResetByLinkInAnotherBrowser(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	id := resetUser(t, "rst-linus", "kernel-hacker-91", true, "")
	clearResetLimits(t)

	b := newBrowser(t, srv)
	_, codePage := askReset(t, b, "RST-Linus@example.com") // addresses compare without case
	code, link := resetMail(t, mb, "rst-linus@example.com")

	phone := newBrowser(t, srv)
	_, page := phone.get(link)
	var verified bool
	if err := openDB(t).Pool().QueryRow(context.Background(),
		`SELECT verified_at IS NOT NULL FROM password_resets WHERE account_id = $1`, id).Scan(&verified); err != nil || verified {
		t.Fatalf("opening the link (as a mail scanner would) verified the reset: %v %v", verified, err)
	}
	if !strings.Contains(page, "Press the button") {
		t.Fatalf("the link's page: %.300s", page)
	}
	button := hidden(page)
	resp, page := phone.post("/signin/forgot/link", button)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="new_password"`) {
		t.Fatalf("after the button: %d %.300s", resp.StatusCode, page)
	}
	resp, page = chooseNewPassword(t, phone, page, "penguin-rules-2024", "")
	if !strings.Contains(page, "Sign in with the new password") || hidden(page).Get("authRequestID") != "" {
		t.Fatalf("after the new password: %d %.300s", resp.StatusCode, page)
	}
	signInDirectly(t, newBrowser(t, srv), "rst-linus", "penguin-rules-2024")

	if resp, page := phone.post("/signin/forgot/link", button); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "expired") {
		t.Errorf("the link a second time: %d %.200s", resp.StatusCode, page)
	}
	if resp, _ := enterResetCode(t, b, codePage, code); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the code after the link was used: got %d, want 400", resp.StatusCode)
	}
}

// TestPasswordResetBySMS: a phone number names the account, the code comes by SMS, and the
// pages and the SMS are in the person's language.
func TestPasswordResetBySMS(t *testing.T) {
	prov := newProvider(t)
	srv := startServer(t, "", prov.env()...)
	resetUser(t, "rst-sms", "text-message-77", false, "+442079460958") // the email is not verified: not a way in
	clearResetLimits(t)
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv)
	b.Transport = langTransport{"ru"}
	noEnglish := func(where, page string) {
		t.Helper()
		if left := englishLeft(cat, "ru", visibleText(page), "Passport", "rst-sms"); len(left) > 0 {
			t.Errorf("%s in ru shows English: %q", where, left)
		}
	}
	_, page := b.get(srv.URL + "/signin/forgot")
	noEnglish("the forgotten-password page", page)
	_, page = askReset(t, b, "+44 20 7946 0958")
	noEnglish("the code page", page)
	sms := prov.wait(t, "/sms")
	code := sixDigits.FindStringSubmatch(sms["text"])
	if sms["to"] != "+442079460958" || code == nil || !strings.Contains(sms["text"], "Код Passport") {
		t.Fatalf("SMS: %v", sms)
	}
	_, page = enterResetCode(t, b, page, code[1])
	noEnglish("the new-password page", page)
	if _, page = chooseNewPassword(t, b, page, "short1", ""); !strings.Contains(page, "field-error") {
		t.Fatalf("a short password: %.300s", page)
	}
	noEnglish("the new-password page with a mistake", page)
	if _, page = chooseNewPassword(t, b, page, "by-sms-now-2025", ""); !strings.Contains(page, `action="/signin"`) {
		t.Fatalf("after the new password: %.300s", page)
	}
	noEnglish("the sign-in page after a reset", page)
	signInDirectly(t, newBrowser(t, srv), "rst-sms", "by-sms-now-2025")

	// The login of an account whose only verified address is its phone: the code goes by SMS.
	askReset(t, newBrowser(t, srv), "rst-sms")
	if sms := prov.wait(t, "/sms"); sms["to"] != "+442079460958" {
		t.Errorf("a login with only a phone: %v", sms)
	}
}

// TestPasswordResetDoesNotTellWhoExists: a known login, unknown names, a blocked account and
// one without a verified address all get the same answer, status and page; only the known
// account gets a message; wrong codes are answered alike.
func TestPasswordResetDoesNotTellWhoExists(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	resetUser(t, "rst-known", "i-do-exist-42", true, "")
	setStatus(t, resetUser(t, "rst-blocked", "i-am-blocked-42", true, ""), passport.StatusBlocked)
	resetUser(t, "rst-unverified", "no-address-42", false, "")
	clearResetLimits(t)

	b := newBrowser(t, srv)
	noFollow := *b.Client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	type answer struct {
		status       int
		path, page   string
		wrongCode    int
		wrongCodeTxt string
	}
	ask := func(who string) answer {
		t.Helper()
		_, page := b.get(srv.URL + "/signin/forgot")
		form := hidden(page)
		form.Set("login", who)
		resp, err := noFollow.PostForm(srv.URL+"/signin/forgot", form)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		token := loc.Query().Get("token")
		_, page = b.get(srv.URL + loc.String())
		wrong, wrongPage := enterResetCode(t, b, page, "000000")
		return answer{status: resp.StatusCode, path: loc.Path, page: strings.ReplaceAll(page, token, "TOKEN"),
			wrongCode: wrong.StatusCode, wrongCodeTxt: strings.ReplaceAll(wrongPage, token, "TOKEN")}
	}
	// The known name last: its message is queued a moment after the answer, so once it has
	// arrived anything queued for the names before it would be there too.
	before := resetMessages(t, "")
	var others []answer
	names := []string{"rst-nobody", "rst-nobody@example.com", "+44 20 7946 0000", "rst-blocked", "rst-unverified", "rst-unverified@example.com"}
	for _, who := range names {
		others = append(others, ask(who))
	}
	known := ask("rst-known")
	if known.status != http.StatusSeeOther || known.path != "/signin/forgot/code" || known.wrongCode != http.StatusBadRequest ||
		!strings.Contains(known.wrongCodeTxt, "Wrong code. 4 attempts left.") {
		t.Fatalf("a known login: %+v", known)
	}
	for i, got := range others {
		if got != known {
			t.Errorf("%s is answered differently from a known login:\n got %+v\nwant %+v", names[i], got, known)
		}
	}
	resetMail(t, mb, "rst-known@example.com")
	if got := resetMessages(t, ""); got != before+1 {
		t.Errorf("reset messages queued: %d, want only the known login's", got-before)
	}
}

// TestPasswordResetLimits: per name typed and per client address the answer is 429, known
// name or not; per account and per address the code goes there the limit is silent; a code
// dies after its attempts, the same for a request that found nobody.
func TestPasswordResetLimits(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", append(mb.env(), "PASSPORT_CODES_MAX_SENDS", "2")...)
	id := resetUser(t, "rst-limited", "not-too-often-3", true, "")
	clearResetLimits(t)
	b := newBrowser(t, srv)

	for _, who := range []string{"rst-limited", "rst-nobody-limited"} {
		for i := 0; i < 2; i++ {
			if resp, page := askReset(t, b, who); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/signin/forgot/code" {
				t.Fatalf("%s, request %d: %d %.200s", who, i+1, resp.StatusCode, page)
			}
		}
		resp, page := askReset(t, b, who)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(page, "Too many requests") {
			t.Errorf("%s, third request: %d (Retry-After %q) %.300s", who, resp.StatusCode, resp.Header.Get("Retry-After"), page)
		}
	}
	resetMail(t, mb, "rst-limited@example.com")
	resetMail(t, mb, "rst-limited@example.com")
	// Another name of the same account: the same answer as ever, and nothing more is sent
	// (another account's code, asked for afterwards and arrived, shows the queue caught up).
	if resp, _ := askReset(t, b, "rst-limited@example.com"); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/signin/forgot/code" {
		t.Errorf("the account's email address after its limit: %d %s", resp.StatusCode, resp.Request.URL)
	}
	resetUser(t, "rst-witness", "i-saw-it-all-3", true, "")
	askReset(t, b, "rst-witness")
	resetMail(t, mb, "rst-witness@example.com")
	if n := resetMessages(t, id); n != 2 {
		t.Errorf("messages to the limited account: %d, want 2", n)
	}

	// Five wrong codes end a code, the right one included, the same with nobody behind it.
	attempts := resetUser(t, "rst-attempts", "guess-my-code-3", true, "")
	before := passwordHash(t, attempts)
	for _, who := range []string{"rst-attempts", "rst-nobody-attempts"} {
		_, page := askReset(t, b, who)
		code := "123456"
		if who == "rst-attempts" {
			code, _ = resetMail(t, mb, "rst-attempts@example.com")
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 4; i++ {
			if resp, p := enterResetCode(t, b, page, wrong); resp.StatusCode != http.StatusBadRequest || !strings.Contains(p, "attempt") {
				t.Fatalf("%s, wrong code %d: %d %.300s", who, i, resp.StatusCode, p)
			}
		}
		if resp, p := enterResetCode(t, b, page, wrong); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(p, "that was the last attempt") {
			t.Errorf("%s, fifth wrong code: %d %.300s", who, resp.StatusCode, p)
		}
		if resp, p := enterResetCode(t, b, page, code); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(p, "Too many wrong codes") {
			t.Errorf("%s, the right code after five wrong ones: %d %.300s", who, resp.StatusCode, p)
		}
	}
	if passwordHash(t, attempts) != before {
		t.Error("the password changed after too many wrong codes")
	}

	// Per client address: every request and every code counts, whatever the name.
	perIP := startServer(t, "", "PASSPORT_RATE_LIMIT_SIGNIN_PER_IP", "3")
	clearResetLimits(t)
	pb := newBrowser(t, perIP)
	for i, who := range []string{"rst-ip-1", "rst-limited", "rst-ip-3"} {
		if resp, _ := askReset(t, pb, who); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d from one address: %d", i+1, resp.StatusCode)
		}
	}
	if resp, page := askReset(t, pb, "rst-ip-4"); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Too many requests") {
		t.Errorf("fourth request from one address: %d %.200s", resp.StatusCode, page)
	}
}

// TestPasswordResetNeedsTheSecondFactor: an account with two factors sets no new password
// without a current code or a recovery code.
func TestPasswordResetNeedsTheSecondFactor(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	id := resetUser(t, "rst-2fa", "two-factors-here-5", true, "")
	clearResetLimits(t)
	owner := newBrowser(t, srv)
	signInDirectly(t, owner, "rst-2fa", "two-factors-here-5")
	key, recovery := enrol(t, owner)
	before := passwordHash(t, id)

	b := newBrowser(t, srv)
	_, page := askReset(t, b, "rst-2fa")
	code, _ := resetMail(t, mb, "rst-2fa@example.com")
	_, page = enterResetCode(t, b, page, code)
	if !strings.Contains(page, `name="code"`) || !strings.Contains(page, "Code from your authenticator app") {
		t.Fatalf("the new-password page of a two-factor account: %.400s", page)
	}
	for _, second := range []string{"", "000000"} {
		resp, again := chooseNewPassword(t, b, page, "fresh-password-with-2fa-1", second)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(again, "not right") {
			t.Errorf("second factor %q: %d %.300s", second, resp.StatusCode, again)
		}
		page = again
	}
	if passwordHash(t, id) != before {
		t.Fatal("the password changed without the second factor")
	}
	if resp, page := chooseNewPassword(t, b, page, "fresh-password-with-2fa-1", recovery[0]); !strings.Contains(page, "Sign in with the new password") {
		t.Fatalf("with a recovery code: %d %.300s", resp.StatusCode, page)
	}
	secondStep(t, newBrowser(t, srv), "rst-2fa", "fresh-password-with-2fa-1")

	// A current code from the app works as well.
	_, page = askReset(t, b, "rst-2fa")
	code, _ = resetMail(t, mb, "rst-2fa@example.com")
	_, page = enterResetCode(t, b, page, code)
	next, _ := totp.GenerateCode(key, time.Now().Add(30*time.Second))
	if _, page := chooseNewPassword(t, b, page, "another-password-2fa-2", next); !strings.Contains(page, "Sign in with the new password") {
		t.Fatalf("with a current code: %.300s", page)
	}
	secondStep(t, newBrowser(t, srv), "rst-2fa", "another-password-2fa-2")
}

// TestPasswordResetForInactiveAccounts: an account waiting for deletion is told how to
// restore it and keeps its password; a blocked one gets nothing, and a code sent before it
// was blocked leads nowhere.
func TestPasswordResetForInactiveAccounts(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	leaving := resetUser(t, "rst-leaving", "going-going-gone-1", true, "")
	blocked := resetUser(t, "rst-blocked-later", "blocked-meanwhile-1", true, "")
	clearResetLimits(t)

	setStatus(t, leaving, passport.StatusPendingDeletion)
	before := passwordHash(t, leaving)
	b := newBrowser(t, srv)
	_, page := askReset(t, b, "rst-leaving")
	code, link := resetMail(t, mb, "rst-leaving@example.com")
	resp, page := enterResetCode(t, b, page, code)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "scheduled for deletion") || !strings.Contains(page, "Restore account") ||
		strings.Contains(page, `name="new_password"`) {
		t.Fatalf("the code of an account waiting for deletion: %d %.400s", resp.StatusCode, page)
	}
	if resp, page := b.post("/signin/forgot/password", url.Values{"csrf": {hidden(page).Get("csrf")}, "new_password": {"sneaky-new-pass-1"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a new password posted anyway: %d %.200s", resp.StatusCode, page)
	}
	other := newBrowser(t, srv)
	_, page = other.get(link)
	if _, page := other.post("/signin/forgot/link", hidden(page)); !strings.Contains(page, "expired") {
		t.Errorf("the link after the code: %.200s", page)
	}
	var status string
	_ = openDB(t).Pool().QueryRow(context.Background(), `SELECT status FROM accounts WHERE id = $1`, leaving).Scan(&status)
	if status != passport.StatusPendingDeletion || passwordHash(t, leaving) != before {
		t.Errorf("the account changed: %s, password changed %v", status, passwordHash(t, leaving) != before)
	}
	if _, page := signinForm(t, newBrowser(t, srv), "rst-leaving", "going-going-gone-1"); !strings.Contains(page, "Restore your account?") {
		t.Errorf("signing in with the old password: %.300s", page)
	}

	// Blocked after the code was sent: the code leads nowhere and nothing changes.
	before = passwordHash(t, blocked)
	_, page = askReset(t, b, "rst-blocked-later")
	code, _ = resetMail(t, mb, "rst-blocked-later@example.com")
	setStatus(t, blocked, passport.StatusBlocked)
	if resp, page := enterResetCode(t, b, page, code); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "no longer valid") {
		t.Errorf("the code of an account blocked since: %d %.300s", resp.StatusCode, page)
	}
	if passwordHash(t, blocked) != before {
		t.Error("the blocked account's password changed")
	}
	// Blocked before: nothing is sent (the answer is TestPasswordResetDoesNotTellWhoExists's).
	n := resetMessages(t, blocked)
	askReset(t, b, "rst-blocked-later")
	if resetMessages(t, blocked) != n {
		t.Error("a code was queued for a blocked account")
	}
}

// TestPasswordResetStepsCannotBeSkipped: each step checks again what the steps before it
// proved: later steps posted directly, a code of another account, a code used twice, a
// form from another browser, a reset replaced by a newer one, a form posted twice.
func TestPasswordResetStepsCannotBeSkipped(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	alice := resetUser(t, "rst-alice", "alice-in-resets-1", true, "")
	resetUser(t, "rst-bob", "bob-in-resets-1", true, "")
	clearResetLimits(t)
	b := newBrowser(t, srv)
	_, page := b.get(srv.URL + "/signin/forgot")
	csrf := hidden(page).Get("csrf")
	for path, form := range map[string]url.Values{
		"/signin/forgot/password": {"new_password": {"skipped-steps-1"}},
		"/signin/forgot/code":     {"code": {"123456"}, "token": {"bm9wZQ.bm9wZQ"}},
		"/signin/forgot/link":     {"token": {strings.Repeat("A", 43)}},
	} {
		form.Set("csrf", csrf)
		if resp, page := b.post(path, form); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s posted directly: %d %.200s", path, resp.StatusCode, page)
		}
	}

	_, pageA := askReset(t, b, "rst-alice")
	codeA, _ := resetMail(t, mb, "rst-alice@example.com")
	_, pageB := askReset(t, b, "rst-bob")
	codeB, _ := resetMail(t, mb, "rst-bob@example.com")
	if codeA != codeB {
		if resp, _ := enterResetCode(t, b, pageA, codeB); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("another account's code: got %d, want 400", resp.StatusCode)
		}
	}
	if resp, _ := enterResetCode(t, b, pageB, codeA); codeA != codeB && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("another account's code, the other way: got %d, want 400", resp.StatusCode)
	}
	_, form := enterResetCode(t, b, pageA, codeA)
	if !strings.Contains(form, `name="new_password"`) {
		t.Fatalf("the right code: %.300s", form)
	}
	if resp, _ := enterResetCode(t, b, pageA, codeA); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the code a second time: got %d, want 400", resp.StatusCode)
	}

	// The new-password form belongs to the browser that proved the code.
	thief := newBrowser(t, srv)
	_, tp := thief.get(srv.URL + "/signin/forgot")
	stolen := hidden(form)
	stolen.Set("csrf", hidden(tp).Get("csrf"))
	stolen.Set("new_password", "stolen-form-pass-1")
	if resp, _ := thief.post("/signin/forgot/password", stolen); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the form in another browser: got %d, want 404", resp.StatusCode)
	}

	// A newer request replaces the reset: its form and its code page die.
	before := passwordHash(t, alice)
	_, pageA2 := askReset(t, b, "rst-alice")
	codeA2, _ := resetMail(t, mb, "rst-alice@example.com")
	if resp, _ := chooseNewPassword(t, b, form, "replaced-reset-pass-1", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the form of a replaced reset: got %d, want 404", resp.StatusCode)
	}
	if resp, _ := enterResetCode(t, b, pageA, codeA2); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the new code on the replaced request's page: got %d, want 400", resp.StatusCode)
	}
	if passwordHash(t, alice) != before {
		t.Fatal("a refused step changed the password")
	}
	_, form = enterResetCode(t, b, pageA2, codeA2)
	if _, page := chooseNewPassword(t, b, form, "finally-reset-pass-1", ""); !strings.Contains(page, "Sign in with the new password") {
		t.Fatalf("the newer request: %.300s", page)
	}
	after := passwordHash(t, alice)
	if resp, _ := chooseNewPassword(t, b, form, "twice-reset-pass-1", ""); resp.StatusCode != http.StatusNotFound || passwordHash(t, alice) != after {
		t.Errorf("the form posted a second time: got %d, password changed %v", resp.StatusCode, passwordHash(t, alice) != after)
	}
	signInDirectly(t, newBrowser(t, srv), "rst-alice", "finally-reset-pass-1")
}

// TestPasswordResetInChromium: the whole way in a real browser on a phone-sized screen,
// from the sign-in page's link to signing in with the new password; screenshots of each page.
func TestPasswordResetInChromium(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	resetUser(t, "rst-chrome", "chromium-forgot-1", true, "")
	clearResetLimits(t)
	ctx := newChrome(t, 360, 800)
	var notice string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.Click(`a[href="/signin/forgot"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`#login`),
		shot(t, ctx, "reset-1-forgot"),
		chromedp.SendKeys(`#login`, "rst-chrome"),
		chromedp.Submit(`#login`),
		chromedp.WaitVisible(`#code`),
		shot(t, ctx, "reset-2-code"),
	); err != nil {
		t.Fatal(err)
	}
	code, _ := resetMail(t, mb, "rst-chrome@example.com")
	if err := chromedp.Run(ctx,
		chromedp.SendKeys(`#code`, code),
		chromedp.Submit(`#code`),
		chromedp.WaitVisible(`#f-new`),
		shot(t, ctx, "reset-3-new-password"),
		chromedp.SendKeys(`#f-new`, "chromium-remembers-2"),
		chromedp.Submit(`#f-new`),
		chromedp.WaitVisible(`#password`),
		chromedp.Text(`p.info`, &notice),
		shot(t, ctx, "reset-4-signin"),
		chromedp.SendKeys(`#password`, "chromium-remembers-2"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#privacy`),
	); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notice, "Sign in with the new password") {
		t.Errorf("the sign-in page's notice: %q", notice)
	}
}
