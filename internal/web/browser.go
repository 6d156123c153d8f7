package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// cookieNames: with an https issuer the cookies carry the __Host- prefix, which browsers
// accept only with Secure, Path=/ and no Domain, so no subdomain can plant or read them.
type cookieNames struct {
	browser, session, device string
	secure                   bool
}

func newCookieNames(secure bool) cookieNames {
	if secure {
		return cookieNames{browser: "__Host-passport-browser", session: "__Host-passport-session",
			device: "__Host-passport-device", secure: true}
	}
	return cookieNames{browser: "passport-browser", session: "passport-session", device: "passport-device"}
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
		// The person at this browser acts on their own account; security events name them
		// with the address and browser (the admin console replaces this actor with its own).
		actor := passport.Actor{Kind: passport.ActorPerson, IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
		if b.Session != nil {
			actor.AccountID = b.Session.AccountID
		}
		ctx := passport.WithActor(passport.WithBrowser(c.Request().Context(), b), actor)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// The device cookie (OWASP, "Slow down online guessing attacks with device cookies") marks a
// browser that has signed in to an account before: "nonce.mac", where the MAC binds the nonce
// to the folded login, so the cookie says nothing readable and fits no other account. Its
// holder's failed sign-ins count against the nonce instead of the login, so strangers
// guessing a login cannot lock its owner out. One account per browser: the last one that
// signed in.
const deviceCookieLifetime = 400 * 24 * time.Hour

func (s *Server) deviceMAC(nonce, foldedLogin string) string {
	m := hmac.New(sha256.New, s.cfg.Key[:])
	m.Write([]byte("device\x00" + nonce + "\x00" + foldedLogin))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// knownDevice returns the nonce of this browser's device cookie when it was issued for
// foldedLogin, else "".
func (s *Server) knownDevice(c echo.Context, foldedLogin string) string {
	ck, err := c.Cookie(s.cookie.device)
	if err != nil {
		return ""
	}
	nonce, mac, ok := strings.Cut(ck.Value, ".")
	if !ok || len(nonce) != 43 || !hmac.Equal([]byte(mac), []byte(s.deviceMAC(nonce, foldedLogin))) {
		return ""
	}
	return nonce
}

// rememberDevice gives the browser a device cookie for a after a full sign-in, keeping the
// one it has for the same account (and so that device's count of failures).
func (s *Server) rememberDevice(c echo.Context, a *passport.Account) {
	folded := passport.FoldLogin(a.Login)
	if s.knownDevice(c, folded) != "" {
		return
	}
	nonce := passport.NewToken()
	s.setCookie(c, s.cookie.device, nonce+"."+s.deviceMAC(nonce, folded), deviceCookieLifetime)
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
		token, err := s.csrfFrom(c)
		if err != nil {
			return err
		}
		b := browserOf(c)
		if b == nil || b.Hash == nil || subtle.ConstantTimeCompare([]byte(token), []byte(s.csrfToken(b))) != 1 {
			return passport.Errorf(passport.EFORBIDDEN, "This form has expired. Go back, reload the page and try again.")
		}
		return next(c)
	}
}

// csrfFrom reads the CSRF token from the X-CSRF-Token header or the form body, never the URL:
// a token in a query string leaks through logs, history and the Referer of the next page.
// A body cut at its size limit is answered 413 (it could not be a valid form anyway).
func (s *Server) csrfFrom(c echo.Context) (string, error) {
	r := c.Request()
	if token := r.Header.Get("X-CSRF-Token"); token != "" {
		return token, nil
	}
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(multipartMemory)
	} else {
		err = r.ParseForm()
	}
	if tooLarge(err) {
		if isPhotoUpload(r) {
			return "", s.photoTooLarge()
		}
		return "", echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	return r.PostForm.Get("csrf"), nil
}

func (s *Server) sameOrigin(origin string) bool {
	o, err := url.Parse(origin)
	if err != nil {
		return false
	}
	i, _ := url.Parse(s.cfg.Issuer)
	return o.Scheme == i.Scheme && o.Host == i.Host
}
