package web

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"strings"
	texttemplate "text/template"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/templates"
)

// MessageData is what message templates may use.
//
// Times are shown in the message's language and in Zone, always naming the zone: .When,
// .DateTime ("27 December 2026, 14:56 (UTC)", "27 декабря 2026 г., 14:56 (UTC)") and
// .Date ("27 December 2026") all show At. Templates also have the function plural, which
// chooses the form of a word for a number by the language's CLDR rules:
// {{.Minutes}} {{plural .Minutes "one" "минуту" "few" "минуты" "many" "минут"}}.
type MessageData struct {
	Name     string // how to address the person
	Login    string
	Code     string
	Link     string
	NewValue string // the new email or phone
	// Password and Organisation are for the login details an organisation issues.
	Password     string
	Organisation string
	// When is At in the message's language and time zone, filled in when the message is
	// rendered (for templates, including operators' overrides, that print .When).
	When    string
	Minutes int
	// At is the moment the message is about (a change, the end of the grace period); Zone
	// the time zone to show it in, the person's when known; nil is UTC.
	At   time.Time
	Zone *time.Location

	loc *i18n.Localizer
}

// Date shows At's date in the message's language and time zone, or "" without At.
func (d MessageData) Date() string {
	if d.At.IsZero() || d.loc == nil {
		return ""
	}
	return d.loc.Date(d.At, d.zone())
}

// DateTime shows At's date, time and zone in the message's language and time zone, or ""
// without At.
func (d MessageData) DateTime() string {
	if d.At.IsZero() || d.loc == nil {
		return ""
	}
	return d.loc.DateTime(d.At, d.zone())
}

func (d MessageData) zone() *time.Location {
	if d.Zone == nil {
		return time.UTC
	}
	return d.Zone
}

// localize prepares data for a message in l's language: At becomes When in that language.
func (d MessageData) localize(l *i18n.Localizer) MessageData {
	d.loc = l
	if !d.At.IsZero() {
		d.When = d.DateTime()
	}
	return d
}

// messageTemplates renders messages/<kind>.<language>.tmpl: a "subject", a "text" and, for
// email, an "html" block (escaped as HTML). A file in the configured folder overrides the
// shipped one of the same name.
type messageTemplates struct {
	shipped       fs.FS
	override      fs.FS
	defaultLocale string
}

func newMessageTemplates(dir, defaultLocale string) *messageTemplates {
	m := &messageTemplates{shipped: templates.FS, defaultLocale: defaultLocale}
	if dir != "" {
		m.override = os.DirFS(dir)
	}
	return m
}

func (m *messageTemplates) file(kind, lang string) ([]byte, bool) {
	name := kind + "." + lang + ".tmpl"
	if m.override != nil {
		if b, err := fs.ReadFile(m.override, name); err == nil {
			return b, true
		}
	}
	b, err := fs.ReadFile(m.shipped, "messages/"+name)
	return b, err == nil
}

// pluralFunc is the templates' plural function for lang: plural N "one" "…" "other" "…"
// returns the form N takes (CLDR cardinal categories zero, one, two, few, many, other),
// else the "other" form; a template that gives neither fails to render.
func pluralFunc(lang string) func(n int, forms ...string) (string, error) {
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.English
	}
	names := map[plural.Form]string{plural.Zero: "zero", plural.One: "one", plural.Two: "two",
		plural.Few: "few", plural.Many: "many", plural.Other: "other"}
	return func(n int, forms ...string) (string, error) {
		if len(forms)%2 != 0 {
			return "", fmt.Errorf("plural: forms come in pairs, category and text (got %d strings)", len(forms))
		}
		if n < 0 {
			n = -n
		}
		want := names[plural.Cardinal.MatchPlural(tag, n%10_000_000, 0, 0, 0, 0)]
		other, haveOther := "", false
		for i := 0; i < len(forms); i += 2 {
			switch forms[i] {
			case want:
				return forms[i+1], nil
			case "other":
				other, haveOther = forms[i+1], true
			}
		}
		if !haveOther {
			return "", fmt.Errorf("plural: no %q or \"other\" form for %d in %s", want, n, lang)
		}
		return other, nil
	}
}

// render picks the person's language when a template exists for it, else the default, and
// shows times in that language through the catalogue.
func (m *messageTemplates) render(cat *i18n.Catalog, kind, locale string, data MessageData) (passport.Content, string, error) {
	lang, _, _ := strings.Cut(strings.ToLower(locale), "-")
	src, ok := m.file(kind, lang)
	if !ok {
		lang = m.defaultLocale
		if src, ok = m.file(kind, lang); !ok {
			return passport.Content{}, "", fmt.Errorf("no message template %s.%s.tmpl", kind, lang)
		}
	}
	if cat != nil {
		data = data.localize(cat.For(lang))
	}
	funcs := map[string]any{"plural": pluralFunc(lang)}
	var c passport.Content
	tt, err := texttemplate.New(kind).Option("missingkey=error").Funcs(funcs).Parse(string(src))
	if err != nil {
		return c, "", fmt.Errorf("message template %s.%s: %w", kind, lang, err)
	}
	exec := func(name string) (string, error) {
		if tt.Lookup(name) == nil {
			return "", nil
		}
		var b bytes.Buffer
		err := tt.ExecuteTemplate(&b, name, data)
		return strings.TrimSpace(b.String()), err
	}
	if c.Subject, err = exec("subject"); err != nil {
		return c, "", err
	}
	if c.Text, err = exec("text"); err != nil {
		return c, "", err
	}
	if tt.Lookup("html") != nil {
		ht, err := htmltemplate.New(kind).Option("missingkey=error").Funcs(funcs).Parse(string(src))
		if err != nil {
			return c, "", err
		}
		var b bytes.Buffer
		if err := ht.ExecuteTemplate(&b, "html", data); err != nil {
			return c, "", err
		}
		c.HTML = "<!doctype html><html lang=\"" + htmltemplate.HTMLEscapeString(lang) + "\"><body style=\"font-family:sans-serif\">" +
			b.String() + "</body></html>"
	}
	return c, lang, nil
}

// message renders and seals one message for the queue, in the account's language when a
// template exists for it, else in the configured default.
func (s *Server) message(channel, to, kind string, a *passport.Account, data MessageData) (passport.Outgoing, error) {
	if data.Name == "" {
		data.Name = a.Name()
	}
	if data.Login == "" {
		data.Login = a.Login
	}
	content, lang, err := s.msgs.render(s.cat, kind, a.Locale, data)
	if err != nil {
		return passport.Outgoing{}, err
	}
	if channel == passport.ChannelCall {
		content.Code = data.Code
	}
	payload, err := s.cfg.Sealer.Seal(content)
	if err != nil {
		return passport.Outgoing{}, err
	}
	return passport.Outgoing{Channel: channel, To: to, Kind: kind, Locale: lang, AccountID: a.ID, Payload: payload}, nil
}
