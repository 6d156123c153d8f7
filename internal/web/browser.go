package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// cookieNames: with an https issuer the cookies carry the __Host- prefix, which browsers
// accept only with Secure, Path=/ and no Domain, so no subdomain can plant or read them.
type cookieNames struct {
	browser, session string
	secure           bool
}

func newCookieNames(secure bool) cookieNames {
	if secure {
		return cookieNames{browser: "__Host-passport-browser", session: "__Host-passport-session", secure: true}
	}
	return cookieNames{browser: "passport-browser", session: "passport-session"}
}

// browserCookieLifetime is long: the browser cookie is not a credential, only the anchor for
// CSRF tokens and for binding auth requests to the browser that started them.
const browserCookieLifetime = 400 * 24 * time.Hour

func (s *Server) setCookie(c echo.Context, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.cookie.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge / time.Second),
	}
	if maxAge < 0 {
		ck.MaxAge = -1
	}
	c.SetCookie(ck)
}

// browserKey is the echo context key of the current *passport.Browser.
const browserKey = "passport.browser"

func browserOf(c echo.Context) *passport.Browser {
	b, _ := c.Get(browserKey).(*passport.Browser)
	return b
}

// browser identifies the browser (setting its cookie on first sight) and loads its signed-in
// session, then puts both into the echo context and the request context, where the OIDC
// storage finds them. When the provider ends the session, the cookie is cleared before the
// response header goes out.
func (s *Server) browser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b := &passport.Browser{}
		if ck, err := c.Cookie(s.cookie.browser); err == nil && len(ck.Value) == 43 {
			b.Hash = passport.HashToken(ck.Value)
		} else if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
			// Only a navigation mints the cookie: a cross-site POST arrives without our
			// SameSite=Lax cookies and must not replace them (and fails its CSRF check).
			v := passport.NewToken()
			b.Hash = passport.HashToken(v)
			s.setCookie(c, s.cookie.browser, v, browserCookieLifetime)
		}
		if ck, err := c.Cookie(s.cookie.session); err == nil && ck.Value != "" {
			sess, err := s.db.SessionByToken(c.Request().Context(), passport.HashToken(ck.Value))
			switch {
			case err == nil:
				b.Session = sess
			case passport.ErrorCode(err) == passport.ENOTFOUND:
				s.setCookie(c, s.cookie.session, "", -1)
			default:
				return err
			}
		}
		cleared := false
		c.Response().Before(func() {
			if b.EndSession && !cleared {
				cleared = true
				s.setCookie(c, s.cookie.session, "", -1)
			}
		})
		c.Set(browserKey, b)
		c.SetRequest(c.Request().WithContext(passport.WithBrowser(c.Request().Context(), b)))
		return next(c)
	}
}

// csrfToken is an HMAC of the browser cookie: forms carry it, and a cross-site page can
// neither read the cookie nor compute the token.
func (s *Server) csrfToken(b *passport.Browser) string {
	m := hmac.New(sha256.New, s.cfg.Key[:])
	m.Write([]byte("csrf\x00"))
	m.Write(b.Hash)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrf refuses unsafe requests that lack the browser's CSRF token or come from another
// origin.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if origin := c.Request().Header.Get("Origin"); origin != "" && origin != "null" && !s.sameOrigin(origin) {
			return passport.Errorf(passport.EFORBIDDEN, "This form was sent from another site and was refused.")
		}
		token := c.FormValue("csrf")
		if token == "" {
			token = c.Request().Header.Get("X-CSRF-Token")
		}
		b := browserOf(c)
		if b == nil || b.Hash == nil || subtle.ConstantTimeCompare([]byte(token), []byte(s.csrfToken(b))) != 1 {
			return passport.Errorf(passport.EFORBIDDEN, "This form has expired. Go back, reload the page and try again.")
		}
		return next(c)
	}
}

func (s *Server) sameOrigin(origin string) bool {
	o, err := url.Parse(origin)
	if err != nil {
		return false
	}
	i, _ := url.Parse(s.cfg.Issuer)
	return o.Scheme == i.Scheme && o.Host == i.Host
}
