package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/passport-idp/passport/internal/i18n"
)

// TestRecoveryCodesNotice: making new recovery codes sends one email to the account's
// address, in the account's language (set through PATCH /api/v1/me), saying when it
// happened in the page's time zone, in the same transaction that replaced the codes.
func TestRecoveryCodesNotice(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", mb.env()...)
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	const login, password = "tf-notice", "codes-notice-2026"
	address := login + "@example.com"
	id := setupSelfUser(t, login, password)
	b := newBrowser(t, srv)
	signInDirectly(t, b, login, password)
	key, _ := enrol(t, b)
	mb.waitSubject(t, address, "Two-factor authentication is on")

	if status, out := api(t, b, http.MethodPatch, "/me", "", map[string]any{"locale": "ru"}); status != http.StatusOK || out["locale"] != "ru" {
		t.Fatalf("PATCH /me locale: %d %v", status, out)
	}
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: "passport-tz", Value: "Europe/Moscow", Path: "/"}})

	before := time.Now()
	next, _ := totp.GenerateCode(key, time.Now().Add(30*time.Second)) // enrol used this step's code
	resp, page := formPost(t, b, "/profile/2fa", "/profile/2fa/recovery-codes", "password", password, "code", next)
	if resp.StatusCode != http.StatusOK || len(recoveryOnPage.FindAllStringSubmatch(page, -1)) != 10 {
		t.Fatalf("new codes: %d %.400s", resp.StatusCode, page)
	}
	after := time.Now()

	m := mb.wait(t, address)
	if m.Subject != "Созданы новые резервные коды" || !strings.Contains(m.Text, "резервные коды") ||
		!strings.Contains(m.Text, "Старые коды больше не действуют") || !strings.Contains(m.HTML, `<html lang="ru">`) {
		t.Fatalf("want the recovery codes notice in Russian: %+v", m)
	}
	if strings.Contains(m.Text, "Hello") || strings.Contains(m.Text, "recovery") {
		t.Errorf("English in the Russian notice: %s", m.Text)
	}
	l := cat.For("ru")
	if w1, w2 := l.DateTime(before, moscow), l.DateTime(after, moscow); !strings.Contains(m.Text, w1) && !strings.Contains(m.Text, w2) {
		t.Errorf("the notice does not show the moment in the page's zone as %q: %s", w1, m.Text)
	}
	if n := countRows(t, `SELECT count(*) FROM recovery_codes WHERE account_id = $1`, id); n != 10 {
		t.Errorf("stored codes: %d", n)
	}

	// Exactly one: nothing else reaches the address.
	time.Sleep(time.Second)
	mb.mu.Lock()
	for _, extra := range mb.got {
		if strings.EqualFold(extra.To, address) {
			t.Errorf("another mail to %s: %q", address, extra.Subject)
		}
	}
	mb.mu.Unlock()
	if n := countRows(t, `SELECT count(*) FROM messages WHERE account_id = $1 AND kind = 'recovery_codes_replaced' AND channel = 'email'`, id); n > 1 {
		t.Errorf("%d recovery_codes_replaced messages queued, want one", n)
	}
}
