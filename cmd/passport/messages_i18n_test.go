package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/i18n"
)

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// TestMessagesInTheAccountsLanguage: an account in each language gets its email-change
// code, and the notice at its old address, in that language, with the date written in that
// language and the zone named; an account without a language gets the configured default.
func TestMessagesInTheAccountsLanguage(t *testing.T) {
	mb := newMailbox(t)
	srv := startServer(t, "", append(mb.env(), "PASSPORT_MESSAGES_DEFAULT_LOCALE", "sv")...)
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	codeSubject := map[string]string{
		"en": "Confirm your new email address",
		"ru": "Подтвердите новый адрес электронной почты",
		"et": "Kinnita oma uus e-posti aadress",
		"nl": "Bevestig uw nieuwe e-mailadres",
		"sv": "Bekräfta din nya e-postadress",
	}
	noticeSubject := map[string]string{
		"en": "Your Passport email address was changed",
		"ru": "Адрес электронной почты в Passport изменён",
		"et": "Sinu Passporti e-posti aadress on muudetud",
		"nl": "Het e-mailadres van uw Passport-account is gewijzigd",
		"sv": "E-postadressen för ditt Passport-konto har ändrats",
	}
	for _, tc := range []struct{ locale, want string }{
		{"en", "en"}, {"ru", "ru"}, {"et", "et"}, {"nl", "nl"}, {"sv", "sv"}, {"", "sv"},
	} {
		name := tc.locale
		if name == "" {
			name = "none"
		}
		t.Run(name, func(t *testing.T) {
			login := "letters-" + name
			setupSelfUser(t, login, "many-letters-2026")
			b := newBrowser(t, srv)
			signInDirectly(t, b, login, "many-letters-2026")
			if _, err := openDB(t).Pool().Exec(context.Background(), `UPDATE accounts SET locale = $1 WHERE login = $2`, tc.locale, login); err != nil {
				t.Fatal(err)
			}
			before := time.Now().UTC()

			newAddress := login + ".new@example.org"
			formPost(t, b, "/profile/email", "/profile/email", "value", newAddress)
			m := mb.wait(t, newAddress)
			code := sixDigits.FindStringSubmatch(m.Text)
			if m.Subject != codeSubject[tc.want] || code == nil || !strings.Contains(m.HTML, `<html lang="`+tc.want+`">`) {
				t.Fatalf("code mail, want it in %s: %+v", tc.want, m)
			}
			if tc.want != "en" && strings.Contains(m.Text, "Hello") {
				t.Errorf("English in the %s code mail: %s", tc.want, m.Text)
			}

			formPost(t, b, "/profile/email", "/profile/email/confirm", "code", code[1])
			if email, verified := accountEmail(t, login); email != newAddress || !verified {
				t.Fatalf("after the code: %s verified=%v", email, verified)
			}
			notice := mb.wait(t, login+"@example.com")
			after := time.Now().UTC()
			l := cat.For(tc.want)
			if notice.Subject != noticeSubject[tc.want] || !strings.Contains(notice.Text, newAddress) {
				t.Errorf("notice, want it in %s: %+v", tc.want, notice)
			}
			if !strings.Contains(notice.Text, l.Date(before, time.UTC)) && !strings.Contains(notice.Text, l.Date(after, time.UTC)) {
				t.Errorf("notice in %s lacks the date %q: %s", tc.want, l.Date(before, time.UTC), notice.Text)
			}
			if !strings.Contains(notice.Text, "(UTC)") || (tc.want != "en" && strings.Contains(notice.Text, before.Format(" January "))) {
				t.Errorf("notice in %s: the time is not in its language or names no zone: %s", tc.want, notice.Text)
			}
		})
	}
}
