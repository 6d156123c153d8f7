package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

var (
	codeInMail = regexp.MustCompile(`code: (\d{6})`)
	linkInMail = regexp.MustCompile(`(http://\S+/confirm/email\?token=[A-Za-z0-9_-]{43})`)
)

func formPost(t *testing.T, b *browser, page, path string, kv ...string) (*http.Response, string) {
	t.Helper()
	_, html := b.get(b.base + page)
	form := url.Values{"csrf": {hidden(html).Get("csrf")}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return b.post(path, form)
}

func accountEmail(t *testing.T, login string) (string, bool) {
	t.Helper()
	a, err := openDB(t).AccountByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return a.Email, a.EmailVerified
}

// TestEmailChangeOverSMTP: the code arrives at a real SMTP server and confirms the change;
// every wrong way of confirming is refused with a clear message and changes nothing.
func TestEmailChangeOverSMTP(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	setupSelfUser(t, "emmy", "noether-theorem-18")
	setupSelfUser(t, "other-emmy", "another-person-19")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "emmy", "noether-theorem-18")

	resp, page := formPost(t, b, "/profile/email", "/profile/email", "value", "emmy.new@example.org")
	if resp.Request.URL.Path != "/profile/email" || !strings.Contains(page, "Enter the code") {
		t.Fatalf("after asking for a code: %s %.300s", resp.Request.URL, page)
	}
	m := mb.wait(t, "emmy.new@example.org")
	code := codeInMail.FindStringSubmatch(m.Text)
	if code == nil || m.Subject != "Confirm your new email address" || !strings.Contains(m.HTML, code[1]) {
		t.Fatalf("code mail: %+v", m)
	}

	t.Run("resend too soon", func(t *testing.T) {
		resp, page := formPost(t, b, "/profile/email", "/profile/email/resend")
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "seconds") {
			t.Errorf("got %d %.200s", resp.StatusCode, page)
		}
	})
	t.Run("cancel and start again does not reset the limits", func(t *testing.T) {
		formPost(t, b, "/profile/email", "/profile/email/cancel")
		resp, page := formPost(t, b, "/profile/email", "/profile/email", "value", "emmy.new@example.org")
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "seconds") {
			t.Errorf("restart right after a cancel: %d %.200s", resp.StatusCode, page)
		}
		// The cancelled code is dead; put the change back for the rest of the test.
		if _, err := openDB(t).Pool().Exec(context.Background(), `UPDATE contact_changes SET cancelled_at = NULL`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong code", func(t *testing.T) {
		wrong := "000000"
		if code[1] == wrong {
			wrong = "111111"
		}
		resp, page := formPost(t, b, "/profile/email", "/profile/email/confirm", "code", wrong)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Wrong code. 4 attempts left.") {
			t.Errorf("got %d %.300s", resp.StatusCode, page)
		}
	})
	t.Run("code of another account", func(t *testing.T) {
		other := newBrowser(t, srv)
		signInDirectly(t, other, "other-emmy", "another-person-19")
		formPost(t, other, "/profile/email", "/profile/email", "value", "other.new@example.org")
		otherCode := codeInMail.FindStringSubmatch(mb.wait(t, "other.new@example.org").Text)[1]
		if otherCode == code[1] {
			t.Skip("the two random codes collided")
		}
		resp, _ := formPost(t, b, "/profile/email", "/profile/email/confirm", "code", otherCode)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("another account's code: got %d", resp.StatusCode)
		}
	})
	if email, _ := accountEmail(t, "emmy"); email != "emmy@example.com" {
		t.Fatalf("refused attempts changed the email to %s", email)
	}

	resp, page = formPost(t, b, "/profile/email", "/profile/email/confirm", "code", code[1])
	if !strings.Contains(page, "Your email address is confirmed.") {
		t.Fatalf("right code: %d %.300s", resp.StatusCode, page)
	}
	if email, verified := accountEmail(t, "emmy"); email != "emmy.new@example.org" || !verified {
		t.Fatalf("after confirmation: %s verified=%v", email, verified)
	}
	notice := mb.wait(t, "emmy@example.com")
	if !strings.Contains(notice.Subject, "was changed") || !strings.Contains(notice.Text, "emmy.new@example.org") {
		t.Errorf("old address notice: %+v", notice)
	}
	if resp, _ := formPost(t, b, "/profile/email", "/profile/email/confirm", "code", code[1]); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("reusing a code: got %d", resp.StatusCode)
	}

	t.Run("expired code", func(t *testing.T) {
		db := openDB(t)
		if _, err := db.Pool().Exec(context.Background(), `DELETE FROM rate_limits`); err != nil {
			t.Fatal(err)
		}
		formPost(t, b, "/profile/email", "/profile/email", "value", "expired@example.org")
		c := codeInMail.FindStringSubmatch(mb.wait(t, "expired@example.org").Text)[1]
		if _, err := db.Pool().Exec(context.Background(), `UPDATE contact_changes SET expires_at = now() - interval '1 second'`); err != nil {
			t.Fatal(err)
		}
		resp, page := formPost(t, b, "/profile/email", "/profile/email/confirm", "code", c)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "expired") {
			t.Errorf("got %d %.300s", resp.StatusCode, page)
		}
		if email, _ := accountEmail(t, "emmy"); email != "emmy.new@example.org" {
			t.Errorf("expired code changed the email to %s", email)
		}
	})
	t.Run("too many attempts", func(t *testing.T) {
		db := openDB(t)
		_, _ = db.Pool().Exec(context.Background(), `DELETE FROM contact_changes`)
		formPost(t, b, "/profile/email", "/profile/email", "value", "attempts@example.org")
		c := codeInMail.FindStringSubmatch(mb.wait(t, "attempts@example.org").Text)[1]
		wrong := "123456"
		if c == wrong {
			wrong = "654321"
		}
		for i := 0; i < 5; i++ {
			formPost(t, b, "/profile/email", "/profile/email/confirm", "code", wrong)
		}
		resp, page := formPost(t, b, "/profile/email", "/profile/email/confirm", "code", c)
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Too many wrong codes") {
			t.Errorf("right code after 5 wrong ones: got %d %.300s", resp.StatusCode, page)
		}
		if email, _ := accountEmail(t, "emmy"); email != "emmy.new@example.org" {
			t.Errorf("changed after too many attempts: %s", email)
		}
	})
	t.Run("one-click link in another browser", func(t *testing.T) {
		db := openDB(t)
		_, _ = db.Pool().Exec(context.Background(), `DELETE FROM contact_changes`)
		formPost(t, b, "/profile/email", "/profile/email", "value", "linked@example.org")
		m := mb.wait(t, "linked@example.org")
		link := linkInMail.FindStringSubmatch(m.Text)
		if link == nil {
			t.Fatalf("no link in the mail: %q", m.Text)
		}
		mailApp := newBrowser(t, srv)
		_, page := mailApp.get(link[1])
		if email, _ := accountEmail(t, "emmy"); email == "linked@example.org" {
			t.Fatal("opening the link (as a mail scanner would) changed the email")
		}
		_, page = mailApp.post("/confirm/email", hidden(page))
		if !strings.Contains(page, "Email address confirmed") {
			t.Fatalf("after the button: %.300s", page)
		}
		if email, verified := accountEmail(t, "emmy"); email != "linked@example.org" || !verified {
			t.Errorf("after the link: %s %v", email, verified)
		}
		if _, page := mailApp.post("/confirm/email", hidden(page)); !strings.Contains(page, "expired") {
			t.Error("the link works twice")
		}
	})
}

// provider is an HTTP SMS and call provider that records what Passport asked it.
type provider struct {
	mu    sync.Mutex
	calls []map[string]string
	srv   *httptest.Server
}

func newProvider(t *testing.T) *provider {
	p := &provider{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "bad json: "+string(raw), http.StatusBadRequest)
			return
		}
		body["path"] = r.URL.Path
		body["auth"] = r.Header.Get("Authorization")
		p.mu.Lock()
		p.calls = append(p.calls, body)
		p.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) env() []string {
	return []string{"PASSPORT_MESSAGES_SMS", "http",
		"PASSPORT_MESSAGES_SMS_HTTP_URL", p.srv.URL + "/sms",
		"PASSPORT_MESSAGES_SMS_HTTP_BODY", `{"to": {{json .To}}, "text": {{json .Text}}}`,
		"PASSPORT_MESSAGES_CALL_HTTP_URL", p.srv.URL + "/call",
		"PASSPORT_MESSAGES_CALL_HTTP_BODY", `{"to": {{json .To}}, "code": {{json .Code}}}`}
}

func (p *provider) wait(t *testing.T, path string) map[string]string {
	t.Helper()
	for i := 0; i < 300; i++ {
		p.mu.Lock()
		for j, c := range p.calls {
			if c["path"] == path {
				p.calls = append(p.calls[:j], p.calls[j+1:]...)
				p.mu.Unlock()
				return c
			}
		}
		p.mu.Unlock()
		<-timeAfter(50)
	}
	t.Fatalf("the provider got no %s request", path)
	return nil
}

// TestPhoneChangeBySMSAndCall: numbers are normalised to E.164, the code comes by SMS or as
// the end of a calling number, and deleting contacts keeps a way to recover the account.
func TestPhoneChangeBySMSAndCall(t *testing.T) {
	prov := newProvider(t)
	srv := startServer(t, "", prov.env()...)
	setupSelfUser(t, "ada2", "difference-engine-3")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "ada2", "difference-engine-3")

	if resp, page := formPost(t, b, "/profile/phone", "/profile/phone", "value", "12345", "method", "sms"); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(page, "country code") {
		t.Errorf("bad number: %d %.300s", resp.StatusCode, page)
	}
	formPost(t, b, "/profile/phone", "/profile/phone", "value", "+44 20 7946 0958", "method", "sms")
	sms := prov.wait(t, "/sms")
	code := regexp.MustCompile(`code: (\d{6})`).FindStringSubmatch(strings.ToLower(sms["text"]))
	if sms["to"] != "+442079460958" || code == nil {
		t.Fatalf("SMS request: %v", sms)
	}
	if _, page := formPost(t, b, "/profile/phone", "/profile/phone/confirm", "code", code[1]); !strings.Contains(page, "phone number is confirmed") {
		t.Fatalf("SMS code: %.300s", page)
	}

	// Deleting the email is refused while the phone is the only... it is verified now, so
	// the email can go; then the phone cannot.
	if _, err := openDB(t).Pool().Exec(context.Background(), `DELETE FROM rate_limits`); err != nil {
		t.Fatal(err)
	}
	formPost(t, b, "/profile/phone", "/profile/phone", "value", "+1 212 555 0187", "method", "call")
	call := prov.wait(t, "/call")
	if call["to"] != "+12125550187" || len(call["code"]) != 6 { // 6 digits: a call code guessed at 20 per window would otherwise confirm a stranger's number
		t.Fatalf("call request: %v", call)
	}
	if _, page := formPost(t, b, "/profile/phone", "/profile/phone/confirm", "code", call["code"]); !strings.Contains(page, "phone number is confirmed") {
		t.Fatalf("call code: %.300s", page)
	}
	a, _ := openDB(t).AccountByLogin(context.Background(), "ada2")
	if a.Phone != "+12125550187" || !a.PhoneVerified {
		t.Fatalf("phone: %s %v", a.Phone, a.PhoneVerified)
	}

	// The email address is not verified: the phone cannot be deleted.
	if resp, page := formPost(t, b, "/profile/phone/delete", "/profile/phone/delete"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "recover") {
		t.Errorf("deleting the only verified contact: %d %.300s", resp.StatusCode, page)
	}
	// The phone is verified: the email can go.
	if _, page := formPost(t, b, "/profile/email/delete", "/profile/email/delete"); !strings.Contains(page, "email address is deleted") {
		t.Errorf("deleting the email: %.300s", page)
	}
	a, _ = openDB(t).AccountByLogin(context.Background(), "ada2")
	if a.Email != "" || a.Phone == "" {
		t.Errorf("after deleting: email %q phone %q", a.Email, a.Phone)
	}
}

// TestPasswordChangeEndsEverything: afterwards the old browser sessions, refresh tokens and
// access tokens all fail, and the person is told by email.
func TestPasswordChangeEndsEverything(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	secret := setupClient(t, "pw-web")
	setupSelfUser(t, "marie", "radium-polonium-98")
	rp := newRP(t, srv, "pw-web", secret, "email", "offline_access")
	b1, b2 := newBrowser(t, srv), newBrowser(t, srv)
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(b1, "pw", v, "marie", "radium-polonium-98"), v)
	if err != nil {
		t.Fatal(err)
	}
	signInDirectly(t, b2, "marie", "radium-polonium-98")

	for name, tc := range map[string]struct{ current, next, want string }{
		"wrong current password": {"not-my-password-1", "brand-new-secret-7", "not your current password"},
		"too short":              {"radium-polonium-98", "ab1", "at least 8"},
		"common":                 {"radium-polonium-98", "password123", "too common"},
		"same as login":          {"radium-polonium-98", "Marie2024x", ""},
	} {
		if tc.want == "" {
			continue
		}
		resp, page := formPost(t, b1, "/profile/password", "/profile/password", "current_password", tc.current, "new_password", tc.next, "repeat_password", tc.next)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d %.300s", name, resp.StatusCode, page)
		}
	}

	resp, page := formPost(t, b1, "/profile/password", "/profile/password", "current_password", "radium-polonium-98", "new_password", "nobel-prize-1911", "repeat_password", "nobel-prize-1911")
	if resp.Request.URL.Path != "/signin" || !strings.Contains(page, "Sign in with the new password") {
		t.Fatalf("after the change: %s %.300s", resp.Request.URL, page)
	}
	for name, b := range map[string]*browser{"this browser": b1, "another device": b2} {
		if resp, _ := b.get(srv.URL + "/profile"); resp.Request.URL.Path != "/signin" {
			t.Errorf("%s still signed in", name)
		}
	}
	rp.grantRevoked(t, tok, secret, "the password change")
	if _, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("old access token still works at userinfo")
	}
	if m := mb.wait(t, "marie@example.com"); !strings.Contains(m.Subject, "password was changed") {
		t.Errorf("notice: %+v", m)
	}
	signInDirectly(t, newBrowser(t, srv), "marie", "nobel-prize-1911")
}

// TestSessionsAndLogoutEverywhere: the cabinet lists sessions, ends one, and "Log out of
// all devices" ends every session and revokes every token.
func TestSessionsAndLogoutEverywhere(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "ses-web")
	setupSelfUser(t, "lise", "nuclear-fission-38")
	rp := newRP(t, srv, "ses-web", secret, "offline_access")
	laptop, phone := newBrowser(t, srv), newBrowser(t, srv)
	v := oauth2.GenerateVerifier()
	tok, err := rp.exchange(rp.signIn(laptop, "s", v, "lise", "nuclear-fission-38"), v)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/signin", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
	phone.Transport = uaTransport{req.Header.Get("User-Agent")}
	signInDirectly(t, phone, "lise", "nuclear-fission-38")

	s, out := api(t, laptop, http.MethodGet, "/me/sessions", "", nil)
	sessions, _ := out["sessions"].([]any)
	if s != http.StatusOK || len(sessions) != 2 || !strings.Contains(toJSON(out), "Safari 17 on iOS") {
		t.Fatalf("sessions: %d %v", s, out)
	}
	// End the phone's session from the laptop.
	var phoneID string
	for _, x := range sessions {
		m := x.(map[string]any)
		if m["current"] != true {
			phoneID = m["id"].(string)
		}
	}
	if resp, _ := formPost(t, laptop, "/profile/sessions", "/profile/sessions/end", "id", phoneID); resp.Request.URL.Path != "/profile/sessions" {
		t.Fatalf("end: %s", resp.Request.URL)
	}
	if resp, _ := phone.get(srv.URL + "/profile"); resp.Request.URL.Path != "/signin" {
		t.Error("the ended session still works")
	}
	if got := introspect(t, srv, tok.AccessToken, "ses-web", secret); got["active"] != true {
		t.Fatal("ending one browser session must not revoke application tokens")
	}

	resp, page := formPost(t, laptop, "/profile/sessions/end-all", "/profile/sessions/end-all", "confirm", "yes")
	if resp.Request.URL.Path != "/signin" || !strings.Contains(page, "signed out on every device") {
		t.Fatalf("log out everywhere: %s", resp.Request.URL)
	}
	if resp, _ := laptop.get(srv.URL + "/profile"); resp.Request.URL.Path != "/signin" {
		t.Error("laptop still signed in")
	}
	rp.grantRevoked(t, tok, secret, "logging out everywhere")
}

type uaTransport struct{ ua string }

func (u uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Set("User-Agent", u.ua)
	return http.DefaultTransport.RoundTrip(r)
}

// TestContactAPI: the same flows through /api/v1/me.
func TestContactAPI(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	setupSelfUser(t, "api-user", "json-all-the-way-1")
	b := newBrowser(t, srv)
	signInDirectly(t, b, "api-user", "json-all-the-way-1")
	s, out := api(t, b, http.MethodPost, "/me/email", "", map[string]any{"email": "api.new@example.org"})
	if s != http.StatusAccepted || !strings.Contains(toJSON(out), "api.new@example.org") {
		t.Fatalf("start: %d %v", s, out)
	}
	code := codeInMail.FindStringSubmatch(mb.wait(t, "api.new@example.org").Text)[1]
	if s, out := api(t, b, http.MethodPost, "/me/email/confirm", "", map[string]any{"code": "99999x"}); s != http.StatusUnprocessableEntity {
		t.Errorf("wrong code: %d %v", s, out)
	}
	if s, out := api(t, b, http.MethodPost, "/me/email/confirm", "", map[string]any{"code": code}); s != http.StatusOK || out["email"] != "api.new@example.org" {
		t.Errorf("confirm: %d %v", s, out)
	}
	if s, out := api(t, b, http.MethodDelete, "/me/email", "", nil); s != http.StatusUnprocessableEntity {
		t.Errorf("delete the only contact: %d %v", s, out)
	}
	if s, _ := api(t, b, http.MethodPost, "/me/phone", "", map[string]any{"phone": "not a number"}); s != http.StatusUnprocessableEntity {
		t.Errorf("bad phone: %d", s)
	}
	if s, out := api(t, b, http.MethodPost, "/me/password", "", map[string]any{"current_password": "json-all-the-way-1", "new_password": "json-all-the-way-2"}); s != http.StatusNoContent {
		t.Errorf("password: %d %v", s, out)
	}
	if s, _ := api(t, b, http.MethodGet, "/me", "", nil); s != http.StatusUnauthorized {
		t.Errorf("after the password change the cookie still works: %d", s)
	}
}
