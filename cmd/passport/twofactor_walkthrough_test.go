package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/passport-idp/passport/pkg/account"
)

// turnOn is the two-factor page's first step: the page as it is, then its "Turn on", which
// answers with the key and the enrolment form.
func turnOn(t *testing.T, b *browser) string {
	t.Helper()
	_, page := b.get(b.base + "/profile/2fa")
	resp, page := b.post("/profile/2fa/start", hidden(page))
	if resp.StatusCode != http.StatusOK || !secretOnPage.MatchString(page) {
		t.Fatalf("Turn on: %d %.400s", resp.StatusCode, page)
	}
	return page
}

// recoveryRows is the account's recovery codes as stored: each hash (hex) with whether it
// was used, in a stable order.
func recoveryRows(t *testing.T, accountID string) []string {
	t.Helper()
	rows, err := openDB(t).Pool().Query(context.Background(),
		`SELECT code_hash, used_at IS NOT NULL FROM recovery_codes WHERE account_id = $1 ORDER BY code_hash`, accountID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h []byte
		var used bool
		if err := rows.Scan(&h, &used); err != nil {
			t.Fatal(err)
		}
		out = append(out, hex.EncodeToString(h)+map[bool]string{true: " used", false: ""}[used])
	}
	return out
}

// wrongCode is a six-digit code the key does not give around now (a step ten minutes away,
// checked against the three steps the server accepts).
func wrongCode(t *testing.T, key string) string {
	t.Helper()
	for d := 10 * time.Minute; ; d += 30 * time.Second {
		c, err := totp.GenerateCode(key, time.Now().Add(d))
		if err != nil {
			t.Fatal(err)
		}
		near := false
		for _, s := range []time.Duration{-30 * time.Second, 0, 30 * time.Second, 60 * time.Second} {
			if n, _ := totp.GenerateCode(key, time.Now().Add(s)); n == c {
				near = true
			}
		}
		if !near {
			return c
		}
	}
}

// signInWithCode signs in with the password and then code at the second step, and reports
// whether the browser reached the cabinet.
func signInWithCode(t *testing.T, srv *server, login, password, code string) bool {
	t.Helper()
	b := newBrowser(t, srv)
	page := secondStep(t, b, login, password)
	resp, _ := submitCode(t, b, page, code)
	return resp.Request.URL.Path == "/profile"
}

// twoFactorPages walks a signed-in browser through every state of the two-factor page,
// mistakes included, and hands each page (and the recovery codes' text file) to check: for
// the test that no English is left on pages in other languages.
func twoFactorPages(t *testing.T, b *browser, password string, check func(where, page string)) {
	t.Helper()
	check("the two-factor first step", readPage(t, b, b.base+"/profile/2fa"))
	page := turnOn(t, b)
	check("the two-factor key step", page)
	key := secretOnPage.FindStringSubmatch(page)[1]
	form := hidden(page)
	form.Set("password", password)
	form.Set("code", wrongCode(t, key))
	_, page = b.post("/profile/2fa", form)
	check("a refused enrolment code", page)
	code, _ := totp.GenerateCode(key, time.Now())
	form.Set("code", code)
	_, page = b.post("/profile/2fa", form)
	if !recoveryOnPage.MatchString(page) {
		t.Fatalf("no recovery codes after enrolment: %.400s", page)
	}
	check("the recovery codes", page)
	if m := regexp.MustCompile(`href="data:text/plain;charset=utf-8;base64,([^"]+)"`).FindStringSubmatch(page); m != nil {
		file, _ := base64.StdEncoding.DecodeString(m[1])
		check("the recovery codes' file", `<html lang="`+pageLang(t, page)+`">`+string(file))
	}
	page = readPage(t, b, b.base+"/profile/2fa")
	check("the two-factor page when on", page)
	_, page = b.post("/profile/2fa/recovery-codes", url.Values{"csrf": {hidden(page).Get("csrf")}, "password": {password}, "code": {"12"}})
	check("refused new recovery codes", page)
	_, page = b.post("/profile/2fa/disable", url.Values{"csrf": {hidden(page).Get("csrf")}, "password": {"not " + password}})
	check("a refused turning off", page)
}

// TestTwoFactorKeyOnlyAfterAsking: the two-factor page shows no QR code and no key, and
// makes no secret, until the person presses "Turn on"; then the steps go in the order of the
// form: app, QR code or key, the code, the password, the button.
func TestTwoFactorKeyOnlyAfterAsking(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "tf-asks", "ask-before-qr-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "tf-asks", "ask-before-qr-1")

	pending := func() int { return countRows(t, `SELECT count(*) FROM totp WHERE account_id = $1`, id) }
	_, page := b.get(srv.URL + "/profile/2fa")
	for _, leak := range []string{`class="qr"`, `data:image/png`, `totp-secret`, `otpauth://`, `name="code"`} {
		if strings.Contains(page, leak) {
			t.Errorf("before asking, the page has %s", leak)
		}
	}
	if !strings.Contains(page, `action="/profile/2fa/start"`) || !strings.Contains(page, `id="turn-on"`) {
		t.Fatalf("no Turn on button: %.500s", page)
	}
	if n := pending(); n != 0 {
		t.Fatalf("looking at the page made %d secret(s)", n)
	}

	page = turnOn(t, b)
	if n := pending(); n != 1 {
		t.Fatalf("after Turn on: %d secrets, want 1 pending", n)
	}
	form := page[strings.Index(page, "<form"):]
	order := []string{`Google Authenticator`, `class="qr"`, `id="totp-secret"`, `name="code"`, `name="password"`, `type="submit"`}
	last := -1
	for _, mark := range order {
		i := strings.Index(form, mark)
		if i < 0 || i < last {
			t.Fatalf("the enrolment form is not in the order %v: %s at %d after %d", order, mark, i, last)
		}
		last = i
	}
	if strings.Count(form[:strings.Index(form, "</form>")], "<li>") != 4 {
		t.Errorf("want four numbered steps inside the form: %.800s", form)
	}

	// Going back to the page shows the first step again; asking again shows the same key, so
	// an app that already has it keeps working.
	key := secretOnPage.FindStringSubmatch(page)[1]
	if _, again := b.get(srv.URL + "/profile/2fa"); strings.Contains(again, `class="qr"`) {
		t.Error("the page shows the QR code again without being asked")
	}
	if got := secretOnPage.FindStringSubmatch(turnOn(t, b))[1]; got != key {
		t.Errorf("asking again made a new key: %s, then %s", key, got)
	}
	// A form posted straight from the first step, with no key asked for, turns nothing on.
	code, _ := totp.GenerateCode(key, time.Now())
	if _, err := openDB(t).Pool().Exec(context.Background(), `DELETE FROM totp WHERE account_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := formPost(t, b, "/profile/2fa", "/profile/2fa", "code", code, "password", "ask-before-qr-1"); resp.StatusCode != http.StatusBadRequest || totpEnabled(t, "tf-asks") {
		t.Errorf("enabling with no pending key: %d, on %v", resp.StatusCode, totpEnabled(t, "tf-asks"))
	}
}

// TestRecoveryCodesRegenerated: new recovery codes need the password and a current code
// (each wrong one is refused next to its field and changes no code); afterwards every old
// code fails at once, each new one works once, and the page offers to copy and download
// them without the codes travelling in any URL.
func TestRecoveryCodesRegenerated(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "tf-regen", "fresh-codes-please-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "tf-regen", "fresh-codes-please-1")
	key, old := enrol(t, b)
	before := recoveryRows(t, id)
	if len(before) != 10 {
		t.Fatalf("after enrolment: %d codes", len(before))
	}

	_, page := b.get(srv.URL + "/profile/2fa")
	if !strings.Contains(page, `action="/profile/2fa/recovery-codes"`) {
		t.Fatalf("no way to make new codes on the page: %.500s", page)
	}
	next, _ := totp.GenerateCode(key, time.Now().Add(30*time.Second)) // enrol used this step's code
	for _, c := range []struct {
		name, password, code, field, says string
	}{
		{"no password", "", next, "e-r-password", "not your password"},
		{"wrong password", "fresh-codes-please-2", next, "e-r-password", "not your password"},
		{"no code", "fresh-codes-please-1", "", "e-r-code", "6-digit code"},
		{"wrong code", "fresh-codes-please-1", wrongCode(t, key), "e-r-code", "not right"},
		{"a recovery code", "fresh-codes-please-1", old[0], "e-r-code", "6-digit code"},
	} {
		resp, page := formPost(t, b, "/profile/2fa", "/profile/2fa/recovery-codes", "password", c.password, "code", c.code)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="`+c.field+`"`) || !strings.Contains(page, c.says) {
			t.Errorf("%s: got %d, want 400 with %q at #%s: %.300s", c.name, resp.StatusCode, c.says, c.field, page)
		}
		if recoveryOnPage.MatchString(page) {
			t.Errorf("%s: codes shown", c.name)
		}
		if got := recoveryRows(t, id); !slices.Equal(got, before) {
			t.Fatalf("%s changed the recovery codes", c.name)
		}
	}

	resp, page := formPost(t, b, "/profile/2fa", "/profile/2fa/recovery-codes", "password", "fresh-codes-please-1", "code", next)
	var fresh []string
	for _, m := range recoveryOnPage.FindAllStringSubmatch(page, -1) {
		fresh = append(fresh, m[1])
	}
	if resp.StatusCode != http.StatusOK || len(fresh) != 10 || !strings.Contains(page, "old ones no longer work") {
		t.Fatalf("new codes: %d, %d codes: %.400s", resp.StatusCode, len(fresh), page)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("the page with the codes may be cached: %q", cc)
	}
	for _, c := range fresh {
		if slices.Contains(old, c) {
			t.Errorf("new code %s was an old one", c)
		}
	}
	after := recoveryRows(t, id)
	if len(after) != 10 || strings.Contains(strings.Join(after, ","), "used") {
		t.Errorf("stored after: %v", after)
	}
	for _, h := range before {
		if slices.Contains(after, h) {
			t.Errorf("an old code's hash is still stored")
		}
	}

	// Copy: a button the script shows, and the script comes as a file. Download: a data: URL
	// holding the codes, so they never travel in a request.
	if !regexp.MustCompile(`<button type="button" id="copy-codes"[^>]* hidden>`).MatchString(page) ||
		!strings.Contains(page, `<script src="/static/recovery.js" defer></script>`) ||
		regexp.MustCompile(`<script>|<script [^s]| on[a-z]+="`).MatchString(page) {
		t.Error("the copy button must be hidden until /static/recovery.js shows it, with no inline script")
	}
	if resp, js := b.get(srv.URL + "/static/recovery.js"); resp.StatusCode != http.StatusOK || !strings.Contains(js, "copy-codes") {
		t.Errorf("/static/recovery.js: %d", resp.StatusCode)
	}
	dl := regexp.MustCompile(`href="data:text/plain;charset=utf-8;base64,([A-Za-z0-9+/=]+)" download="passport-recovery-codes.txt"`).FindStringSubmatch(page)
	if dl == nil {
		t.Fatal("no download of the codes as a text file")
	}
	file, err := base64.StdEncoding.DecodeString(dl[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range fresh {
		if !strings.Contains(string(file), "\n"+c+"\n") {
			t.Errorf("the file lacks %s: %q", c, file)
		}
	}
	if !strings.Contains(string(file), "tf-regen") {
		t.Errorf("the file does not say whose codes they are: %q", file)
	}
	inURL := regexp.MustCompile(`(?:href|action|src)="[^"d][^"]*"`)
	for _, u := range inURL.FindAllString(page, -1) {
		for _, c := range fresh {
			if strings.Contains(u, c) {
				t.Errorf("a code in a URL: %s", u)
			}
		}
	}

	// Old codes fail at once, new ones work once.
	if signInWithCode(t, srv, "tf-regen", "fresh-codes-please-1", old[1]) {
		t.Error("an old recovery code still signs in")
	}
	if !signInWithCode(t, srv, "tf-regen", "fresh-codes-please-1", fresh[0]) {
		t.Error("a new recovery code does not sign in")
	}
	if signInWithCode(t, srv, "tf-regen", "fresh-codes-please-1", fresh[0]) {
		t.Error("a new recovery code signed in twice")
	}
	_, page = b.get(srv.URL + "/profile/2fa")
	if !strings.Contains(page, "9 unused recovery codes") {
		t.Errorf("the page does not count 9 codes left: %.600s", page)
	}
}

// TestRecoveryCodesThroughTheAPI: POST /me/2fa/recovery-codes through the public Go client
// does what the page does: password and a current code, each refused (422) when wrong with
// no code changed, then ten new codes, the old ones dead.
func TestRecoveryCodesThroughTheAPI(t *testing.T) {
	srv := startServer(t, "")
	id := setupSelfUser(t, "tf-api", "codes-by-api-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "tf-api", "codes-by-api-1")
	key, old := enrol(t, b)
	before := recoveryRows(t, id)

	_, page := b.get(srv.URL + "/profile")
	csrf := hidden(page).Get("csrf")
	c, err := account.NewClientWithResponses(srv.URL+"/api/v1", account.WithHTTPClient(b.Client),
		account.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("X-CSRF-Token", csrf)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	str := func(s string) *string { return &s }
	next, _ := totp.GenerateCode(key, time.Now().Add(30*time.Second))
	for _, w := range []struct{ name, password, code, field string }{
		{"wrong password", "codes-by-api-2", next, "password"},
		{"wrong code", "codes-by-api-1", wrongCode(t, key), "code"},
		{"a recovery code", "codes-by-api-1", old[0], "code"},
	} {
		r, err := c.PostMe2faRecoveryCodesWithResponse(ctx, account.PostMe2faRecoveryCodesJSONRequestBody{Password: str(w.password), Code: str(w.code)})
		if err != nil || r.JSON422 == nil || (*r.JSON422.Error.Fields)[w.field] == "" {
			t.Errorf("%s: %v %d %s; want 422 naming %s", w.name, err, r.StatusCode(), r.Body, w.field)
		}
		if got := recoveryRows(t, id); !slices.Equal(got, before) {
			t.Fatalf("%s changed the recovery codes", w.name)
		}
	}
	r, err := c.PostMe2faRecoveryCodesWithResponse(ctx, account.PostMe2faRecoveryCodesJSONRequestBody{Password: str("codes-by-api-1"), Code: str(next)})
	if err != nil || r.JSON200 == nil || r.JSON200.RecoveryCodes == nil || len(*r.JSON200.RecoveryCodes) != 10 {
		t.Fatalf("new codes: %v %d %s", err, r.StatusCode(), r.Body)
	}
	fresh := *r.JSON200.RecoveryCodes
	if signInWithCode(t, srv, "tf-api", "codes-by-api-1", old[0]) {
		t.Error("an old recovery code still signs in")
	}
	if !signInWithCode(t, srv, "tf-api", "codes-by-api-1", fresh[3]) {
		t.Error("a new recovery code does not sign in")
	}
}

// TestBrowserCopiesRecoveryCodes: in Chromium the two-factor page starts with "Turn on" and
// no QR code; after enrolment the copy button appears and puts every code on the clipboard.
func TestBrowserCopiesRecoveryCodes(t *testing.T) {
	srv := startServer(t, "")
	setupSelfUser(t, "tf-copy", "clipboard-codes-1")
	ctx := newChrome(t, 390, 900)
	var qrs int
	var key string
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/signin"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "tf-copy"),
		chromedp.SendKeys(`#password`, "clipboard-codes-1"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`#main-info`),
		chromedp.Navigate(srv.URL+"/profile/2fa"),
		chromedp.WaitVisible(`#turn-on`),
		chromedp.Evaluate(`document.querySelectorAll('img.qr, #totp-secret').length`, &qrs),
		shot(t, ctx, "tf-1-first-step"),
		chromedp.Click(`#turn-on`),
		chromedp.WaitVisible(`img.qr`),
		chromedp.Text(`#totp-secret`, &key),
		shot(t, ctx, "tf-2-scan"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if qrs != 0 {
		t.Errorf("the first step shows %d QR code or key element(s)", qrs)
	}
	code, err := totp.GenerateCode(strings.TrimSpace(key), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var shown, status, clip string
	var spied bool
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`#f-code`, code),
		chromedp.SendKeys(`#f-password`, "clipboard-codes-1"),
		chromedp.Submit(`#f-password`),
		chromedp.WaitVisible(`#copy-codes`),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#recovery-codes code')).map(c => c.textContent).join("\n") + "\n"`, &shown),
		// What the page hands the clipboard, noted on its way (reading the clipboard back
		// needs a permission headless Chromium does not give by default).
		chromedp.Evaluate(`(function () {
			var write = navigator.clipboard.writeText.bind(navigator.clipboard);
			navigator.clipboard.writeText = function (text) { window.copied = text; return write(text); };
			return true;
		})()`, &spied),
		chromedp.Click(`#copy-codes`),
		chromedp.Poll(`document.getElementById('copy-status').textContent`, &status),
		chromedp.Evaluate(`window.copied || ""`, &clip),
		shot(t, ctx, "tf-3-codes-copied"),
		chromedp.Navigate(srv.URL+"/profile/2fa"),
		chromedp.WaitVisible(`#r-code`),
		shot(t, ctx, "tf-4-on"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(shown, "\n") != 10 || clip != shown {
		t.Errorf("clipboard %q, want the ten codes shown %q", clip, shown)
	}
	if status != "The codes are copied." {
		t.Errorf("status after copying: %q", status)
	}
}
