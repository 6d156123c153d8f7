package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
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
		ctx := passport.WithFaults(passport.WithRequestID(c.Request().Context(), id), new(passport.Faults))
		c.SetRequest(c.Request().WithContext(ctx))
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

// Content security policies. A page may load Passport's own styles, scripts and images; no
// form-action, because a sign-in form's redirect chain ends at the application and browsers
// apply form-action to every hop. Anything else (JSON, vCards, files) may load nothing.
const (
	cspPage = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
		"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
	cspNone = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
	// The library's form_post page needs its inline script: frame-ancestors only.
	cspProtocol = "frame-ancestors 'none'"
)

// securityHeaders puts the security headers on every response, whatever answers it (a
// page, the API, a 404 or 405 from the router, a file): later middleware may only narrow or
// adapt the CSP.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", cspNone)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if s.cfg.Secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// pageHeaders sets the headers of Passport's own pages.
func (s *Server) pageHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", cspPage)
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// protocolHeaders sets the headers of the protocol endpoints.
func (s *Server) protocolHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", cspProtocol)
		return next(c)
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

// retryAfter is how many seconds a client is asked to wait when the database is down.
const retryAfter = "5"

// unavailable reports whether the request met an unreachable database (the store notes it
// in the request context, wherever it happened).
func unavailable(c echo.Context) bool { return passport.Unavailable(c.Request().Context()) }

// protocolError is the JSON body of every protocol error (RFC 6749 §5.2, RFC 6750 §3,
// RFC 7662 §2.3, RFC 7009 §2.2.1).
type protocolError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeProtocolError replaces whatever the library had put in the header for its own error.
func writeProtocolError(c echo.Context, status int, e protocolError) error {
	h := c.Response().Header()
	h.Del("Content-Type")
	h.Del("Content-Length")
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", retryAfter)
	}
	return c.JSON(status, e)
}

// errUnavailableJSON is the answer to any protocol call that the database's absence broke:
// never a credential error, which a client would take for a revoked secret.
var errUnavailableJSON = protocolError{Error: "temporarily_unavailable",
	Description: "Passport is temporarily unavailable. Try again in a few seconds."}

const serverErrorText = "Something went wrong on our side. Try again later."

// protocolErrors makes every error of the token, introspection and revocation endpoints a
// JSON error without internal text: the library answers some of them in plain text with its
// error chain inside (introspection's failed client authentication, which carried database
// details during an outage), and copies a Go error's text into server_error descriptions. A
// 401 to a client that authenticated with HTTP Basic carries WWW-Authenticate (RFC 6749
// §5.2). When the database was unreachable the answer is 503 temporarily_unavailable.
func (s *Server) protocolErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rec, err := record(c, next)
		if err != nil {
			return err
		}
		if rec.status < http.StatusBadRequest {
			return rec.flush(c)
		}
		if unavailable(c) {
			return writeProtocolError(c, http.StatusServiceUnavailable, errUnavailableJSON)
		}
		var e protocolError
		status := rec.status
		if json.Unmarshal(rec.body.Bytes(), &e) != nil || e.Error == "" {
			e = protocolError{Error: "invalid_request", Description: "The request is not valid."}
			if status == http.StatusUnauthorized {
				e = protocolError{Error: "invalid_client", Description: "Client authentication failed."}
			}
		}
		if e.Error == "server_error" || status >= http.StatusInternalServerError {
			e, status = protocolError{Error: "server_error", Description: serverErrorText}, http.StatusInternalServerError
		}
		if status == http.StatusUnauthorized && triedBasic(c.Request()) {
			c.Response().Header().Set("WWW-Authenticate", `Basic realm="passport", charset="UTF-8"`)
		}
		return writeProtocolError(c, status, e)
	}
}

// triedBasic reports whether the client tried HTTP Basic authentication, even with a header
// that does not parse ("Basic" alone, bad base64): RFC 6749 §5.2 asks for the challenge
// whenever the client attempted the Authorization header's scheme.
func triedBasic(r *http.Request) bool {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Basic")
}

// bearerErrors makes userinfo answer like an RFC 6750 resource server: 401 with
// WWW-Authenticate for a missing or invalid token, 403 for insufficient scope, 503 when the
// database was unreachable. The library answers plain-text 401 or 403 for all of them.
func (s *Server) bearerErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rec, err := record(c, next)
		if err != nil {
			return err
		}
		if rec.status < http.StatusBadRequest {
			return rec.flush(c)
		}
		if unavailable(c) {
			return writeProtocolError(c, http.StatusServiceUnavailable, errUnavailableJSON)
		}
		var body protocolError
		_ = json.Unmarshal(rec.body.Bytes(), &body)
		h := c.Response().Header()
		switch {
		case rec.status == http.StatusUnauthorized && strings.Contains(rec.body.String(), "missing"):
			h.Set("WWW-Authenticate", `Bearer realm="passport"`)
			return writeProtocolError(c, http.StatusUnauthorized, protocolError{Error: "invalid_request", Description: "The access token is missing."})
		case body.Error == "insufficient_scope":
			h.Set("WWW-Authenticate", `Bearer realm="passport", error="insufficient_scope"`)
			return writeProtocolError(c, http.StatusForbidden, body)
		case body.Error == "server_error" || rec.status >= http.StatusInternalServerError:
			return writeProtocolError(c, http.StatusInternalServerError, protocolError{Error: "server_error", Description: serverErrorText})
		default:
			h.Set("WWW-Authenticate", `Bearer realm="passport", error="invalid_token"`)
			return writeProtocolError(c, http.StatusUnauthorized, protocolError{Error: "invalid_token", Description: "The access token is invalid, expired or revoked."})
		}
	}
}

// authorizeErrors turns the library's plain-text 400 answers at /authorize and its
// callback (unknown client, unregistered redirect_uri, unreadable parameters, expired
// request) into a page that explains in words; such errors are never redirected to the
// application, because its redirect URI cannot be trusted. When the database was
// unreachable, the person gets a "try again" page instead of a wrong explanation, or the
// application gets temporarily_unavailable instead of server_error.
func (s *Server) authorizeErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rec, err := record(c, next)
		if err != nil {
			return err
		}
		if unavailable(c) {
			// A validated redirect gets RFC 6749's own code for this; otherwise a page.
			if loc := rec.header.Get("Location"); strings.Contains(loc, "error=server_error") {
				rec.header.Set("Location", strings.Replace(loc, "error=server_error", "error=temporarily_unavailable", 1))
				return rec.flush(c)
			}
			if rec.status >= http.StatusBadRequest {
				return s.unavailablePage(c)
			}
		}
		if rec.status >= http.StatusBadRequest && !strings.HasPrefix(rec.header.Get("Content-Type"), "application/json") {
			rec.header.Del("Content-Type")
			return s.requestRefusedPage(c, passport.Text("Sign-in request refused"), passport.Text("This sign-in request cannot be processed"),
				passport.Text("The application sent a request that Passport cannot accept. Return to the application and try again, or tell its administrator."),
				explainAuthorizeError(rec.body.String()))
		}
		return rec.flush(c)
	}
}

// endSessionErrors shows the logout endpoint's errors as a page: a browser arrives there,
// and the library answers in JSON (or, for a request it cannot parse, a plain-text 500).
func (s *Server) endSessionErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rec, err := record(c, next)
		if err != nil {
			return err
		}
		if rec.status < http.StatusBadRequest {
			return rec.flush(c)
		}
		rec.header.Del("Content-Type")
		if unavailable(c) {
			return s.unavailablePage(c)
		}
		var e protocolError
		_ = json.Unmarshal(rec.body.Bytes(), &e)
		detail := endSessionDetails[e.Description]
		switch {
		case detail != nil:
		case e.Error == "invalid_client":
			detail = &passport.Error{Message: "The application (client_id) is not registered with Passport."}
		case strings.Contains(e.Description, "post_logout_redirect_uri"):
			detail = &passport.Error{Message: "The address to return to (post_logout_redirect_uri) is not registered for this application."}
		default:
			detail = &passport.Error{Message: "The request's parameters could not be read."}
		}
		return s.requestRefusedPage(c, passport.Text("Sign-out request refused"), passport.Text("This sign-out request cannot be processed"),
			passport.Text("The application sent a sign-out request that Passport cannot accept. You are still signed in to Passport; you can sign out from your profile page."),
			detail)
	}
}

// endSessionDetails explain the library's logout errors by their description.
var endSessionDetails = map[string]*passport.Error{
	"id_token_hint invalid":                         {Message: "The id_token_hint is not an ID token issued by Passport."},
	"client_id does not match azp of id_token_hint": {Message: "The client_id does not match the application of the id_token_hint."},
}

// requestRefusedPage is the 400 page of a protocol request a browser brought: a sentence
// for the person and one for the application's developer, shown in the request's language.
func (s *Server) requestRefusedPage(c echo.Context, title, heading, message passport.Text, detail *passport.Error) error {
	c.Response().Header().Set("Content-Security-Policy", cspPage)
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.page(c, http.StatusBadRequest, "error", errorPage{Base: s.base(c, string(title)), Heading: s.text(c, string(heading)),
		Message: s.text(c, string(message)), Detail: s.errText(c, detail)})
}

var paramName = regexp.MustCompile(`for "([a-z_]{1,40})"`)

// explainAuthorizeError says in words what was wrong with a request the library refused,
// without repeating its text (which names Go packages and internal errors): a sentence of
// the catalogue with its arguments, shown in the person's language.
func explainAuthorizeError(text string) *passport.Error {
	switch t := strings.ToLower(text); {
	case strings.Contains(t, "retrieve client"):
		return passport.Errorf(passport.EINVALID, "The application (client_id) is not registered with Passport.")
	case strings.Contains(t, "missing client_id"):
		return passport.Errorf(passport.EINVALID, "The request does not name the application: client_id is missing.")
	case strings.Contains(t, "missing redirect_uri"), strings.Contains(t, "redirect_uri is missing in the request"):
		return passport.Errorf(passport.EINVALID, "The request does not say where to return: redirect_uri is missing.")
	case strings.Contains(t, "redirect_uri is missing in the client configuration"):
		return passport.Errorf(passport.EINVALID, "The address to return to (redirect_uri) is not registered for this application.")
	case strings.Contains(t, "redirect_uri is http"), strings.Contains(t, "custom schema"):
		return passport.Errorf(passport.EINVALID, "The address to return to (redirect_uri) is not allowed for this application.")
	case strings.Contains(t, "not found or expired"):
		return passport.Errorf(passport.EINVALID, "This sign-in request has expired or was started in another browser.")
	case paramName.MatchString(text):
		return passport.Errorf(passport.EINVALID, "The parameter %s has a value Passport cannot read.", paramName.FindStringSubmatch(text)[1])
	}
	return passport.Errorf(passport.EINVALID, "The request's parameters could not be read.")
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
		p := r.URL.Path
		protocol := strings.HasPrefix(p, "/oauth/") || p == "/revoke" || p == "/userinfo"
		if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			err := r.ParseForm()
			if tooLarge(err) {
				// A body cut at its limit (chunked, so no Content-Length said so before):
				// 413, not the CSRF refusal that reading the cut form would give.
				if protocol {
					return writeProtocolError(c, http.StatusRequestEntityTooLarge, protocolError{Error: "invalid_request",
						Description: "The request body is too large."})
				}
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			if err == nil {
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
		if protocol {
			return writeProtocolError(c, http.StatusBadRequest, protocolError{Error: "invalid_request",
				Description: "The request contains bytes that are not valid UTF-8 text."})
		}
		return passport.Errorf(passport.EINVALID, "The request contains characters that are not valid text.")
	}
}

// tooLarge reports whether err comes from reading past a body's limit (limitBody).
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
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

// onlyCodeFlow answers an authorization request for any response type other than code
// (Passport offers the authorization code flow only) with unsupported_response_type at the
// application's redirect URI (RFC 6749 §4.1.2.1), and one with request_uri or registration
// with request_uri_not_supported or registration_not_supported (OIDC Core §6.2, §7.2.1;
// the library would ignore them silently) — once the client is known and the
// redirect URI is one of its registered ones; anything else goes on to the library, which
// refuses it with a page.
func (s *Server) onlyCodeFlow(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.Request().URL.Query()
		var code, description string
		switch rt := q.Get("response_type"); {
		case rt != "" && rt != "code":
			code, description = "unsupported_response_type", "Passport supports response_type=code only."
		case q.Has("request_uri"): // OIDC Core §6.2; discovery says request_uri_parameter_supported: false
			code, description = "request_uri_not_supported", "Passport does not fetch request objects by reference."
		case q.Has("registration"): // OIDC Core §7.2.1
			code, description = "registration_not_supported", "Passport does not take client metadata in the request."
		default:
			return next(c)
		}
		client, err := s.db.Client(c.Request().Context(), q.Get("client_id"))
		if passport.ErrorCode(err) == passport.ENOTFOUND {
			return next(c)
		}
		if err != nil {
			return err
		}
		redirect := q.Get("redirect_uri")
		u, perr := url.Parse(redirect)
		if client.Disabled || !slices.Contains(client.RedirectURIs, redirect) || perr != nil {
			return next(c)
		}
		v := u.Query()
		v.Set("error", code)
		v.Set("error_description", description)
		if state := q.Get("state"); state != "" {
			v.Set("state", state)
		}
		u.RawQuery, u.Fragment = v.Encode(), ""
		return c.Redirect(http.StatusFound, u.String())
	}
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

// multipartMemory is how much of a multipart form is kept in memory; the body limit is
// lower, so nothing is spooled to disk.
const multipartMemory = 32 << 20

func isPhotoUpload(r *http.Request) bool {
	return r.URL.Path == "/profile/photo" || r.URL.Path == "/api/v1/me/photo"
}

// isImportUpload is a CSV import of members (admin API or console form), read by its
// handler with its own cap (importLimit).
func isImportUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/imports") &&
		(strings.HasPrefix(r.URL.Path, "/api/v1/admin/orgs/") || strings.HasPrefix(r.URL.Path, "/admin/orgs/"))
}

func (s *Server) photoTooLarge() error {
	return &passport.Error{Code: passport.ETOOLARGE, Field: "photo",
		Message: "The photo is too large: the limit is %s.", Args: []any{passport.Bytes(s.cfg.Photo.MaxBytes)}}
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
		photo := isPhotoUpload(r)
		if photo {
			limit = int64(s.cfg.Photo.MaxBytes) + formLimit
		}
		if isImportUpload(r) {
			limit = importLimit + formLimit
		}
		if r.ContentLength > limit {
			if photo {
				return s.photoTooLarge()
			}
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}
