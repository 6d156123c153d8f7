package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// newRequestID is 96 random bits: unique enough to find a request in the logs.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// requestID takes a well-formed X-Request-Id from a proxy or makes one, returns it in the
// response and puts it in the request context for every log line of the request.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.SetRequest(c.Request().WithContext(passport.WithRequestID(c.Request().Context(), id)))
		return next(c)
	}
}

// logRequests logs one line per request: never the query string or the body, which carry
// codes, tokens and passwords.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		level := slog.LevelInfo
		if p := c.Request().URL.Path; p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/static/") {
			level = slog.LevelDebug
		}
		s.log.LogAttrs(c.Request().Context(), level, "request",
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", c.Response().Status),
			slog.Duration("duration", time.Since(start)),
			slog.String("ip", c.RealIP()))
		return nil
	}
}

// recoverPanics turns a panic into a logged internal error instead of a dropped connection.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// pageHeaders sets the security headers of Passport's own pages.
func (s *Server) pageHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// No form-action: a sign-in form's redirect chain ends at the application, and
		// browsers apply form-action to every hop.
		s.securityHeaders(c, "default-src 'none'; style-src 'self'; img-src 'self' data:; "+
			"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// protocolHeaders sets the headers of the protocol endpoints. The CSP carries only
// frame-ancestors: the library's form_post page needs its inline script.
func (s *Server) protocolHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.securityHeaders(c, "frame-ancestors 'none'")
		return next(c)
	}
}

func (s *Server) securityHeaders(c echo.Context, csp string) {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if s.cfg.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// noStore keeps tokens and personal data out of caches (RFC 6749 §5.1); the library does
// not set it.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		c.Response().Header().Set("Pragma", "no-cache")
		return next(c)
	}
}

// recorder buffers a response so that middleware can rewrite it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// record runs next with a buffered response and returns it.
func record(c echo.Context, next echo.HandlerFunc) (*recorder, error) {
	orig := c.Response().Writer
	rec := &recorder{header: orig.Header()}
	c.Response().Writer = rec
	err := next(c)
	res := c.Response()
	res.Writer = orig
	// The library "wrote" to the buffer through echo's Response, which now believes it is
	// committed; let the caller write for real.
	res.Committed, res.Size = false, 0
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec, err
}

// flush sends the buffered response unchanged. echo's before-hooks already ran when the
// library wrote its header, so it goes to the underlying writer directly.
func (r *recorder) flush(c echo.Context) error {
	res := c.Response()
	res.Writer.WriteHeader(r.status)
	res.Status, res.Committed = r.status, true
	n, err := res.Writer.Write(r.body.Bytes())
	res.Size = int64(n)
	return err
}

// htmlErrors turns the library's plain-text 400 answers (unknown client, unregistered
// redirect_uri, expired request) into a page. Those errors are never redirected to the
// application, because its redirect URI cannot be trusted.
func (s *Server) htmlErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rec, err := record(c, next)
		if err != nil {
			return err
		}
		if rec.status == http.StatusBadRequest && strings.HasPrefix(rec.header.Get("Content-Type"), "text/plain") {
			rec.header.Del("Content-Type")
			rec.header.Del("X-Content-Type-Options")
			detail := strings.TrimSpace(rec.body.String())
			if strings.Contains(detail, "retrieve client") {
				detail = "The application (client_id) is not registered with Passport."
			}
			return s.page(c, http.StatusBadRequest, "error", errorPage{Base: s.base(c, "Sign-in request refused"),
				Heading: "This sign-in request cannot be processed",
				Message: "The application sent a request that Passport cannot accept. Return to the application and try again, or tell its administrator.",
				Detail:  detail})
		}
		return rec.flush(c)
	}
}

// bearerErrors makes userinfo answer like an RFC 6750 resource server: 401 with
// WWW-Authenticate for a missing or invalid token, 403 for insufficient scope. The library
// answers plain-text 401 or 403 for both.
func (s *Server) bearerErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rec, err := record(c, next)
		if err != nil {
			return err
		}
		if rec.status != http.StatusUnauthorized && rec.status != http.StatusForbidden {
			return rec.flush(c)
		}
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &body)
		h := c.Response().Header()
		switch {
		case rec.status == http.StatusUnauthorized && strings.Contains(rec.body.String(), "missing"):
			h.Set("WWW-Authenticate", `Bearer realm="passport"`)
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "The access token is missing."})
		case body.Error == "insufficient_scope":
			h.Set("WWW-Authenticate", `Bearer realm="passport", error="insufficient_scope"`)
			return c.JSON(http.StatusForbidden, body)
		case body.Error == "server_error":
			return c.JSON(http.StatusInternalServerError, map[string]string{"error": "server_error"})
		default:
			h.Set("WWW-Authenticate", `Bearer realm="passport", error="invalid_token"`)
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "The access token is invalid, expired or revoked."})
		}
	}
}

// noQuery refuses credentials in the URL of the token, introspection and revocation
// endpoints (RFC 6749 §2.3.1: proxies and logs keep URLs).
func noQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().URL.RawQuery != "" {
			return c.JSON(http.StatusBadRequest, map[string]string{"error": "invalid_request",
				"error_description": "Send parameters in the request body, not in the URL."})
		}
		return next(c)
	}
}

// validText refuses requests whose query, form fields or path parameters are not valid
// UTF-8 or contain NUL: PostgreSQL cannot store them, and no person typed them.
func (s *Server) validText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		bad := false
		check := func(v string) {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				bad = true
			}
		}
		for _, v := range c.ParamValues() {
			check(v)
		}
		for k, vs := range r.URL.Query() {
			check(k)
			for _, v := range vs {
				check(v)
			}
		}
		if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			if err := r.ParseForm(); err == nil {
				for k, vs := range r.PostForm {
					check(k)
					for _, v := range vs {
						check(v)
					}
				}
			}
		}
		if !bad {
			return next(c)
		}
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/oauth/") || p == "/revoke" || p == "/userinfo":
			return c.JSON(http.StatusBadRequest, map[string]string{"error": "invalid_request",
				"error_description": "The request contains bytes that are not valid UTF-8 text."})
		default:
			return passport.Errorf(passport.EINVALID, "The request contains characters that are not valid text.")
		}
	}
}

// handleAuthorizePost turns a form-posted authorization request into a GET. A cross-site
// POST carries none of Passport's SameSite=Lax cookies, so the signed-in session would look
// absent; the redirected GET navigation carries them.
func (s *Server) handleAuthorizePost(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The authorization request could not be read.")
	}
	return c.Redirect(http.StatusSeeOther, "/authorize?"+form.Encode())
}

// onlyContact admits the :kind routes for email and phone only.
func onlyContact(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if k := c.Param("kind"); k != "email" && k != "phone" {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// formLimit bounds every request body except photo uploads: forms, JSON and protocol
// requests are small. It runs before anything reads the body (CSRF checks parse forms).
const formLimit = 64 << 10

// limitBody caps the request body before any handler or middleware reads it, so an
// oversized upload is cut off at the limit instead of being read (and spooled to disk) in
// full before the CSRF or sign-in checks refuse it.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		limit := int64(formLimit)
		photo := r.URL.Path == "/profile/photo" || r.URL.Path == "/api/v1/me/photo"
		if photo {
			limit = int64(s.cfg.Photo.MaxBytes) + formLimit
		}
		if r.ContentLength > limit {
			if photo {
				return &passport.Error{Code: passport.ETOOLARGE, Field: "photo",
					Message: "The photo is too large: the limit is " + passport.HumanBytes(s.cfg.Photo.MaxBytes) + "."}
			}
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}
