package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
)

// TestArgumentsAreShownInTheReadersLanguage: a message's arguments that are sentences,
// sizes, plural counts and times are shown in the reader's language too.
func TestArgumentsAreShownInTheReadersLanguage(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cat: cat, cfg: Config{DefaultLocale: "en"}}
	in := func(lang string) echo.Context {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Language", lang)
		return echo.New().NewContext(r, httptest.NewRecorder())
	}
	for _, c := range []struct {
		lang, format string
		args         []any
		want         string
	}{
		{"ru", "The photo is too large: the limit is %s.", []any{passport.Bytes(5 << 20)}, "5 МиБ"},
		{"en", "The photo is too large: the limit is %s.", []any{passport.Bytes(300 << 10)}, "the limit is 300 KiB."},
		{"ru", "The photo is too large: the limit is %s.", []any{passport.Bytes(2)}, "2 байта"},
		{"ru", "Wrong code. %d attempts left.", []any{passport.Count(1)}, "Осталась 1 попытка."},
		{"ru", "Wrong code. %d attempts left.", []any{passport.Count(5)}, "Осталось 5 попыток."},
		{"et", "%s is required.", []any{passport.Text("Given name")}, "Eesnimi"},
	} {
		if got := s.text(in(c.lang), c.format, c.args...); !strings.Contains(got, c.want) {
			t.Errorf("%s %q %v: %q, want it to contain %q", c.lang, c.format, c.args, got, c.want)
		}
	}
	// A time is shown in the reader's zone, with the zone's name.
	at := time.Date(2026, 12, 27, 12, 56, 0, 0, time.UTC)
	if got := s.text(in("nl"), "Too many codes were sent. Try again after %s.", at); !strings.Contains(got, "12:56 (UTC)") ||
		!strings.Contains(got, "december") {
		t.Errorf("a time in Dutch: %q", got)
	}
}

// TestDevicesAreNamedInTheReadersLanguage: the sessions list's device names.
func TestDevicesAreNamedInTheReadersLanguage(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	firefox := "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
	for lang, want := range map[string][2]string{
		"en": {"Firefox 128 on Windows", "Unknown device"},
		"ru": {"Firefox 128 на Windows", "Неизвестное устройство"},
		"sv": {"Firefox 128 på Windows", "Okänd enhet"},
	} {
		l := cat.For(lang)
		if got := describeDevice(l, firefox); got != want[0] {
			t.Errorf("%s: %q, want %q", lang, got, want[0])
		}
		if got := describeDevice(l, " "); got != want[1] {
			t.Errorf("%s, no User-Agent: %q, want %q", lang, got, want[1])
		}
	}
}

// TestLocalPathStaysOnThisSite: the switcher's "back" never leaves the site, whatever a
// browser would make of it (it drops tabs and newlines and reads "\" as "/").
func TestLocalPathStaysOnThisSite(t *testing.T) {
	for in, want := range map[string]string{
		"/profile": "/profile", "/signin?authRequestID=abc": "/signin?authRequestID=abc", "/": "/",
		"//evil.example/x": "/", "/\\evil.example": "/", "/\t/evil.example/": "/", "/\x0b/x": "/",
		"/\n/evil.example": "/", "https://evil.example/": "/", "javascript:alert(1)": "/", "": "/",
		"evil.example": "/", "/%09/evil.example": "/%09/evil.example", "/\x7f/x": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
