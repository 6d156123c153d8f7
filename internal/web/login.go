package web

import (
	"cmp"
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

type signinPage struct {
	Base
	Notice        string // a sentence of the catalogue, translated by the page
	AuthRequestID string
	ClientName    string
	Login         string
	Error         string // already in the request's language
	Signup        bool   // self sign-up is on: the page offers "Create an account"
	Return        string // a console page to go back to after signing in (safeAdminPath)
}

// signinReturn is the console page that sent the browser to sign in (only /admin paths,
// never another site), or "": a sign-in without an application goes there, else to the
// cabinet.
func signinReturn(c echo.Context) string {
	if r := c.FormValue("return"); safeAdminPath(r) {
		return r
	}
	return ""
}

// signinNotices are what the sign-in page says after the cabinet sent the person there.
var signinNotices = map[string]string{
	"password":   "Your password was changed and every device was signed out. Sign in with the new password.",
	"everywhere": "You were signed out on every device.",
}

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
	withAuthRequest(c, req) // its ui_locales choose the language
	return req, client, nil
}

// handleSigninForm shows the sign-in form, or skips it when the browser's session already
// satisfies the application's request (single sign-on). prompt=none never shows a page.
func (s *Server) handleSigninForm(c echo.Context) error {
	b := browserOf(c)
	id := c.QueryParam("authRequestID")
	if id == "" {
		if b.Session != nil {
			return c.Redirect(http.StatusFound, cmp.Or(signinReturn(c), "/"))
		}
		return s.page(c, http.StatusOK, "signin", signinPage{Base: s.base(c, "Sign in"), Notice: signinNotices[c.QueryParam("notice")],
			Signup: s.cfg.Signup.Enabled, Return: signinReturn(c)})
	}
	req, client, err := s.authRequest(c, id)
	if err != nil {
		return err
	}
	// OIDC Prompt Create: the application asks for the sign-up form, which replaces any
	// session. Not when it named a person (id_token_hint): a new account cannot be them.
	// The sign-up form's "Sign in" link comes back with existing=1.
	if req.HasPrompt("create") && s.cfg.Signup.Enabled && req.HintSubject == "" && c.QueryParam("existing") == "" {
		return c.Redirect(http.StatusFound, "/signup?authRequestID="+url.QueryEscape(id))
	}
	sess := b.Session
	usable := req.SatisfiedBy(sess, s.db.Now())
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
		ClientName: client.DisplayName(), Login: req.LoginHint, Signup: s.cfg.Signup.Enabled})
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
	form := signinPage{Base: s.base(c, "Sign in"), AuthRequestID: id, Login: login, Signup: s.cfg.Signup.Enabled}
	if id == "" {
		form.Return = signinReturn(c)
	}
	if client != nil {
		form.ClientName = client.DisplayName()
	}
	// fail shows the form again with msg, already in the request's language.
	fail := func(status int, msg string) error {
		form.Error = msg
		return s.page(c, status, "signin", form)
	}
	// The one message for an unknown login and a wrong password, so the page does not
	// reveal which logins exist.
	wrongCredentials := s.text(c, "Wrong login or password.")
	if login == "" || password == "" {
		return fail(http.StatusBadRequest, s.text(c, "Enter your login and password."))
	}
	if len(login) > 256 || len(password) > 1024 {
		return fail(http.StatusBadRequest, wrongCredentials)
	}

	// Every counter moves before the password is checked, in one statement, so parallel
	// guesses cannot slip past a limit, and a refused attempt costs no argon2 work.
	//   - Per login, with OWASP's device cookies: failures from browsers that never signed in
	//     to this account are limited per login; a browser holding the account's device
	//     cookie has a budget of its own, so guessing from elsewhere cannot lock the owner
	//     out, and guessing from that browser locks only that browser.
	//   - Per client address: failures (a success hands its attempt back, so an office
	//     behind one address is not locked out by its own sign-ins), and every attempt under
	//     a much higher ceiling.
	folded := passport.FoldLogin(login)
	lockKey := "signin:login:" + folded
	if nonce := s.knownDevice(c, folded); nonce != "" {
		lockKey = "signin:device:" + nonce
	}
	ip := c.RealIP()
	failKey := "signin:ip:" + ip
	counts, err := s.db.HitAll(ctx, s.cfg.RateWindow, lockKey, failKey, "signin:ip-all:"+ip)
	if err != nil {
		return err
	}
	if wait, over := s.overLimit(c, counts, s.cfg.RatePerAccount, s.cfg.RatePerIP, s.cfg.RateIPAttempts); over {
		return fail(http.StatusTooManyRequests, s.tryAgainIn(c, wait,
			"Too many sign-in attempts. Try again in a minute.", "Too many sign-in attempts. Try again in %d minutes."))
	}
	// notChecked hands the attempt back when the password could not be checked at all (the
	// server too busy): no guess was made.
	notChecked := func(err error) error {
		if passport.ErrorCode(err) == passport.EUNAVAILABLE {
			_ = s.db.Unhit(ctx, lockKey)
			_ = s.db.Unhit(ctx, failKey)
		}
		return err
	}

	// A wrong password is a security event of the account (signin.failed). Recording it only
	// for logins that exist would add a write — a round trip to the database — to exactly
	// the answers that mean "this login exists", which a stopwatch could tell apart. So an
	// unknown login does the same work: a dummy argon2 check (as before) and one event of
	// the same shape, with no subject (the service administrator's feed shows guessing at
	// logins that do not exist). Neither records the login typed, which may be a password
	// typed into the wrong box.
	account, err := s.db.AccountByLogin(ctx, login)
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		if _, _, err := passport.CheckPassword(ctx, s.dummyHash, password, s.cfg.Argon2); err != nil {
			return notChecked(err)
		}
		if err := s.signinFailed(ctx, "", "password"); err != nil {
			return err
		}
		return fail(http.StatusUnauthorized, wrongCredentials)
	}
	if err != nil {
		return err
	}
	ok, stale, err := passport.CheckPassword(ctx, account.PasswordHash, password, s.cfg.Argon2)
	if err != nil {
		return notChecked(err)
	}
	if !ok {
		if err := s.signinFailed(ctx, account.ID, "password"); err != nil {
			return err
		}
		return fail(http.StatusUnauthorized, wrongCredentials)
	}
	if err := s.db.ResetLimit(ctx, lockKey); err != nil {
		return err
	}
	if err := s.db.Unhit(ctx, failKey); err != nil {
		return err
	}
	if stale {
		// The argon2id settings changed since this hash was made: upgrade it now that we
		// know the password, unless a password change got there first.
		if h, err := passport.HashPassword(ctx, password, s.cfg.Argon2); err == nil {
			if err := s.db.UpgradePasswordHash(ctx, account.ID, account.PasswordHash, h); err != nil {
				s.log.WarnContext(ctx, "rehashing a password", slog.String("error", err.Error()))
			}
		}
	}
	if req != nil && req.HintSubject != "" && req.HintSubject != account.ID {
		// OIDC Core §3.1.2.1: the application asked for a particular person.
		return fail(http.StatusForbidden, s.text(c, "The application asked you to sign in with a different account."))
	}
	switch account.Status {
	case passport.StatusActive, passport.StatusPendingDeletion:
	case passport.StatusBlocked:
		return fail(http.StatusForbidden, s.text(c, "This account is blocked. Contact your administrator."))
	default:
		return fail(http.StatusForbidden, s.text(c, "This account cannot sign in."))
	}
	if exp := account.PasswordExpiresAt; exp != nil && !s.db.Now().Before(*exp) {
		// An issued (temporary) password that was not changed in time. Said only once the
		// password was right, so it reveals nothing to a guesser; not a wrong guess either.
		if err := s.signinFailed(ctx, account.ID, "expired"); err != nil {
			return err
		}
		return fail(http.StatusForbidden, s.text(c, "Your temporary password has expired. Ask your administrator for new login details."))
	}
	if on, err := s.twoFactorOn(ctx, account.ID); err != nil {
		return err
	} else if on {
		return s.askSecondFactor(c, http.StatusOK, account, req, client, "", "")
	}
	return s.authenticated(c, req, client, account, []string{passport.AMRPassword})
}

// signinFailed records a failed sign-in attempt of the account accountID ("" when the login
// is unknown); factor says which proof was wrong (password, code). The actor is whoever is
// at this browser: an anonymous person, never the browser's signed-in account, since a
// wrong proof shows nothing about who typed it.
func (s *Server) signinFailed(ctx context.Context, accountID, factor string) error {
	at := passport.ActorFrom(ctx)
	return s.db.Record(ctx, passport.Event{Type: passport.EventSigninFailed, AccountID: accountID,
		Actor: passport.Actor{Kind: passport.ActorPerson, IP: cleanText(at.IP, 100), UserAgent: cleanText(at.UserAgent, 512),
			ClientID: at.ClientID},
		Details: map[string]any{"factor": factor}})
}

// authenticated runs once every factor is checked. An active account gets a session and
// goes on (to the cabinet, or on with the application's request). An account waiting for
// deletion gets no session: through an application the sign-in is refused with a page that
// says how to restore it; in the cabinet the person is offered to restore it.
func (s *Server) authenticated(c echo.Context, req *passport.AuthRequest, client *passport.Client, a *passport.Account, amr []string) error {
	s.rememberDevice(c, a)
	if a.Status == passport.StatusPendingDeletion {
		if req != nil {
			return s.page(c, http.StatusForbidden, "deletion_pending", deletionPendingPage{Base: s.base(c, "Account scheduled for deletion"),
				PurgeAt: *a.PurgeAt, AuthRequestID: req.ID, ClientName: client.DisplayName()})
		}
		// The restore token carries the auth epoch, which restoring moves: it works once.
		return s.page(c, http.StatusOK, "restore", restorePage{Base: s.base(c, "Restore your account"), PurgeAt: *a.PurgeAt,
			Token: s.signedToken(c, "restore", 15*time.Minute, a.ID, strings.Join(amr, " "), strconv.Itoa(a.AuthEpoch))})
	}
	if a.Status != passport.StatusActive {
		return passport.Errorf(passport.EFORBIDDEN, "This account cannot sign in.")
	}
	sess, err := s.startSession(c, a, amr)
	if err != nil {
		return err
	}
	if req == nil {
		return c.Redirect(http.StatusSeeOther, cmp.Or(signinReturn(c), "/"))
	}
	if err := s.db.MarkLogin(c.Request().Context(), req.ID, sess.ID); err != nil {
		return err
	}
	req.LoginSessionID = sess.ID
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
		ExpiresAt: now.Add(s.cfg.SessionLifetime), IP: c.RealIP(), UserAgent: cleanText(c.Request().UserAgent(), 512)}
	if err := s.db.CreateSession(ctx, passport.HashToken(token), sess); err != nil {
		return nil, err
	}
	s.setCookie(c, s.cookie.session, token, s.cfg.SessionLifetime)
	b.Session = sess
	return sess, nil
}

// continueFlow runs after the person is known: the required actions still pending (a new
// password, confirmations, the required fields they left empty, two factors: actions.go),
// then the application's two-factor policy, then consent when an on-request field has no
// decision yet, then back to the library's callback, which issues the code. prompt=none
// never shows a page: pending actions answer interaction_required.
func (s *Server) continueFlow(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session) error {
	ctx := c.Request().Context()
	a, err := s.db.Account(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	if done, err := s.actionsStep(c, req, a); done || err != nil {
		return err
	}
	next, err := s.secondFactorStep(c, req, client, sess)
	if err != nil || c.Response().Committed {
		return err
	}
	if next != "" {
		return c.Redirect(http.StatusSeeOther, next)
	}
	decisions, err := s.db.Decisions(ctx, a.ID, req.ClientID)
	if err != nil {
		return err
	}
	items := s.cfg.Rules.ConsentItems(a, req.Scopes, decisions)
	if passport.NeedsConsent(items) || req.HasPrompt("consent") {
		if req.HasPrompt("none") {
			s.oidc.Fail(c.Response(), c.Request(), req, "consent_required", "The person has not consented to this application.")
			return nil
		}
		return c.Redirect(http.StatusSeeOther, "/consent?authRequestID="+req.ID)
	}
	return s.complete(c, req, client, sess, a)
}

// actionsStep sends the person to the first pending required action (SPEC §6) and reports
// that it answered; prompt=none cannot show a page: the application gets
// interaction_required.
func (s *Server) actionsStep(c echo.Context, req *passport.AuthRequest, a *passport.Account) (bool, error) {
	pending, err := s.pendingActions(c.Request().Context(), a, true)
	if err != nil || len(pending) == 0 {
		return false, err
	}
	if req.HasPrompt("none") {
		s.oidc.Fail(c.Response(), c.Request(), req, "interaction_required", "The person has required actions to take first.")
		return true, nil
	}
	return true, c.Redirect(http.StatusSeeOther, actionURL(pending[0], req))
}

// secondFactorStep applies the application's access policy when it requires two factors
// (SPEC §7): a one-factor session steps up with its code, or sets a second factor up first.
// It returns where to send the browser, or "" when nothing is needed. prompt=none cannot
// show a page: the application gets interaction_required, and the response is then
// committed, which the caller checks.
func (s *Server) secondFactorStep(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session) (string, error) {
	if !client.RequireMFA || passport.HasMFA(sess.AMR) {
		return "", nil
	}
	if req.HasPrompt("none") {
		s.oidc.Fail(c.Response(), c.Request(), req, "interaction_required", "This application requires two-factor authentication.")
		return "", nil
	}
	if on, err := s.twoFactorOn(c.Request().Context(), sess.AccountID); err != nil {
		return "", err
	} else if on {
		return "/signin/2fa?authRequestID=" + req.ID, nil
	}
	return "/signin/2fa-setup?authRequestID=" + req.ID, nil
}

// complete marks the request done for this session and hands it to the callback. It checks
// again every step before it — the session answers the request, no required action is
// pending (the required fields are filled among them), the application's policy is met — since any page of the flow (consent above all)
// can be posted directly.
func (s *Server) complete(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session, a *passport.Account) error {
	if !req.SatisfiedBy(sess, s.db.Now()) {
		return c.Redirect(http.StatusSeeOther, "/signin?authRequestID="+req.ID)
	}
	if done, err := s.actionsStep(c, req, a); done || err != nil {
		return err
	}
	next, err := s.secondFactorStep(c, req, client, sess)
	if err != nil || c.Response().Committed {
		return err
	}
	if next != "" {
		return c.Redirect(http.StatusSeeOther, next)
	}
	if err := s.db.CompleteAuthRequest(c.Request().Context(), req.ID, browserOf(c).Hash, sess); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, s.oidc.CallbackURL(req.ID))
}

// flowSession is the browser's session if it may answer req (see SatisfiedBy), else nil:
// pages after sign-in call it so that opening them directly cannot skip a demanded login.
func (s *Server) flowSession(c echo.Context, req *passport.AuthRequest) *passport.Session {
	if sess := browserOf(c).Session; req.SatisfiedBy(sess, s.db.Now()) {
		return sess
	}
	return nil
}

// flowStep is a page after sign-in within an application's request.
type flowStep func(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session, a *passport.Account) error

// inFlow loads what every page after sign-in needs: the auth request (bound to this
// browser), a session that may answer it (else back to sign-in), and the account.
func (s *Server) inFlow(h flowStep) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, client, err := s.authRequest(c, c.FormValue("authRequestID"))
		if err != nil {
			return err
		}
		sess := s.flowSession(c, req)
		if sess == nil {
			return c.Redirect(http.StatusSeeOther, "/signin?authRequestID="+req.ID)
		}
		a, err := s.db.Account(c.Request().Context(), sess.AccountID)
		if err != nil {
			return err
		}
		// Every page after sign-in comes after the required actions (actions.go); the
		// required fields' page is one of them and checks its own turn.
		if c.Path() != "/signin/complete" {
			if done, err := s.actionsStep(c, req, a); done || err != nil {
				return err
			}
		}
		withAccount(c, a)
		return h(c, req, client, sess, a)
	}
}

// missingEditable lists the required fields that are empty and that the person can fill in
// (a locked one is the administrator's to fill).
func (s *Server) missingEditable(a *passport.Account) []passport.Field {
	var out []passport.Field
	for _, f := range s.cfg.Rules.MissingRequired(a) {
		if _, ok := completeInputs[f]; ok && !s.cfg.Rules.IsLocked(a, f) {
			out = append(out, f)
		}
	}
	return out
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

type completePage struct {
	Base
	Action        string // where the form posts
	AuthRequestID string
	ClientName    string
	Fields        []formField
}

// formField is one input of a form, with its value and the message next to it.
type formField struct {
	Name, Label, Type, Value, Error, Hint, Autocomplete string
	Locked                                              bool // shown, not editable
}

// completeInputs are the required fields a person can fill in during sign-in.
var completeInputs = map[passport.Field]formField{
	passport.FieldNickname:   {Name: "nickname", Label: "Public name", Type: "text", Autocomplete: "nickname"},
	passport.FieldGivenName:  {Name: "given_name", Label: "Given name", Type: "text", Autocomplete: "given-name"},
	passport.FieldFamilyName: {Name: "family_name", Label: "Family name", Type: "text", Autocomplete: "family-name"},
	passport.FieldBirthdate:  {Name: "birthdate", Label: "Birth date", Type: "date", Autocomplete: "bday", Hint: "YYYY-MM-DD"},
	passport.FieldEmail:      {Name: "email", Label: "Email", Type: "email", Autocomplete: "email"},
}

// handleCompleteForm is the required-fields step of the required actions within an
// application's request (without one: /signin/actions/profile), shown only when it is the
// step due.
func (s *Server) handleCompleteForm(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session, _ *passport.Account) error {
	return s.runStep(c, &actionStep{req: req, client: client, sess: sess}, passport.ActionFillRequired, s.handleActionProfileForm)
}

// handleCompleteSubmit saves the fields as the required-fields step does, refused (sent to
// the first pending action) unless that step is the one due.
func (s *Server) handleCompleteSubmit(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session, _ *passport.Account) error {
	return s.runStep(c, &actionStep{req: req, client: client, sess: sess}, passport.ActionFillRequired, s.handleActionProfileSubmit)
}

// missingFields are the inputs of the required fields the person left empty, with the
// values typed and the mistakes.
func (s *Server) missingFields(c echo.Context, a *passport.Account, values map[string]string, errs FieldErrors) []formField {
	var out []formField
	shown := s.texts(c, errs)
	for _, f := range s.missingEditable(a) {
		in := completeInputs[f]
		in.Value, in.Error = values[in.Name], shown[in.Name]
		out = append(out, in)
	}
	return out
}

// saveMissing saves the required fields the person filled in; values are what they typed,
// errs the mistakes (nothing is saved then).
func (s *Server) saveMissing(c echo.Context, a *passport.Account) (map[string]string, FieldErrors, error) {
	ctx := c.Request().Context()
	values := map[string]string{}
	var in MainInput
	errs := FieldErrors{}
	for _, f := range s.missingEditable(a) {
		field := completeInputs[f]
		v := strings.TrimSpace(c.FormValue(field.Name))
		values[field.Name] = v
		if v == "" {
			errs[field.Name] = passport.FieldError(field.Name, "%s is required.", passport.Text(field.Label))
			continue
		}
		switch f {
		case passport.FieldNickname:
			in.Nickname = &v
		case passport.FieldGivenName:
			in.GivenName = &v
		case passport.FieldFamilyName:
			in.FamilyName = &v
		case passport.FieldBirthdate:
			in.Birthdate = &v
		case passport.FieldEmail:
			in.Email = &v
		}
	}
	if len(errs) == 0 {
		var err error
		if _, errs, err = s.updateMain(ctx, a.ID, in); err != nil {
			return nil, nil, err
		}
	}
	return values, errs, nil
}

// cleanText makes s storable: valid UTF-8, no NUL, at most n bytes.
func cleanText(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
}
