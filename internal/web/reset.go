package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// Forgotten password (SPEC §8, §9). The person names the account by login, email address or
// phone number; a code goes through the queue to its verified email address (with a link)
// or by SMS to its verified phone; the code, or the link in any browser, opens a form for a
// new password (and the second factor, when the account has one), which the cabinet's own
// action sets: every session ends, every token is revoked, the auth epoch moves. Nothing on
// the way says whether an account exists: a request that finds nobody does the same work,
// counts against the same limits, answers the same page and takes wrong codes the same way.
// Each step checks again what the steps before it proved.

const (
	// resetGuessWindow is the window of the code attempts counted per request and per name
	// typed: a day, so that guessing six digits stays hopeless however often codes are
	// asked for.
	resetGuessWindow = 24 * time.Hour
	// resetStoreDelay is how long after its answer a request is stored and its message
	// queued: long enough for the answer to have left, so that its time cannot tell whether
	// a message went out.
	resetStoreDelay = 100 * time.Millisecond
)

type forgotPage struct {
	Base
	AuthRequestID string
	ClientName    string
	Login         string // what the person typed, shown again after a mistake
	Token         string // the code step's signed token; "" on the first step
	Error         string // already in the request's language
}

type resetPage struct {
	Base
	Token      string // the link's token (Link), else the new-password step's signed token
	Link       bool   // the email link's landing page: a button, nothing changed yet
	TwoFactor  bool
	PurgeAt    *time.Time // the account waits for deletion: it is told how to restore instead
	ClientName string
	Errors     map[string]string
}

// resetGone is the one answer for a step whose earlier steps no longer hold, whatever the
// reason: expired, replaced, used, another browser's, or an account that may not reset.
func resetGone() error {
	return passport.Errorf(passport.ENOTFOUND, "This password reset has expired or is no longer valid. Start again.")
}

// resetFlow returns the application's sign-in the person came from, when it is still
// waiting in this browser; otherwise the person ends at Passport's own sign-in.
func (s *Server) resetFlow(c echo.Context, id string) (authRequestID, clientName string) {
	if id == "" {
		return "", ""
	}
	_, client, err := s.authRequest(c, id)
	if err != nil {
		return "", ""
	}
	return id, client.DisplayName()
}

// limitKey names a rate-limit counter after something a person typed, keyed, so that the
// counters hold no addresses.
func (s *Server) limitKey(v string) string {
	m := hmac.New(sha256.New, s.cfg.Codes.Key[:])
	m.Write([]byte("rate-limit\x00" + v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// overLimit reports whether any count is over its limit and, if so, sets Retry-After to
// when the last of them ends.
func (s *Server) overLimit(c echo.Context, counts []postgres.Count, limits ...int) (time.Duration, bool) {
	var retry time.Time
	for i, limit := range limits {
		if counts[i].Hits > limit && counts[i].ResetAt.After(retry) {
			retry = counts[i].ResetAt
		}
	}
	if retry.IsZero() {
		return 0, false
	}
	wait := retry.Sub(s.db.Now())
	c.Response().Header().Set("Retry-After", fmt.Sprint(max(1, int(math.Ceil(wait.Seconds())))))
	return wait, true
}

// tryAgainIn is a refusal that says when to try again: oneMinute, or minutes (a plural
// sentence of the catalogue) when the wait is longer.
func (s *Server) tryAgainIn(c echo.Context, wait time.Duration, oneMinute, minutes string) string {
	if m := int(math.Ceil(wait.Minutes())); m > 1 {
		return s.text(c, minutes, passport.Count(m))
	}
	return s.text(c, oneMinute)
}

// forgotForm is the first step's page, within the application's sign-in when there is
// one: a request opened in another browser is refused, as on the sign-in page.
func (s *Server) forgotForm(c echo.Context, authRequestID string) (forgotPage, error) {
	p := forgotPage{Base: s.base(c, "Forgot your password?")}
	if authRequestID != "" {
		_, client, err := s.authRequest(c, authRequestID)
		if err != nil {
			return p, err
		}
		p.AuthRequestID, p.ClientName = authRequestID, client.DisplayName()
	}
	return p, nil
}

// handleForgotForm asks for the login, email address or phone number.
func (s *Server) handleForgotForm(c echo.Context) error {
	p, err := s.forgotForm(c, c.QueryParam("authRequestID"))
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "forgot", p)
}

// handleForgotSubmit sends a code when what was typed names an account that may reset its
// password, and in every case goes on to the same code page.
func (s *Server) handleForgotSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.forgotForm(c, c.FormValue("authRequestID"))
	if err != nil {
		return err
	}
	who := strings.TrimSpace(c.FormValue("login"))
	p.Login = who
	if who == "" || len(who) > 256 {
		p.Error = s.text(c, "Enter your login, email address or phone number.")
		return s.page(c, http.StatusBadRequest, "forgot", p)
	}
	// What was typed is looked up as a login, and also as an email address when it has an @,
	// or as a phone number when it reads as one. The counters' key is its one reading.
	email, phone, key := "", "", passport.FoldLogin(who)
	if strings.Contains(who, "@") {
		email, key = who, strings.ToLower(who)
	} else if number, err := s.normalizePhone(c, who); err == nil {
		phone, key = number, number
	}
	key = s.limitKey(key)

	found, err := s.db.ResetCandidates(ctx, who, email, phone)
	if err != nil {
		return err
	}
	a, channel, to, ok := passport.ResetTarget(found)
	// Every counter moves in one statement, before anything is sent. The IP and what was
	// typed are limited visibly, the same for every name; the account and the address the
	// code goes to only silently (nothing is sent, the answer stays the same), since
	// refusing aloud would tell that a name belongs to an account, or that two names
	// belong to the same one. A request that found nobody counts stand-ins instead.
	account, dest := "?"+key, "?"+key
	if ok {
		account, dest = a.ID, s.limitKey(to)
	}
	counts, err := s.db.HitAll(ctx, s.cfg.RateWindow, "reset:ip:"+c.RealIP(), "reset:who:"+key,
		"reset:account:"+account, "reset:to:"+dest)
	if err != nil {
		return err
	}
	if wait, over := s.overLimit(c, counts, s.cfg.RatePerIP, s.cfg.Codes.MaxSends); over {
		p.Error = s.tryAgainIn(c, wait, "Too many requests. Try again in a minute.", "Too many requests. Try again in %d minutes.")
		return s.page(c, http.StatusTooManyRequests, "forgot", p)
	}
	send := ok && counts[2].Hits <= s.cfg.Codes.MaxSends && counts[3].Hits <= s.cfg.Codes.MaxSends

	// The request is made, and its message rendered and sealed, whether or not it is sent:
	// the same work for every name.
	handle, code, now := uuid.NewString(), newCode(6), s.db.Now()
	r := &passport.PasswordReset{ID: handle, CodeHash: s.codeHash(handle, "password_reset", code),
		AuthRequestID: p.AuthRequestID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.Codes.Lifetime)}
	data := MessageData{Code: code, Minutes: int(s.cfg.Codes.Lifetime.Minutes())}
	recipient := passport.Account{Login: who}
	if ok {
		recipient = *a
	} else {
		channel = passport.ChannelEmail
	}
	if recipient.Locale == "" {
		recipient.Locale = s.localizer(c).Lang()
	}
	if channel == passport.ChannelEmail {
		link := passport.NewToken()
		data.Link, r.LinkHash = s.cfg.Issuer+"/signin/forgot/link?token="+link, passport.HashToken(link)
	}
	msg, err := s.message(channel, to, "password_reset", &recipient, data)
	if err != nil {
		return err
	}
	if send {
		// Stored and queued after the answer (one transaction), so that an answer which sends
		// a message takes no longer than one which finds nobody, and a failing database
		// cannot tell them apart either. Should this process stop in between, the person
		// asks again.
		r.AccountID = a.ID
		bg := context.WithoutCancel(ctx)
		time.AfterFunc(resetStoreDelay, func() {
			ctx, cancel := context.WithTimeout(bg, 30*time.Second)
			defer cancel()
			if err := s.db.StartReset(ctx, r, msg); err != nil {
				s.log.ErrorContext(ctx, "storing a password reset", slog.String("error", err.Error()))
			}
		})
	}
	token := s.signedToken(c, "reset-code", s.cfg.Codes.Lifetime, handle, p.AuthRequestID, key)
	return c.Redirect(http.StatusSeeOther, "/signin/forgot/code?token="+token)
}

// codeStep opens the code step's token: the request's id, the application's sign-in, and
// the key of what was typed.
func (s *Server) codeStep(c echo.Context, token string) (forgotPage, []string, error) {
	parts, ok := s.openToken(c, "reset-code", token)
	if !ok || len(parts) != 3 {
		return forgotPage{}, nil, resetGone()
	}
	p := forgotPage{Base: s.base(c, "Enter the code"), Token: token}
	p.Here = "/signin/forgot/code?token=" + token // the language switcher comes back here
	p.AuthRequestID, p.ClientName = s.resetFlow(c, parts[1])
	return p, parts, nil
}

// handleResetCodeForm is the page after a request: it says where a code went if the account
// exists, the same for every request.
func (s *Server) handleResetCodeForm(c echo.Context) error {
	p, _, err := s.codeStep(c, c.QueryParam("token"))
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "forgot", p)
}

// handleResetCode checks the code. Attempts are counted before the check, per request, per
// name typed and per client address, in rate_limits: a request that found nobody has no
// row, and its wrong codes are answered exactly like a real one's.
func (s *Server) handleResetCode(c echo.Context) error {
	ctx := c.Request().Context()
	p, parts, err := s.codeStep(c, c.FormValue("token"))
	if err != nil {
		return err
	}
	handle, key := parts[0], parts[2]
	fail := func(err error) error {
		p.Error = s.errText(c, err)
		return s.page(c, formStatus(err), "forgot", p)
	}
	code := strings.TrimSpace(c.FormValue("code"))
	if code == "" {
		return fail(passport.FieldError("code", "Enter the code."))
	}
	perIP, err := s.db.HitAll(ctx, s.cfg.RateWindow, "reset:ip:"+c.RealIP())
	if err != nil {
		return err
	}
	guesses, err := s.db.HitAll(ctx, resetGuessWindow, "reset:code:"+handle, "reset:guess:"+key)
	if err != nil {
		return err
	}
	_, ipOver := s.overLimit(c, perIP, s.cfg.RatePerIP)
	_, nameOver := s.overLimit(c, guesses[1:], 4*s.cfg.Codes.MaxAttempts)
	if ipOver || nameOver {
		return fail(&passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Too many attempts. Try again later."})
	}
	if guesses[0].Hits > s.cfg.Codes.MaxAttempts {
		return fail(&passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Too many wrong codes. Ask for a new code."})
	}
	r, err := s.db.VerifyResetCode(ctx, handle, s.codeHash(handle, "password_reset", code), s.cfg.Codes.Lifetime)
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		if left := s.cfg.Codes.MaxAttempts - guesses[0].Hits; left > 0 {
			return fail(passport.FieldError("code", "Wrong code. %d attempts left.", passport.Count(left)))
		}
		return fail(&passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Wrong code, and that was the last attempt. Ask for a new code."})
	}
	if err != nil {
		return err
	}
	return s.resetVerified(c, r)
}

// handleResetLinkForm is where the email's link lands: a button, since mail scanners open
// links and a GET must not change anything.
func (s *Server) handleResetLinkForm(c echo.Context) error {
	return s.page(c, http.StatusOK, "reset", resetPage{Base: s.base(c, "Choose a new password"), Link: true,
		Token: c.QueryParam("token")})
}

// handleResetLink accepts the link in any browser: the link itself proves the mailbox.
func (s *Server) handleResetLink(c echo.Context) error {
	token := c.FormValue("token")
	if len(token) != 43 {
		return passport.Errorf(passport.ENOTFOUND, "This link has expired or was already used.")
	}
	r, err := s.db.VerifyResetLink(c.Request().Context(), passport.HashToken(token), s.cfg.Codes.Lifetime)
	if err != nil {
		return err
	}
	return s.resetVerified(c, r)
}

// resetVerified goes on once the code or the link was right, to the new-password page
// (a GET, so that reloading it sends no code again), with a token bound to this browser, to
// the reset and to the account's auth epoch.
func (s *Server) resetVerified(c echo.Context, r *passport.PasswordReset) error {
	a, err := s.db.Account(c.Request().Context(), r.AccountID)
	if err != nil {
		return err
	}
	token := s.signedToken(c, "reset-password", s.cfg.Codes.Lifetime, r.ID, strconv.Itoa(a.AuthEpoch))
	return c.Redirect(http.StatusSeeOther, "/signin/forgot/password?token="+token)
}

// passwordStep opens the new-password step's token and checks again what it stands for:
// this browser verified the reset, which is neither used nor expired (nor replaced), and
// the account's credentials did not change since. It returns the account's TOTP secret, ""
// without two factors.
func (s *Server) passwordStep(c echo.Context, token string) (*passport.PasswordReset, *passport.Account, string, error) {
	ctx := c.Request().Context()
	parts, ok := s.openToken(c, "reset-password", token)
	if !ok || len(parts) != 2 {
		return nil, nil, "", resetGone()
	}
	r, err := s.db.VerifiedReset(ctx, parts[0])
	if err != nil {
		return nil, nil, "", err
	}
	a, err := s.db.Account(ctx, r.AccountID)
	if err != nil {
		return nil, nil, "", err
	}
	if strconv.Itoa(a.AuthEpoch) != parts[1] {
		return nil, nil, "", resetGone()
	}
	secret, err := s.totpSecret(ctx, a.ID)
	return r, a, secret, err
}

// renderReset shows the new-password form; or, for an account waiting for deletion, how to
// restore it, and nothing changes; any other account that is not active gets the answer of
// a reset that no longer holds.
func (s *Server) renderReset(c echo.Context, status int, token string, r *passport.PasswordReset, a *passport.Account,
	twoFactor bool, errs FieldErrors) error {
	p := resetPage{Base: s.base(c, "Choose a new password"), Token: token, TwoFactor: twoFactor, Errors: s.texts(c, errs)}
	_, p.ClientName = s.resetFlow(c, r.AuthRequestID)
	switch a.Status {
	case passport.StatusActive:
	case passport.StatusPendingDeletion:
		p.Base, p.PurgeAt, status = s.base(c, "This account is scheduled for deletion"), a.PurgeAt, http.StatusForbidden
	default:
		return resetGone()
	}
	p.Here = "/signin/forgot/password?token=" + token // the language switcher comes back here
	return s.page(c, status, "reset", p)
}

// handleResetPasswordForm is the new-password page.
func (s *Server) handleResetPasswordForm(c echo.Context) error {
	token := c.QueryParam("token")
	r, a, secret, err := s.passwordStep(c, token)
	if err != nil {
		return err
	}
	return s.renderReset(c, http.StatusOK, token, r, a, secret != "", nil)
}

// handleResetPassword sets the new password. It checks again what the steps before proved
// (passwordStep), the account's status, the policy and the second factor; then it spends
// the reset and sets the password with the cabinet's action.
func (s *Server) handleResetPassword(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	r, a, secret, err := s.passwordStep(c, token)
	if err != nil {
		return err
	}
	form := func(status int, errs FieldErrors) error {
		return s.renderReset(c, status, token, r, a, secret != "", errs)
	}
	if a.Status != passport.StatusActive {
		return form(http.StatusForbidden, nil)
	}
	next := c.FormValue("new_password")
	if err := passport.CheckPasswordPolicy(next, a.Login); err != nil {
		e := *passport.AsError(err)
		e.Field = "new_password"
		return form(http.StatusBadRequest, FieldErrors{e.Field: &e})
	}
	// The second factor after the policy: a right code is spent once, and should not be
	// spent on a password the policy refuses.
	if secret != "" {
		if _, err := s.checkSecondFactor(ctx, a, secret, c.FormValue("code")); err != nil {
			var pe *passport.Error
			if !asDomain(err, &pe) || pe.Field != "code" {
				return err
			}
			status := http.StatusUnauthorized
			if pe.Code == passport.ELIMITED {
				status = http.StatusTooManyRequests
			}
			return form(status, FieldErrors{"code": pe})
		}
	}
	hash, err := passport.HashPassword(ctx, next, s.cfg.Argon2)
	if err != nil {
		return err
	}
	notice, err := s.passwordChangedNotice(a)
	if err != nil {
		return err
	}
	if err := s.db.UseReset(ctx, r.ID); err != nil {
		return err
	}
	if err := s.db.ChangePassword(ctx, a.ID, hash, notice); err != nil {
		return err
	}
	s.setCookie(c, s.cookie.session, "", -1)
	p := signinPage{Base: s.base(c, "Sign in"), Login: a.Login, Notice: signinNotices["password"]}
	p.AuthRequestID, p.ClientName = s.resetFlow(c, r.AuthRequestID)
	p.Here = "/signin"
	if p.AuthRequestID != "" {
		p.Here += "?authRequestID=" + p.AuthRequestID
	}
	return s.page(c, http.StatusOK, "signin", p)
}
