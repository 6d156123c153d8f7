// Package i18n holds Passport's message catalogue in its five languages and what shows
// things in a person's language: translated text with plural forms (CLDR rules, through
// github.com/nicksnyder/go-i18n), dates and times in their time zone, and the choice of a
// language from what a request offers. Sentences live only in the catalogue
// (locales/<area>.<lang>.toml); code refers to them by id.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Language is one supported language: its tag and its name in itself.
type Language struct {
	Tag  string
	Name string
}

// Languages are the supported languages, in the order the switcher shows them.
var Languages = []Language{
	{"en", "English"}, {"ru", "Русский"}, {"et", "Eesti"}, {"nl", "Nederlands"}, {"sv", "Svenska"},
}

// Default is the language when nothing else decides.
const Default = "en"

//go:embed locales/*.toml
var locales embed.FS

// Catalog is the loaded catalogue. It is safe for concurrent use.
type Catalog struct {
	bundle  *goi18n.Bundle
	byLang  map[string]*Localizer
	matcher language.Matcher
	ids     map[string]map[string]bool // language → message ids it has
}

// Load reads the embedded catalogue.
func Load() (*Catalog, error) { return LoadFS(locales, "locales") }

// LoadFS reads every <area>.<lang>.toml under dir of fsys.
func LoadFS(fsys fs.FS, dir string) (*Catalog, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(fsys, dir+"/*.toml")
	if err != nil {
		return nil, err
	}
	c := &Catalog{bundle: b, byLang: map[string]*Localizer{}, ids: map[string]map[string]bool{}}
	texts := map[string]string{} // lang + id → its forms, to allow a sentence in two areas only when it reads the same
	for _, n := range names {
		mf, err := b.LoadMessageFileFS(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", n, err)
		}
		lang := mf.Tag.String()
		if !Supported(lang) {
			return nil, fmt.Errorf("i18n: %s: %q is not a supported language", n, lang)
		}
		if c.ids[lang] == nil {
			c.ids[lang] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			forms := strings.Join([]string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other}, "\x00")
			if prev, ok := texts[lang+"\x00"+m.ID]; ok && prev != forms {
				return nil, fmt.Errorf("i18n: %s: %q is defined twice for %s, differently", n, m.ID, lang)
			}
			texts[lang+"\x00"+m.ID] = forms
			c.ids[lang][m.ID] = true
		}
	}
	tags := make([]language.Tag, len(Languages))
	for i, l := range Languages {
		tags[i] = language.MustParse(l.Tag)
		c.byLang[l.Tag] = &Localizer{lang: l.Tag, l: goi18n.NewLocalizer(b, l.Tag), c: c}
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// Supported reports whether tag is exactly one of Languages.
func Supported(tag string) bool {
	for _, l := range Languages {
		if l.Tag == tag {
			return true
		}
	}
	return false
}

// Match returns the supported language that best fits a list of preferences — an
// Accept-Language header, or space-separated BCP 47 tags as in OIDC's ui_locales — or ""
// when none of them is close to a supported one.
func (c *Catalog) Match(prefs string) string {
	prefs = strings.TrimSpace(prefs)
	if prefs == "" {
		return ""
	}
	var tags []language.Tag
	if strings.ContainsAny(prefs, ",;") {
		tags, _, _ = language.ParseAcceptLanguage(prefs)
	} else {
		for _, f := range strings.Fields(prefs) {
			if t, err := language.Parse(f); err == nil {
				tags = append(tags, t)
			}
		}
	}
	if len(tags) == 0 {
		return ""
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf < language.High {
		return ""
	}
	return Languages[i].Tag
}

// For returns the localizer of a supported language, or of Default.
func (c *Catalog) For(lang string) *Localizer {
	if l := c.byLang[lang]; l != nil {
		return l
	}
	return c.byLang[Default]
}

// Has reports whether the catalogue has id in lang.
func (c *Catalog) Has(lang, id string) bool { return c.ids[lang][id] }

// IDs returns every message id of lang, sorted.
func (c *Catalog) IDs(lang string) []string {
	out := make([]string, 0, len(c.ids[lang]))
	for id := range c.ids[lang] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Localizer shows messages, dates and times in one language.
type Localizer struct {
	lang string
	l    *goi18n.Localizer
	c    *Catalog
}

// Lang is the localizer's language tag.
func (l *Localizer) Lang() string { return l.lang }

// T returns message id with its arguments, given as name/value pairs ("Name", "Ada").
// An argument named Count selects the plural form. A message missing from the catalogue
// shows as its id in brackets, so that tests and people notice it.
func (l *Localizer) T(id string, args ...any) string {
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			data[k] = args[i+1]
			if k == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := l.l.Localize(cfg)
	if err != nil && s == "" {
		return "[" + id + "]"
	}
	return s
}

// Sprintf translates a sentence of the catalogue whose id is its English text, a fmt
// format ("%d codes left"), and formats it with args. A sentence missing from the
// catalogue shows in English (TestCatalogueHasEverySentence keeps that from happening).
//
// An argument with a PluralCount method (passport.Count) chooses the plural form: such a
// sentence is kept in the catalogue under its English plural, with one/few/many/other forms.
func (l *Localizer) Sprintf(format string, args ...any) string {
	cfg := &goi18n.LocalizeConfig{MessageID: format}
	for _, a := range args {
		if n, ok := a.(interface{ PluralCount() int }); ok {
			cfg.PluralCount = n.PluralCount()
			break
		}
	}
	s, err := l.l.Localize(cfg)
	if err != nil && s == "" {
		s = format
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Date shows t's calendar date in loc: "27 December 2026", "27 декабря 2026 г.".
func (l *Localizer) Date(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return l.T("format.date", "Day", t.Day(), "Month", l.T(fmt.Sprintf("month.%d", int(t.Month()))), "Year", t.Year())
}

// Time shows t's time of day and zone in loc: "14:56 (EET)", or with the date when t is not
// today there.
func (l *Localizer) Time(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	ny, nm, nd := time.Now().In(loc).Date()
	if y, m, d := t.Date(); y != ny || m != nm || d != nd {
		return l.DateTime(t, loc)
	}
	zone, _ := t.Zone()
	return t.Format("15:04") + " (" + zone + ")"
}

// DateTime shows t as date, time and zone in loc: "27 December 2026, 14:56 (CET)".
func (l *Localizer) DateTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	zone, _ := t.Zone()
	return l.T("format.datetime", "Date", l.Date(t, loc), "Time", t.Format("15:04"), "Zone", zone)
}
