package web

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

type signinPage struct {
	Base
	AuthRequestID string
	ClientName    string
	Login         string
	Error         string
}

// msgWrongCredentials is the one message for an unknown login and a wrong password, so the
// page does not reveal which logins exist.
const msgWrongCredentials = "Wrong login or password."

// authRequest loads the auth request of a page and checks that this browser started it.
// Returns ENOTFOUND (shown as a page, never redirected) otherwise.
func (s *Server) authRequest(c echo.Context, id string) (*passport.AuthRequest, *passport.Client, error) {
	gone := passport.Errorf(passport.ENOTFOUND,
		"This sign-in request has expired or was opened in another browser. Return to the application and sign in again.")
	req, err := s.db.AuthRequest(c.Request().Context(), id)
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		return nil, nil, gone
	}
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare(req.BrowserHash, browserOf(c).Hash) != 1 || req.Done {
		return nil, nil, gone
	}
	client, err := s.db.Client(c.Request().Context(), req.ClientID)
	if err != nil {
		return nil, nil, err
	}
	return req, client, nil
}

// handleSigninForm shows the sign-in form, or skips it when the browser's session already
// satisfies the application's request (single sign-on). prompt=none never shows a page.
func (s *Server) handleSigninForm(c echo.Context) error {
	b := browserOf(c)
	id := c.QueryParam("authRequestID")
	if id == "" {
		if b.Session != nil {
			return c.Redirect(http.StatusFound, "/")
		}
		return s.page(c, http.StatusOK, "signin", signinPage{Base: s.base(c, "Sign in")})
	}
	req, client, err := s.authRequest(c, id)
	if err != nil {
		return err
	}
	sess := b.Session
	usable := sess != nil && !req.NeedsLogin(sess.AuthTime, s.db.Now()) &&
		(req.HintSubject == "" || req.HintSubject == sess.AccountID)
	if req.HasPrompt("none") {
		if !usable {
			s.oidc.Fail(c.Response(), c.Request(), req, "login_required", "The person is not signed in.")
			return nil
		}
		return s.continueFlow(c, req, client, sess)
	}
	if usable {
		return s.continueFlow(c, req, client, sess)
	}
	return s.page(c, http.StatusOK, "signin", signinPage{Base: s.base(c, "Sign in"), AuthRequestID: id,
		ClientName: client.DisplayName(), Login: req.LoginHint})
}

// handleSigninSubmit checks login and password, rate-limited per login and per client IP
// across replicas, then starts a fresh session and continues the application's request.
func (s *Server) handleSigninSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.FormValue("authRequestID")
	var req *passport.AuthRequest
	var client *passport.Client
	if id != "" {
		var err error
		if req, client, err = s.authRequest(c, id); err != nil {
			return err
		}
	}
	login, password := strings.TrimSpace(c.FormValue("login")), c.FormValue("password")
	form := signinPage{Base: s.base(c, "Sign in"), AuthRequestID: id, Login: login}
	if client != nil {
		form.ClientName = client.DisplayName()
	}
	fail := func(status int, msg string) error {
		form.Error = msg
		return s.page(c, status, "signin", form)
	}
	if login == "" || password == "" {
		return fail(http.StatusBadRequest, "Enter your login and password.")
	}
	if len(login) > 256 || len(password) > 1024 {
		return fail(http.StatusBadRequest, msgWrongCredentials)
	}

	// Both counters move before the password is checked, in one statement each, so parallel
	// guesses cannot slip past the limit; a blocked attempt costs no argon2 work.
	loginKey := "signin:login:" + passport.FoldLogin(login)
	ipHits, ipReset, err := s.db.Hit(ctx, "signin:ip:"+c.RealIP(), s.cfg.RateWindow)
	if err != nil {
		return err
	}
	loginHits, loginReset, err := s.db.Hit(ctx, loginKey, s.cfg.RateWindow)
	if err != nil {
		return err
	}
	if ipHits > s.cfg.RatePerIP || loginHits > s.cfg.RatePerAccount {
		retry := loginReset
		if ipHits > s.cfg.RatePerIP && ipReset.After(retry) {
			retry = ipReset
		}
		wait := retry.Sub(s.db.Now())
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		return fail(http.StatusTooManyRequests, fmt.Sprintf("Too many sign-in attempts. Try again in %s.", humanDuration(wait)))
	}

	account, err := s.db.AccountByLogin(ctx, login)
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		passport.CheckPassword(s.dummyHash, password, s.cfg.Argon2)
		return fail(http.StatusUnauthorized, msgWrongCredentials)
	}
	if err != nil {
		return err
	}
	ok, stale := passport.CheckPassword(account.PasswordHash, password, s.cfg.Argon2)
	if !ok {
		return fail(http.StatusUnauthorized, msgWrongCredentials)
	}
	if err := s.db.ResetLimit(ctx, loginKey); err != nil {
		return err
	}
	if stale {
		// The argon2id settings changed since this hash was made: upgrade it now that we
		// know the password.
		if h, err := passport.HashPassword(password, s.cfg.Argon2); err == nil {
			if err := s.db.SetPasswordHash(ctx, account.ID, h); err != nil {
				s.log.WarnContext(ctx, "rehashing a password", slog.String("error", err.Error()))
			}
		}
	}
	switch account.Status {
	case passport.StatusActive:
	case passport.StatusBlocked:
		return fail(http.StatusForbidden, "This account is blocked. Contact your administrator.")
	case passport.StatusPendingDeletion:
		return fail(http.StatusForbidden, "This account is scheduled for deletion.")
	default:
		return fail(http.StatusForbidden, "This account cannot sign in.")
	}

	sess, err := s.startSession(c, account, []string{passport.AMRPassword})
	if err != nil {
		return err
	}
	if req == nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.continueFlow(c, req, client, sess)
}

// startSession ends the browser's previous session and starts a new one under a new cookie,
// so a session id planted before sign-in is worthless afterwards.
func (s *Server) startSession(c echo.Context, a *passport.Account, amr []string) (*passport.Session, error) {
	ctx := c.Request().Context()
	b := browserOf(c)
	if b.Session != nil {
		if err := s.db.EndSession(ctx, b.Session.ID); err != nil {
			return nil, err
		}
	}
	now := s.db.Now().UTC().Truncate(time.Second)
	token := passport.NewToken()
	sess := &passport.Session{AccountID: a.ID, AuthTime: now, AMR: amr, CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.SessionLifetime), IP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512)}
	if err := s.db.CreateSession(ctx, passport.HashToken(token), sess); err != nil {
		return nil, err
	}
	s.setCookie(c, s.cookie.session, token, s.cfg.SessionLifetime)
	b.Session = sess
	return sess, nil
}

// continueFlow runs after the person is known: consent when needed, then back to the
// library's callback, which issues the code.
func (s *Server) continueFlow(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session) error {
	missing, err := s.missingConsent(c, req, sess.AccountID)
	if err != nil {
		return err
	}
	if len(missing) > 0 || req.HasPrompt("consent") {
		if req.HasPrompt("none") {
			s.oidc.Fail(c.Response(), c.Request(), req, "consent_required", "The person has not consented to this application.")
			return nil
		}
		return c.Redirect(http.StatusSeeOther, "/consent?authRequestID="+req.ID)
	}
	return s.complete(c, req, sess)
}

// complete marks the request done for this session and hands it to the callback.
func (s *Server) complete(c echo.Context, req *passport.AuthRequest, sess *passport.Session) error {
	if err := s.db.CompleteAuthRequest(c.Request().Context(), req.ID, browserOf(c).Hash, sess); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, s.oidc.CallbackURL(req.ID))
}

// consentScopes are the requested scopes that need the person's consent: all but openid,
// which only says who they are to an application they chose to sign in to.
func consentScopes(req *passport.AuthRequest) []string {
	var out []string
	for _, sc := range req.Scopes {
		if sc != passport.ScopeOpenID {
			out = append(out, sc)
		}
	}
	return out
}

func (s *Server) missingConsent(c echo.Context, req *passport.AuthRequest, accountID string) ([]string, error) {
	granted, err := s.db.ConsentedScopes(c.Request().Context(), accountID, req.ClientID)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, sc := range consentScopes(req) {
		if !slices.Contains(granted, sc) {
			missing = append(missing, sc)
		}
	}
	return missing, nil
}

// handleSigninCancel is the sign-in page's Cancel button: access_denied to the application.
func (s *Server) handleSigninCancel(c echo.Context) error {
	req, _, err := s.authRequest(c, c.FormValue("authRequestID"))
	if err != nil {
		return err
	}
	s.oidc.Fail(c.Response(), c.Request(), req, "access_denied", "The person cancelled the sign-in.")
	return nil
}

type scopeLine struct {
	Scope       string
	Description string
}

type consentPage struct {
	Base
	AuthRequestID string
	ClientName    string
	Scopes        []scopeLine
}

var scopeDescriptions = map[string]string{
	passport.ScopeProfile:       "Your name, nickname, login, birth date and language",
	passport.ScopeEmail:         "Your email address",
	passport.ScopePhone:         "Your phone number",
	passport.ScopeOfflineAccess: "Keep access while you are away (the application may refresh its tokens)",
}

// handleConsentForm shows what the application asks for, with Allow and Deny.
func (s *Server) handleConsentForm(c echo.Context) error {
	id := c.QueryParam("authRequestID")
	req, client, err := s.authRequest(c, id)
	if err != nil {
		return err
	}
	if browserOf(c).Session == nil {
		return c.Redirect(http.StatusFound, "/signin?authRequestID="+id)
	}
	page := consentPage{Base: s.base(c, "Allow access"), AuthRequestID: id, ClientName: client.DisplayName()}
	page.Scopes = append(page.Scopes, scopeLine{passport.ScopeOpenID, "Know that it is you (your Passport account ID)"})
	for _, sc := range consentScopes(req) {
		d := scopeDescriptions[sc]
		if d == "" {
			d = "Access named “" + sc + "”"
		}
		page.Scopes = append(page.Scopes, scopeLine{sc, d})
	}
	return s.page(c, http.StatusOK, "consent", page)
}

// handleConsentSubmit stores the consent and completes the request, or sends access_denied.
func (s *Server) handleConsentSubmit(c echo.Context) error {
	id := c.FormValue("authRequestID")
	req, _, err := s.authRequest(c, id)
	if err != nil {
		return err
	}
	sess := browserOf(c).Session
	if sess == nil {
		return c.Redirect(http.StatusSeeOther, "/signin?authRequestID="+id)
	}
	switch c.FormValue("decision") {
	case "allow":
		if err := s.db.GrantConsent(c.Request().Context(), sess.AccountID, req.ClientID, consentScopes(req)); err != nil {
			return err
		}
		return s.complete(c, req, sess)
	case "deny":
		s.oidc.Fail(c.Response(), c.Request(), req, "access_denied", "The person denied access.")
		return nil
	default:
		return passport.Errorf(passport.EINVALID, "Choose Allow or Deny.")
	}
}

func humanDuration(d time.Duration) string {
	if m := int(math.Ceil(d.Minutes())); m > 1 {
		return fmt.Sprintf("%d minutes", m)
	}
	return "a minute"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
