package main

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

var smsCode = regexp.MustCompile(`(\d{6})`)

// addPhone types a number on the phone page, confirms it with the code the SMS provider got,
// and returns the SMS request. It fails unless the number was accepted.
func addPhone(t *testing.T, b *browser, prov *provider, typed string) map[string]string {
	t.Helper()
	resp, page := formPost(t, b, "/profile/phone", "/profile/phone", "value", typed, "method", "sms")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="pending"`) {
		t.Fatalf("%q refused: %d %.400s", typed, resp.StatusCode, page)
	}
	sms := prov.wait(t, "/sms")
	code := smsCode.FindStringSubmatch(sms["text"])
	if code == nil {
		t.Fatalf("no code in the SMS: %q", sms["text"])
	}
	if resp, page := formPost(t, b, "/profile/phone", "/profile/phone/confirm", "code", code[1]); resp.StatusCode != http.StatusOK || strings.Contains(page, `id="pending"`) {
		t.Fatalf("confirming %q: %d %.400s", typed, resp.StatusCode, page)
	}
	return sms
}

func accountPhone(t *testing.T, login string) string {
	t.Helper()
	a, err := openDB(t).AccountByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return a.Phone
}

// TestPhoneNationalFormsByLanguage: a page in Russian, Estonian, Dutch or Swedish accepts
// the national form people of that country type, and says how in its hint; an English page
// asks for the country code; the number is stored in E.164 and shown grouped, the SMS
// included.
func TestPhoneNationalFormsByLanguage(t *testing.T) {
	prov := newProvider(t)
	srv := startServer(t, "", prov.env()...)
	for _, c := range []struct {
		lang, typed, e164, shown, example string
	}{
		{"ru", "8 916 123-45-67", "+79161234567", "+7 916 123-45-67", "8 (912) 345-67-89"},
		{"et", "5123 4567", "+37251234567", "+372 5123 4567", "5123 4567"},
		{"nl", "06-12345678", "+31612345678", "+31 6 12345678", "06 12345678"},
		{"sv", "070-123 45 67", "+46701234567", "+46 70 123 45 67", "070-123 45 67"},
	} {
		t.Run(c.lang, func(t *testing.T) {
			login := "phone-" + c.lang
			setupSelfUser(t, login, "national-number-1")
			b := newBrowser(t, srv)
			b.Transport = langTransport{c.lang}
			signInDirectly(t, b, login, "national-number-1")

			_, page := b.get(srv.URL + "/profile/phone")
			if pageLang(t, page) != c.lang || !strings.Contains(html.UnescapeString(page), c.example) {
				t.Errorf("the hint does not show the national form %q: %.1500s", c.example, page)
			}
			// Another country's national form is not this page's: refused, next to the field.
			if resp, page := formPost(t, b, "/profile/phone", "/profile/phone", "value", "0000 1", "method", "sms"); resp.StatusCode != http.StatusBadRequest ||
				!strings.Contains(page, `id="e-value"`) {
				t.Errorf("a bad number: %d", resp.StatusCode)
			}
			sms := addPhone(t, b, prov, c.typed)
			if sms["to"] != c.e164 || !strings.Contains(sms["text"], c.shown) {
				t.Errorf("SMS to %q with %q; want to %s, showing %s", sms["to"], sms["text"], c.e164, c.shown)
			}
			if got := accountPhone(t, login); got != c.e164 {
				t.Errorf("stored %q, want %q", got, c.e164)
			}
			for _, p := range []string{"/profile", "/profile/phone", "/profile/phone/delete"} {
				_, page := b.get(srv.URL + p)
				page = html.UnescapeString(page) // html/template writes + as &#43;
				if !strings.Contains(page, c.shown) || strings.Contains(page, c.e164) {
					t.Errorf("%s: want %q shown, never %q", p, c.shown, c.e164)
				}
			}
		})
	}

	t.Run("en", func(t *testing.T) {
		setupSelfUser(t, "phone-en", "national-number-1")
		b := newBrowser(t, srv)
		b.Transport = langTransport{"en"}
		signInDirectly(t, b, "phone-en", "national-number-1")
		if _, page := b.get(srv.URL + "/profile/phone"); !strings.Contains(html.UnescapeString(page), "With the country code, like +44 20 7946 0958.") {
			t.Errorf("the English hint: %.1500s", page)
		}
		resp, page := formPost(t, b, "/profile/phone", "/profile/phone", "value", "8 916 123-45-67", "method", "sms")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Enter the number with its country code") {
			t.Errorf("a national form on an English page: %d %.300s", resp.StatusCode, page)
		}
		addPhone(t, b, prov, "+7 916 123 45 67")
		if got := accountPhone(t, "phone-en"); got != "+79161234567" {
			t.Errorf("stored %q", got)
		}
	})

	t.Run("api", func(t *testing.T) { // the account API reads numbers as the pages do
		setupSelfUser(t, "phone-api", "national-number-1")
		b := newBrowser(t, srv)
		b.Transport = langTransport{"ru"}
		signInDirectly(t, b, "phone-api", "national-number-1")
		status, body := apiRaw(t, b, http.MethodPost, "/me/phone", []byte(`{"phone": "8 (916) 123 45 67"}`))
		var answer struct {
			Pending struct{ Value string } `json:"pending"`
		}
		_ = json.Unmarshal([]byte(body), &answer)
		if status != http.StatusAccepted || answer.Pending.Value != "+79161234567" {
			t.Errorf("POST /me/phone in Russian: %d %s", status, body)
		}
		prov.wait(t, "/sms")
	})
}

// TestPhoneDefaultRegionFromConfiguration: profile.phone_default_region decides for every
// page, English included, over the page's language.
func TestPhoneDefaultRegionFromConfiguration(t *testing.T) {
	prov := newProvider(t)
	srv := startServer(t, "", append(prov.env(), "PASSPORT_PROFILE_PHONE_DEFAULT_REGION", "RU")...)
	setupSelfUser(t, "phone-conf", "configured-region-1")
	b := newBrowser(t, srv)
	b.Transport = langTransport{"sv"}
	signInDirectly(t, b, "phone-conf", "configured-region-1")
	if _, page := b.get(srv.URL + "/profile/phone"); !strings.Contains(html.UnescapeString(page), "8 (912) 345-67-89") {
		t.Errorf("the hint does not show the configured country's form: %.1500s", page)
	}
	if resp, _ := formPost(t, b, "/profile/phone", "/profile/phone", "value", "070-123 45 67", "method", "sms"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a Swedish national form with RU configured: %d", resp.StatusCode)
	}
	b.Transport = langTransport{"en"}
	addPhone(t, b, prov, "8 916 123-45-67")
	if got := accountPhone(t, "phone-conf"); got != "+79161234567" {
		t.Errorf("stored %q", got)
	}
}

// TestPhoneShownFormattedEverywhere: every page that shows the stored number shows it
// grouped (+7 916 123-45-67), never as +79161234567: the profile and its privacy rows, the
// phone pages, the consent screen, the connected applications and the public profile. The
// API and the claims keep E.164.
func TestPhoneShownFormattedEverywhere(t *testing.T) {
	srv := startServer(t, "")
	secret := setupClient(t, "phone-app")
	id := setupSelfUser(t, "phone-shown", "grouped-digits-1")
	if _, err := openDB(t).Pool().Exec(context.Background(),
		`UPDATE accounts SET phone = '+79161234567', phone_verified = true WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	const shown, stored = "+7 916 123-45-67", "+79161234567"
	b := newBrowser(t, srv)
	signInDirectly(t, b, "phone-shown", "grouped-digits-1")
	check := func(where, page string) {
		t.Helper()
		page = html.UnescapeString(page) // html/template writes + as &#43;
		if !strings.Contains(page, shown) || strings.Contains(page, stored) {
			t.Errorf("%s: want %q, never %q: %.300s", where, shown, stored, page)
		}
	}
	for _, p := range []string{"/profile", "/profile/phone", "/profile/phone/delete"} {
		_, page := b.get(srv.URL + p)
		check(p, page)
	}

	rp := newRP(t, srv, "phone-app", secret, "phone")
	v := oauth2.GenerateVerifier()
	resp, page := b.get(rp.authURL("ph", v))
	if !strings.HasPrefix(resp.Request.URL.Path, "/consent") {
		t.Fatalf("want the consent page, at %s", resp.Request.URL)
	}
	check("the consent page", page)
	tok, err := rp.exchange(walkFrom(t, b, resp, page).Get("code"), v)
	if err != nil {
		t.Fatal(err)
	}
	_, page = b.get(srv.URL + "/profile/apps")
	check("/profile/apps", page)
	info, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	var claims struct {
		Phone string `json:"phone_number"`
	}
	if err != nil || info.Claims(&claims) != nil || claims.Phone != stored {
		t.Errorf("userinfo phone_number %q (%v), want E.164", claims.Phone, err)
	}

	if status, body := apiRaw(t, b, http.MethodPatch, "/me/publicity", []byte(`{"fields": {"phone": "public"}}`)); status != http.StatusOK ||
		!strings.Contains(body, `"phone_number":"`+stored+`"`) {
		t.Fatalf("PATCH /me/publicity: %d %s (the API keeps E.164)", status, body)
	}
	_, page = newBrowser(t, srv).get(srv.URL + "/people/" + id)
	check("the public profile", page)
}
