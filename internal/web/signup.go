package web

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// Self sign-up (SPEC §8): a login, a password, an email address confirmed by a code before
// the account exists, and optionally a phone. The sign-up waits in the store with its
// password already hashed; the right code creates the account (registration method self)
// and signs the person in through authenticated, so an application's request goes on
// exactly as after a sign-in: required fields, consent, the application's policy.

// SignupSettings configure self sign-up. Off, its routes do not exist (404) and the
// sign-in page does not offer it.
type SignupSettings struct {
	Enabled bool
	// PerIP bounds sign-up attempts per client address and rate window: forms that reach
	// the check of the login, and new codes.
	PerIP int
	// PerEmail bounds the codes sent to one email address per rate window.
	PerEmail int
}

type signupPage struct {
	Base
	AuthRequestID string
	ClientName    string
	Fields        []formField
	Error         string // already in the request's language
}

type signupConfirmPage struct {
	Base
	AuthRequestID string // the application's request, for its Cancel button
	ClientName    string
	ID            string // the sign-up
	Email         string
	ExpiresAt     time.Time
	CodeDigits    int
	Notice        string // a sentence of the catalogue
	CodeError     string // already in the request's language
}

// signupCodeDigits is the length of the email code, like every other confirmation code.
const signupCodeDigits = 6

// signupFields are the form's inputs in their order, with what the person typed (never
// the password) and the message next to each.
func signupFields(values, errs map[string]string) []formField {
	fields := []formField{
		{Name: "login", Label: "Login", Type: "text", Autocomplete: "username", Hint: "3 to 64 characters: letters, digits and . _ - @ +"},
		{Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password",
			Hint: "At least 8 characters with a letter and a digit; not your login, not a common password."},
		{Name: "email", Label: "Email", Type: "email", Autocomplete: "email", Hint: "We will send a code to this address to confirm it."},
		{Name: "phone", Label: "Phone (optional)", Type: "tel", Autocomplete: "tel", Hint: "With the country code, like +44 20 7946 0958."},
	}
	for i := range fields {
		if fields[i].Name != "password" {
			fields[i].Value = values[fields[i].Name]
		}
		fields[i].Error = errs[fields[i].Name]
	}
	return fields
}

// signupRequest loads the application's request a sign-up serves, bound to this browser
// like the sign-in page's; none without an id (a sign-up for the cabinet).
func (s *Server) signupRequest(c echo.Context, id string) (*passport.AuthRequest, *passport.Client, error) {
	if id == "" {
		return nil, nil, nil
	}
	return s.authRequest(c, id)
}

// handleSignupForm shows the sign-up form. Signed in and without an application's
// request, the person goes to the cabinet, as from the sign-in page.
func (s *Server) handleSignupForm(c echo.Context) error {
	id := c.QueryParam("authRequestID")
	if id == "" && browserOf(c).Session != nil {
		return c.Redirect(http.StatusFound, "/")
	}
	req, client, err := s.signupRequest(c, id)
	if err != nil {
		return err
	}
	return s.renderSignup(c, http.StatusOK, req, client, nil, nil, "")
}

func (s *Server) renderSignup(c echo.Context, status int, req *passport.AuthRequest, client *passport.Client,
	values map[string]string, errs FieldErrors, msg string) error {
	page := signupPage{Base: s.base(c, "Create an account"), Error: msg}
	if req != nil {
		page.AuthRequestID, page.ClientName = req.ID, client.DisplayName()
	}
	page.Fields = signupFields(values, s.texts(c, errs))
	return s.page(c, status, "signup", page)
}

// handleSignupSubmit checks the form, then sends the code. The counters move only for a
// form that is complete and valid, before the login is looked up, so telling whether a
// login is taken — which a sign-up form must — costs a stranger a full attempt from their
// address. Emails are never looked up: they need not be unique.
func (s *Server) handleSignupSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	req, client, err := s.signupRequest(c, c.FormValue("authRequestID"))
	if err != nil {
		return err
	}
	login, password := strings.TrimSpace(c.FormValue("login")), c.FormValue("password")
	values := map[string]string{"login": login, "email": strings.TrimSpace(c.FormValue("email")),
		"phone": strings.TrimSpace(c.FormValue("phone"))}
	errs := FieldErrors{}
	if err := passport.ValidateLogin(login); err != nil {
		errs["login"] = passport.AsError(err)
	}
	if err := passport.CheckPasswordPolicy(password, login); err != nil {
		errs["password"] = passport.AsError(err)
	}
	email, err := passport.NormalizeEmail(values["email"])
	if err != nil {
		errs["email"] = passport.AsError(err)
	}
	var phone string
	if values["phone"] != "" {
		if phone, err = s.normalizePhone(c, values["phone"]); err != nil {
			errs["phone"] = passport.AsError(err)
		}
	}
	// A login that reads as an email address or a phone number must be the person's own,
	// confirmed with it: a stranger's address as a login would capture that person's
	// "Forgot password?" (a login names an account first) and read like their identity.
	if errs["login"] == nil && strings.Contains(login, "@") && !strings.EqualFold(login, email) {
		errs["login"] = passport.FieldError("login", "A login with @ must be the email address you give below.")
	}
	if errs["login"] == nil && phoneLike.MatchString(login) {
		if own, err := s.normalizePhone(c, login); err != nil || own != phone {
			errs["login"] = passport.FieldError("login", "A login that is a phone number must be the number you give below.")
		}
	}
	if len(errs) > 0 {
		return s.renderSignup(c, http.StatusBadRequest, req, client, values, errs, "")
	}

	if refused, err := s.signupLimit(c, "signup:ip:"+c.RealIP(), s.cfg.Signup.PerIP, ""); err != nil {
		return err
	} else if refused != nil {
		return s.renderSignup(c, http.StatusTooManyRequests, req, client, values, nil, s.errText(c, refused))
	}
	if _, err := s.db.AccountByLogin(ctx, login); err == nil {
		errs["login"] = passport.FieldError("login", "This login is already taken.")
		return s.renderSignup(c, http.StatusConflict, req, client, values, errs, "")
	} else if passport.ErrorCode(err) != passport.ENOTFOUND {
		return err
	}
	if refused, err := s.signupLimit(c, signupEmailKey(email), s.cfg.Signup.PerEmail, "email"); err != nil {
		return err
	} else if refused != nil {
		return s.renderSignup(c, http.StatusTooManyRequests, req, client, values, FieldErrors{"email": refused}, "")
	}

	hash, err := passport.HashPassword(ctx, password, s.cfg.Argon2)
	if err != nil {
		return err
	}
	p := &postgres.Signup{ID: uuid.NewString(), BrowserHash: browserOf(c).Hash, Login: login, Email: email, Phone: phone,
		Locale: s.localizer(c).Lang(), PasswordHash: hash}
	if req != nil {
		p.AuthRequestID = req.ID
	}
	code := newCode(signupCodeDigits)
	msg, err := s.signupMessage(p, code)
	if err != nil {
		return err
	}
	p.CodeHash = s.codeHash(p.ID, "signup", code)
	if err := s.db.StartSignup(ctx, p, s.cfg.Codes.Lifetime, msg); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/signup/confirm?id="+p.ID)
}

// signupEmailKey counts codes per destination, whatever the case the address is typed in.
// phoneLike matches a login made of a phone number's characters with at least six digits.
var phoneLike = regexp.MustCompile(`^\+?[0-9 ()./-]*([0-9][ ()./-]*){6,}$`)

func signupEmailKey(email string) string { return "signup:email:" + strings.ToLower(email) }

// signupLimit counts one attempt against key and returns the refusal to show once the
// window holds more than limit (with Retry-After set), else nil.
func (s *Server) signupLimit(c echo.Context, key string, limit int, field string) (*passport.Error, error) {
	n, resetAt, err := s.db.Hit(c.Request().Context(), key, s.cfg.RateWindow)
	if err != nil || n <= limit {
		return nil, err
	}
	c.Response().Header().Set("Retry-After", fmt.Sprint(max(1, int(math.Ceil(resetAt.Sub(s.db.Now()).Seconds())))))
	if field == "" {
		return passport.Errorf(passport.ELIMITED, "Too many attempts. Try again in a few minutes."), nil
	}
	return &passport.Error{Code: passport.ELIMITED, Field: field, Message: "Too many codes were sent. Try again later."}, nil
}

// signupMessage is the code email, in the language the sign-up was made in. There is no
// account yet: the message belongs to none.
func (s *Server) signupMessage(p *postgres.Signup, code string) (passport.Outgoing, error) {
	return s.message(passport.ChannelEmail, p.Email, "signup_code", &passport.Account{Login: p.Login, Locale: p.Locale},
		MessageData{Code: code, Minutes: int(s.cfg.Codes.Lifetime.Minutes())})
}

// handleSignupConfirmForm asks for the code sent to the email address.
func (s *Server) handleSignupConfirmForm(c echo.Context) error {
	p, err := s.db.Signup(c.Request().Context(), c.QueryParam("id"), browserOf(c).Hash)
	if err != nil {
		return err
	}
	notice := ""
	if c.QueryParam("sent") != "" {
		notice = "We sent a new code."
	}
	return s.renderSignupConfirm(c, http.StatusOK, p, notice, nil)
}

func (s *Server) renderSignupConfirm(c echo.Context, status int, p *postgres.Signup, notice string, codeErr error) error {
	page := signupConfirmPage{ID: p.ID, Email: p.Email, ExpiresAt: p.ExpiresAt, CodeDigits: signupCodeDigits, Notice: notice}
	req, client, err := s.signupFlow(c, p)
	if err != nil {
		return err
	}
	if req != nil {
		page.AuthRequestID, page.ClientName = req.ID, client.DisplayName()
	}
	page.Base = s.base(c, "Confirm your email address")
	if codeErr != nil {
		page.CodeError = s.errText(c, codeErr)
	}
	return s.page(c, status, "signup_confirm", page)
}

// signupFlow is the application's request a sign-up came through, or none: also when that
// request expired meanwhile, since the account can be made all the same (the person then
// lands in the cabinet and returns to the application from there).
func (s *Server) signupFlow(c echo.Context, p *postgres.Signup) (*passport.AuthRequest, *passport.Client, error) {
	req, client, err := s.signupRequest(c, p.AuthRequestID)
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		return nil, nil, nil
	}
	return req, client, err
}

// handleSignupConfirm checks the code: the right one creates the account and signs the
// person in, and the application's request goes on as after any sign-in.
func (s *Server) handleSignupConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	b := browserOf(c)
	p, err := s.db.Signup(ctx, c.FormValue("id"), b.Hash)
	if err != nil {
		return err
	}
	code := strings.TrimSpace(c.FormValue("code"))
	if code == "" {
		return s.renderSignupConfirm(c, http.StatusBadRequest, p, "", passport.FieldError("code", "Enter the code."))
	}
	// Guesses at codes sent to one address are capped over a day, across sign-ups and
	// resends (each sign-up's own attempts are counted in the store), so that guessing six
	// digits to "verify" someone else's address stays hopeless, as for password resets.
	guesses, err := s.db.HitAll(ctx, resetGuessWindow, "signup:guess:"+s.limitKey(strings.ToLower(p.Email)),
		"signup:guess-ip:"+c.RealIP())
	if err != nil {
		return err
	}
	if _, over := s.overLimit(c, guesses, 4*s.cfg.Codes.MaxAttempts, 4*s.cfg.Codes.MaxAttempts*s.cfg.Signup.PerIP); over {
		return s.renderSignupConfirm(c, http.StatusTooManyRequests, p, "",
			&passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Too many attempts. Try again later."})
	}
	a, err := s.db.CompleteSignup(ctx, p.ID, b.Hash, s.codeHash(p.ID, "signup", code), s.cfg.Codes.MaxAttempts)
	var e *passport.Error
	switch {
	case err == nil:
	case asDomain(err, &e) && e.Field == "code":
		return s.renderSignupConfirm(c, statusOf[e.Code], p, "", e)
	case asDomain(err, &e) && e.Field == "login":
		// Another account took the login while the code travelled: choose another one.
		req, client, ferr := s.signupFlow(c, p)
		if ferr != nil {
			return ferr
		}
		return s.renderSignup(c, http.StatusConflict, req, client,
			map[string]string{"login": p.Login, "email": p.Email, "phone": p.Phone}, FieldErrors{"login": e}, "")
	default:
		return err
	}
	req, client, err := s.signupFlow(c, p)
	if err != nil {
		return err
	}
	return s.authenticated(c, req, client, a, []string{passport.AMRPassword})
}

// handleSignupResend sends a new code to the same address; the old one stops working.
func (s *Server) handleSignupResend(c echo.Context) error {
	ctx := c.Request().Context()
	b := browserOf(c)
	p, err := s.db.Signup(ctx, c.FormValue("id"), b.Hash)
	if err != nil {
		return err
	}
	// Too soon is told before any counter moves (the store checks it again under its lock).
	if wait := p.LastSentAt.Add(s.cfg.Codes.ResendAfter).Sub(s.db.Now()); wait > 0 {
		return s.renderSignupConfirm(c, http.StatusTooManyRequests, p, "", &passport.Error{Code: passport.ELIMITED, Field: "code",
			Message: "A code was sent a moment ago. You can ask for another in %d seconds.", Args: []any{passport.Count(int(wait.Seconds()) + 1)}})
	}
	for _, limit := range []struct {
		key string
		max int
	}{{"signup:ip:" + c.RealIP(), s.cfg.Signup.PerIP}, {signupEmailKey(p.Email), s.cfg.Signup.PerEmail}} {
		if refused, err := s.signupLimit(c, limit.key, limit.max, "code"); err != nil {
			return err
		} else if refused != nil {
			return s.renderSignupConfirm(c, http.StatusTooManyRequests, p, "", refused)
		}
	}
	code := newCode(signupCodeDigits)
	msg, err := s.signupMessage(p, code)
	if err != nil {
		return err
	}
	err = s.db.ResendSignup(ctx, p.ID, b.Hash, s.codeHash(p.ID, "signup", code), s.limits(), msg)
	if e := (*passport.Error)(nil); asDomain(err, &e) && e.Code == passport.ELIMITED {
		return s.renderSignupConfirm(c, http.StatusTooManyRequests, p, "", e)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/signup/confirm?id="+p.ID+"&sent=1")
}
