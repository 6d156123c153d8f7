package web

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
)

// Context keys for what a request has learnt that decides its language.
const (
	ctxLocalizer   = "passport.localizer"
	ctxAccount     = "passport.account"
	ctxAuthRequest = "passport.authRequest"
)

// langCookie keeps the language chosen with the switcher; tzCookie the browser's time
// zone, which static/tz.js reports.
const (
	langCookie = "passport-lang"
	tzCookie   = "passport-tz"
)

// withAccount and withAuthRequest note what a handler found, for the language.
func withAccount(c echo.Context, a *passport.Account)         { c.Set(ctxAccount, a) }
func withAuthRequest(c echo.Context, r *passport.AuthRequest) { c.Set(ctxAuthRequest, r) }

func accountOf(c echo.Context) *passport.Account {
	a, _ := c.Get(ctxAccount).(*passport.Account)
	return a
}

// localizer is the request's language, chosen in this order (SPEC §11): the ui_locales of
// the authorization request being served, the signed-in person's language, the language
// chosen with the switcher (a cookie), the browser's Accept-Language, the configured
// default. It is decided once per request.
func (s *Server) localizer(c echo.Context) *i18n.Localizer {
	if l, ok := c.Get(ctxLocalizer).(*i18n.Localizer); ok {
		return l
	}
	l := s.cat.For(s.chooseLanguage(c))
	c.Set(ctxLocalizer, l)
	return l
}

func (s *Server) chooseLanguage(c echo.Context) string {
	if r, ok := c.Get(ctxAuthRequest).(*passport.AuthRequest); ok && r != nil {
		if lang := s.cat.Match(strings.Join(r.UILocales, " ")); lang != "" {
			return lang
		}
	}
	if a := accountOf(c); a != nil && i18n.Supported(a.Locale) {
		return a.Locale
	}
	if ck, err := c.Cookie(langCookie); err == nil && i18n.Supported(ck.Value) {
		return ck.Value
	}
	if lang := s.cat.Match(c.Request().Header.Get("Accept-Language")); lang != "" {
		return lang
	}
	return s.cfg.DefaultLocale
}

// zone is the time zone times are shown in: the browser's (reported by static/tz.js in a
// cookie), else UTC.
func (s *Server) zone(c echo.Context) *time.Location {
	ck, err := c.Cookie(tzCookie)
	if err != nil || ck.Value == "" || len(ck.Value) >= 64 || ck.Value == "Local" {
		return time.UTC
	}
	if loc, ok := zones.Load(ck.Value); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(ck.Value) // reads the zone database: once per zone
	if err != nil {
		return time.UTC
	}
	zones.Store(ck.Value, loc) // only real zone names are kept, so the map stays small
	return loc
}

// zones caches the time zones loaded by name.
var zones sync.Map

// handleLanguage is the switcher shown on every page: it keeps the choice in a cookie, makes
// it the signed-in person's language too, and returns to the page it was sent from.
func (s *Server) handleLanguage(c echo.Context) error {
	lang := c.FormValue("lang")
	if !i18n.Supported(lang) {
		return passport.FieldError("lang", "Choose one of the languages offered.")
	}
	s.setCookie(c, langCookie, lang, 365*24*time.Hour)
	a, err := s.signedIn(c)
	if err != nil {
		return err
	}
	// A language the organisation locks stays as it is: the switch then only sets the cookie.
	if a != nil && a.Locale != lang && !s.cfg.Rules.IsLocked(a, passport.FieldLocale) {
		if _, errs, err := s.updateMain(c.Request().Context(), a.ID, MainInput{Locale: &lang}); err != nil {
			return err
		} else if len(errs) > 0 {
			return passport.FieldError("lang", "Choose one of the languages offered.")
		}
	}
	back := localPath(c.FormValue("back"))
	// Within an application's sign-in the request's ui_locales come first: the person's
	// choice replaces them, or the switcher would seem to do nothing. Only this browser's
	// own request is changed (authRequest checks).
	if u, err := url.Parse(back); err == nil && u.Query().Get("authRequestID") != "" {
		if req, _, err := s.authRequest(c, u.Query().Get("authRequestID")); err == nil {
			if err := s.db.SetUILocales(c.Request().Context(), req.ID, []string{lang}); err != nil {
				return err
			}
		}
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// localPath returns p when it is a path on this site, "/" otherwise (no open redirect).
// Browsers drop tabs and newlines from a URL and read a backslash as a slash, so "/\t/x"
// or "/\\x" would leave the site: any control character or backslash is refused.
func localPath(p string) string {
	if strings.IndexFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) >= 0 {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	return p
}

// text shows a sentence of the catalogue in the request's language: arguments that are
// sentences themselves (passport.Text) are translated, times are shown in the request's
// time zone.
func (s *Server) text(c echo.Context, format string, args ...any) string {
	l := s.localizer(c)
	if len(args) > 0 {
		args = append([]any(nil), args...)
		for i, a := range args {
			switch v := a.(type) {
			case passport.Text:
				args[i] = l.Sprintf(string(v))
			case passport.Bytes:
				args[i] = s.size(c, v)
			case time.Time:
				args[i] = l.Time(v, s.zone(c))
			}
		}
	}
	return l.Sprintf(format, args...)
}

// size shows a size in the request's language: 5 MiB, 5 МиБ.
func (s *Server) size(c echo.Context, b passport.Bytes) string {
	n, format := b.Unit()
	return s.localizer(c).Sprintf(format, passport.Count(n))
}

// errText is the message of err for the person, in the request's language; nothing of an
// internal error.
func (s *Server) errText(c echo.Context, err error) string {
	e := passport.AsError(err)
	return s.text(c, e.Message, e.Args...)
}

// texts shows field errors in the request's language.
func (s *Server) texts(c echo.Context, errs FieldErrors) map[string]string {
	if len(errs) == 0 {
		return nil
	}
	out := make(map[string]string, len(errs))
	for k, e := range errs {
		out[k] = s.errText(c, e)
	}
	return out
}
