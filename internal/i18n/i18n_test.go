package i18n

import (
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/BurntSushi/toml"
)

// pluralForms are CLDR's cardinal plural categories each language needs (CLDR 4x,
// unicode.org/cldr/charts/latest/supplemental/language_plural_rules.html).
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"ru": {"one", "few", "many", "other"},
	"et": {"one", "other"},
	"nl": {"one", "other"},
	"sv": {"one", "other"},
}

var forms = []string{"zero", "one", "two", "few", "many", "other"}

// entries reads every message of lang from the embedded catalogue: id → form → text.
func entries(t *testing.T, lang string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	names, _ := fs.Glob(locales, "locales/*."+lang+".toml")
	if len(names) == 0 {
		t.Fatalf("no catalogue file for %s", lang)
	}
	for _, n := range names {
		var raw map[string]any
		if _, err := toml.DecodeFS(locales, n, &raw); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		var walk func(prefix string, v any)
		walk = func(prefix string, v any) {
			switch v := v.(type) {
			case string:
				out[prefix] = map[string]string{"other": v}
			case map[string]any:
				isMessage := len(v) > 0
				for k := range v {
					if !slices.Contains(forms, k) && k != "description" {
						isMessage = false
					}
				}
				if isMessage {
					m := map[string]string{}
					for k, s := range v {
						if k != "description" {
							m[k], _ = s.(string)
						}
					}
					out[prefix] = m
					return
				}
				for k, c := range v {
					id := k
					if prefix != "" {
						id = prefix + "." + k
					}
					walk(id, c)
				}
			default:
				t.Errorf("%s: %s is neither text nor a table", n, prefix)
			}
		}
		walk("", raw)
	}
	return out
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// TestCatalogueIsComplete: every message exists in all five languages, with exactly the
// plural forms the language needs, the same placeholders as the English one, and no
// English text left in place of a translation (beyond words the languages share).
func TestCatalogueIsComplete(t *testing.T) {
	en := entries(t, "en")
	if len(en) == 0 {
		t.Fatal("the English catalogue is empty")
	}
	for _, l := range Languages {
		got := entries(t, l.Tag)
		for id, msg := range en {
			tr, ok := got[id]
			if !ok {
				t.Errorf("%s: %q is missing", l.Tag, id)
				continue
			}
			plural := len(msg) > 1
			if plural {
				for _, f := range pluralForms[l.Tag] {
					if tr[f] == "" {
						t.Errorf("%s: %q has no %q form", l.Tag, id, f)
					}
				}
			} else if len(tr) != 1 || tr["other"] == "" {
				t.Errorf("%s: %q should be one text, like the English", l.Tag, id)
			}
			for f, text := range tr {
				if got, want := verbs(text), verbs(msg["other"]); got != want {
					t.Errorf("%s: %q (%s) has fmt verbs %q, English has %q", l.Tag, id, f, got, want)
				}
				want := placeholders(msg["other"])
				if got := placeholders(text); !slices.Equal(got, want) && !(plural && f == "one" && slices.Equal(withoutCount(want), withoutCount(got))) {
					t.Errorf("%s: %q (%s) has placeholders %v, English has %v", l.Tag, id, f, got, want)
				}
			}
		}
		for id := range got {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: %q is not in the English catalogue", l.Tag, id)
			}
		}
	}
}

// fmtVerb finds fmt verbs, with an optional explicit index: %s, %d, %q, %[2]s, %%.
var fmtVerb = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?[a-zA-Z%]`)

// verbs lists a text's fmt verbs, sorted, without their indexes (a translation may reorder
// them with %[n]s).
func verbs(s string) string {
	var out []string
	for _, v := range fmtVerb.FindAllString(s, -1) {
		out = append(out, regexp.MustCompile(`\[\d+\]`).ReplaceAllString(v, ""))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// withoutCount drops Count: a language may spell "one" out instead of printing 1.
func withoutCount(p []string) []string {
	return slices.DeleteFunc(slices.Clone(p), func(s string) bool { return s == "Count" })
}

func TestMatchFollowsPreferences(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for prefs, want := range map[string]string{
		"ru-RU,ru;q=0.9,en-US;q=0.8": "ru",
		"de-DE,de;q=0.9,sv;q=0.5":    "sv",
		"et":                         "et",
		"nl-BE":                      "nl",
		"fr en":                      "en", // ui_locales: space-separated, in order
		"de fr":                      "",
		"":                           "",
		"*":                          "",
		"not a tag!":                 "",
	} {
		if got := c.Match(prefs); got != want {
			t.Errorf("Match(%q) = %q, want %q", prefs, got, want)
		}
	}
}

func TestDatesInTheirLanguageAndZone(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 27, 12, 56, 0, 0, time.UTC)
	tallinn, err := time.LoadLocation("Europe/Tallinn")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	for lang, want := range map[string]string{
		"en": "27 December 2026, 14:56 (EET)",
		"ru": "27 декабря 2026 г., 14:56 (EET)",
		"et": "27. detsember 2026 kell 14:56 (EET)",
		"nl": "27 december 2026 om 14:56 (EET)",
		"sv": "27 december 2026 kl. 14:56 (EET)",
	} {
		if got := c.For(lang).DateTime(at, tallinn); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	// The same instant near midnight is another day in another zone.
	late := time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
	if got := c.For("en").Date(late, tallinn); got != "1 January 2027" {
		t.Errorf("date in Tallinn: %q", got)
	}
}

// TestPluralFormsFollowTheLanguage uses a catalogue of its own with a Russian plural.
func TestPluralFormsFollowTheLanguage(t *testing.T) {
	fsys := fstest.MapFS{
		"l/a.en.toml": {Data: []byte("[files]\none = \"{{.Count}} file\"\nother = \"{{.Count}} files\"\n")},
		"l/a.ru.toml": {Data: []byte("[files]\none = \"{{.Count}} файл\"\nfew = \"{{.Count}} файла\"\nmany = \"{{.Count}} файлов\"\nother = \"{{.Count}} файла\"\n")},
	}
	c, err := LoadFS(fsys, "l")
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{1: "1 файл", 2: "2 файла", 5: "5 файлов", 11: "11 файлов", 21: "21 файл", 22: "22 файла"} {
		if got := c.For("ru").T("files", "Count", n); got != want {
			t.Errorf("ru %d: %q, want %q", n, got, want)
		}
	}
	if got := c.For("en").T("files", "Count", 1); got != "1 file" {
		t.Errorf("en 1: %q", got)
	}
	// A missing message shows its id; an unknown language falls back to English.
	if got := c.For("ru").T("nope"); got != "[nope]" {
		t.Errorf("missing: %q", got)
	}
	if got := c.For("xx").T("files", "Count", 3); got != "3 files" {
		t.Errorf("unknown language: %q", got)
	}
}

// TestCatalogueFilesAreNamedByLanguage: every file is <area>.<lang>.toml of a supported
// language, and every area exists in every language.
func TestCatalogueFilesAreNamedByLanguage(t *testing.T) {
	names, _ := fs.Glob(locales, "locales/*")
	areas := map[string][]string{}
	for _, n := range names {
		parts := strings.Split(path.Base(n), ".")
		if len(parts) != 3 || parts[2] != "toml" || !Supported(parts[1]) {
			t.Errorf("%s: want <area>.<en|ru|et|nl|sv>.toml", n)
			continue
		}
		areas[parts[0]] = append(areas[parts[0]], parts[1])
	}
	for area, langs := range areas {
		if len(langs) != len(Languages) {
			t.Errorf("area %s exists in %v only", area, langs)
		}
	}
}
