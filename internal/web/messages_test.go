package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/templates"
)

// messageKinds are the kinds Passport ships, read from the English templates.
func messageKinds(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(templates.FS, "messages/*.en.tmpl")
	if err != nil || len(names) == 0 {
		t.Fatalf("no English message templates: %v", err)
	}
	var kinds []string
	for _, n := range names {
		kinds = append(kinds, strings.TrimSuffix(strings.TrimPrefix(n, "messages/"), ".en.tmpl"))
	}
	return kinds
}

func loadCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// sample is data as the handlers give it, with a moment to show.
var sample = MessageData{Name: "Ada Lovelace", Login: "ada", Code: "123456", Link: "https://id.example/confirm/email?token=x",
	NewValue: "ada.new@example.org", Password: "tmp-Pass-4829", Organisation: "Acme Taxi", Minutes: 15, At: time.Date(2026, 12, 27, 12, 56, 0, 0, time.UTC)}

// TestEveryMessageInEveryLanguage: each kind exists in each language with the same parts as
// the English one, renders, is written in that language (not the English text), and shows
// its moment in that language, naming the zone.
func TestEveryMessageInEveryLanguage(t *testing.T) {
	cat := loadCatalog(t)
	m := newMessageTemplates("", "en")
	english := map[string]string{}
	for _, kind := range messageKinds(t) {
		en, lang, err := m.render(cat, kind, "en", sample)
		if err != nil || lang != "en" {
			t.Fatalf("%s.en: %v (%s)", kind, err, lang)
		}
		english[kind] = en.Text
		for _, l := range i18n.Languages {
			c, lang, err := m.render(cat, kind, l.Tag, sample)
			if err != nil {
				t.Errorf("%s.%s: %v", kind, l.Tag, err)
				continue
			}
			if lang != l.Tag {
				t.Errorf("%s.%s: rendered in %s; the template is missing", kind, l.Tag, lang)
				continue
			}
			if c.Text == "" || (c.Subject == "") != (en.Subject == "") || (c.HTML == "") != (en.HTML == "") {
				t.Errorf("%s.%s: parts differ from English: subject %q, text %q, html %d bytes", kind, l.Tag, c.Subject, c.Text, len(c.HTML))
			}
			all := c.Subject + "\n" + c.Text + "\n" + c.HTML
			for _, bad := range []string{"<no value>", "{{", "[format.", "[month."} {
				if strings.Contains(all, bad) {
					t.Errorf("%s.%s shows %q: %s", kind, l.Tag, bad, all)
				}
			}
			if strings.HasPrefix(kind, "login_details") && (!strings.Contains(c.Text, sample.Password) || !strings.Contains(c.Text, sample.Login)) {
				t.Errorf("%s.%s lacks the login or the password: %s", kind, l.Tag, c.Text)
			}
			if l.Tag != "en" && c.Text == en.Text {
				t.Errorf("%s.%s is the English text", kind, l.Tag)
			}
			if strings.Contains(en.Text, "12:56") {
				want := cat.For(l.Tag).DateTime(sample.At, time.UTC)
				if !strings.Contains(c.Text, want) || !strings.Contains(c.HTML, want) {
					t.Errorf("%s.%s does not show the moment as %q: %s", kind, l.Tag, want, c.Text)
				}
			}
			if strings.Contains(en.Text, sample.Code) && !strings.Contains(c.Text, sample.Code) {
				t.Errorf("%s.%s lacks the code: %s", kind, l.Tag, c.Text)
			}
			if strings.Contains(c.HTML, "Passport") && !strings.Contains(c.HTML, `<html lang="`+l.Tag+`">`) {
				t.Errorf("%s.%s: the HTML does not say its language: %.80s", kind, l.Tag, c.HTML)
			}
		}
	}
	// The Russian date is Russian, whatever the catalogue's English says.
	c, _, _ := m.render(cat, "account_deletion_scheduled", "ru", sample)
	if !strings.Contains(c.Subject, "27 декабря 2026 г., 12:56 (UTC)") {
		t.Errorf("Russian date: %q", c.Subject)
	}
}

// TestMessagesNameThePagesButtons: a button an email tells the person to press reads as the
// page shows it in that language.
func TestMessagesNameThePagesButtons(t *testing.T) {
	cat := loadCatalog(t)
	m := newMessageTemplates("", "en")
	for _, l := range i18n.Languages {
		if l.Tag != "en" && !cat.Has(l.Tag, "Restore account") {
			t.Logf("%s: the catalogue has no \"Restore account\" yet", l.Tag)
			continue
		}
		button := cat.For(l.Tag).Sprintf("Restore account")
		c, _, err := m.render(cat, "account_deletion_scheduled", l.Tag, sample)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.Text, button) || !strings.Contains(c.HTML, button) {
			t.Errorf("%s: the deletion email does not name the button %q: %s", l.Tag, button, c.Text)
		}
	}
}

// TestMessageTimesAndPlurals: a time zone is shown by name; a When in the form callers used
// to give is shown in the message's language; plural forms follow the language's rules.
func TestMessageTimesAndPlurals(t *testing.T) {
	cat := loadCatalog(t)
	m := newMessageTemplates("", "en")
	tallinn, err := time.LoadLocation("Europe/Tallinn")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	d := sample
	d.Zone = tallinn
	c, _, err := m.render(cat, "password_changed", "et", d)
	if err != nil || !strings.Contains(c.Text, "27. detsember 2026 kell 14:56 (EET)") {
		t.Errorf("Estonian, Tallinn time: %v %s", err, c.Text)
	}

	other := MessageData{When: "soon"}
	if c, _, err = m.render(cat, "two_factor_enabled", "en", other); err != nil || !strings.Contains(c.Text, " on soon.") {
		t.Errorf("a When in another form is shown as given: %v %s", err, c.Text)
	}

	for minutes, want := range map[int]string{1: "1 минуту", 3: "3 минуты", 5: "5 минут", 11: "11 минут", 21: "21 минуту", 24: "24 минуты"} {
		d := sample
		d.Minutes = minutes
		if c, _, err := m.render(cat, "email_change_code", "ru", d); err != nil || !strings.Contains(c.Text, "действует "+want+".") {
			t.Errorf("%d minutes in Russian: want %q: %v %s", minutes, want, err, c.Text)
		}
	}
	for lang, want := range map[string]string{"en": "1 minute.", "et": "1 minut.", "nl": "1 minuut geldig", "sv": "1 minut."} {
		d := sample
		d.Minutes = 1
		if c, _, err := m.render(cat, "email_change_code", lang, d); err != nil || !strings.Contains(c.Text, want) {
			t.Errorf("1 minute in %s: want %q: %v %s", lang, want, err, c.Text)
		}
	}
	c, _, _ = m.render(cat, "phone_change_call", "ru", sample)
	if !strings.Contains(c.Text, "последние 6 цифр ") {
		t.Errorf("Russian call text: %s", c.Text)
	}
}

// TestMessageLanguageAndOverrides: a language without templates falls back to the default;
// a regional tag finds its language; an operator's template wins over the shipped one and
// may still use .When, .Date and plural.
func TestMessageLanguageAndOverrides(t *testing.T) {
	cat := loadCatalog(t)
	m := newMessageTemplates("", "sv")
	for locale, want := range map[string]string{"": "sv", "de": "sv", "ru-RU": "ru", "NL": "nl", "et": "et"} {
		if _, lang, err := m.render(cat, "account_restored", locale, sample); err != nil || lang != want {
			t.Errorf("account language %q: message in %q (%v), want %q", locale, lang, err, want)
		}
	}

	dir := t.TempDir()
	override := `{{define "subject"}}Deleted {{.Date}}{{end}}{{define "text"}}On {{.When}}, in {{plural .Minutes "one" "a minute" "other" "minutes"}}.{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "account_restored.en.tmpl"), []byte(override), 0o600); err != nil {
		t.Fatal(err)
	}
	m = newMessageTemplates(dir, "en")
	d := sample
	d.Minutes = 1
	c, lang, err := m.render(cat, "account_restored", "en", d)
	if err != nil || lang != "en" || c.Subject != "Deleted 27 December 2026" || c.Text != "On 27 December 2026, 12:56 (UTC), in a minute." || c.HTML != "" {
		t.Errorf("override: %v %s %+v", err, lang, c)
	}
	if c, _, err := m.render(cat, "account_restored", "ru", d); err != nil || !strings.Contains(c.Subject, "восстановлена") {
		t.Errorf("the other languages stay shipped: %v %+v", err, c)
	}
	if err := os.WriteFile(filepath.Join(dir, "account_deleted.en.tmpl"), []byte(`{{define "text"}}{{plural 2 "one" "x"}}{{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.render(cat, "account_deleted", "en", d); err == nil || !strings.Contains(err.Error(), "other") {
		t.Errorf("plural without the form needed: %v", err)
	}
}
