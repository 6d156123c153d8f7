package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// Two-factor authentication with TOTP (RFC 6238): enrolment, the second step of sign-in,
// recovery codes, step-up for applications that require two factors, and disabling.

const totpPurpose = "totp-secret"

// twoFactorOn reports whether the account has two factors on, without opening the secret.
func (s *Server) twoFactorOn(ctx context.Context, accountID string) (bool, error) {
	t, err := s.db.TOTPOf(ctx, accountID)
	if passport.ErrorCode(err) == passport.ENOTFOUND {
		return false, nil
	}
	return err == nil && t.EnabledAt != nil, err
}

// totpSecret returns the account's TOTP secret when two factors are on, else "".
func (s *Server) totpSecret(ctx context.Context, accountID string) (string, error) {
	t, err := s.db.TOTPOf(ctx, accountID)
	if passport.ErrorCode(err) == passport.ENOTFOUND || (err == nil && t.EnabledAt == nil) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	secret, err := s.cfg.TOTPSealer.OpenBytes(t.SecretEnc, totpPurpose)
	return string(secret), err
}

func (s *Server) recoveryHash(accountID, code string) []byte {
	m := hmac.New(sha256.New, s.cfg.Codes.Key[:])
	m.Write([]byte("recovery\x00" + accountID + "\x00" + passport.NormalizeRecoveryCode(code)))
	return m.Sum(nil)
}

// checkSecondFactor accepts a current TOTP code (each time step once) or an unused
// recovery code. Attempts are rate-limited per account across replicas.
func (s *Server) checkSecondFactor(ctx context.Context, a *passport.Account, secret, code string) (usedRecovery bool, err error) {
	key := "totp:" + a.ID
	n, _, err := s.db.Hit(ctx, key, s.cfg.RateWindow)
	if err != nil {
		return false, err
	}
	if n > s.cfg.Codes.MaxAttempts {
		return false, &passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Too many attempts. Try again in a few minutes."}
	}
	code = strings.TrimSpace(code)
	wrong := passport.FieldError("code", "This code is not right, or was already used.")
	if len(strings.ReplaceAll(code, " ", "")) == 6 {
		step, ok := passport.MatchTOTP(secret, code, s.db.Now())
		if !ok {
			return false, wrong
		}
		fresh, err := s.db.UseTOTPStep(ctx, a.ID, step)
		if err != nil {
			return false, err
		}
		if !fresh {
			return false, passport.FieldError("code", "This code was already used. Wait for the next one.")
		}
	} else {
		ok, err := s.db.UseRecoveryCode(ctx, a.ID, s.recoveryHash(a.ID, code))
		if err != nil {
			return false, err
		}
		if !ok {
			return false, wrong
		}
		usedRecovery = true
	}
	return usedRecovery, s.db.ResetLimit(ctx, key)
}

type secondFactorPage struct {
	Base
	Token         string
	AuthRequestID string
	ClientName    string
	Error         string
	Return        string // the console page the sign-in goes back to (signinReturn)
}

// secondFactorTime is how long the code step may take after the password was right.
const secondFactorTime = 10 * time.Minute

// askSecondFactor shows the code step after a right password (or for step-up). token is the
// step's signed token when the page is shown again after a wrong code: it keeps its first
// expiry, so wrong codes cannot stretch the step. A new token carries the account's auth
// epoch: a password change or "log out of all devices" voids it.
func (s *Server) askSecondFactor(c echo.Context, status int, a *passport.Account, req *passport.AuthRequest, client *passport.Client, token, msg string) error {
	reqID := ""
	if req != nil {
		reqID = req.ID
	}
	if token == "" {
		token = s.signedToken(c, "second-factor", secondFactorTime, a.ID, reqID, strconv.Itoa(a.AuthEpoch))
	}
	p := secondFactorPage{Base: s.base(c, "Two-factor authentication"), AuthRequestID: reqID, Error: msg, Token: token}
	if req == nil {
		p.Return = signinReturn(c)
	}
	if client != nil {
		p.ClientName = client.DisplayName()
	}
	return s.page(c, status, "second_factor", p)
}

// handleSecondFactorForm serves step-up: a signed-in person whose session has one factor
// signs in to an application that requires two.
func (s *Server) handleSecondFactorForm(c echo.Context, req *passport.AuthRequest, client *passport.Client, _ *passport.Session, a *passport.Account) error {
	return s.askSecondFactor(c, http.StatusOK, a, req, client, "", "")
}

// handleSecondFactorSubmit checks the code and finishes the sign-in with two factors.
func (s *Server) handleSecondFactorSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	expired := passport.Errorf(passport.EFORBIDDEN, "This sign-in took too long or is no longer valid. Start again.")
	parts, ok := s.openToken(c, "second-factor", token)
	if !ok || len(parts) != 3 {
		return expired
	}
	var req *passport.AuthRequest
	var client *passport.Client
	if parts[1] != "" {
		var err error
		if req, client, err = s.authRequest(c, parts[1]); err != nil {
			return err
		}
	}
	a, err := s.db.Account(ctx, parts[0])
	if err != nil {
		return err
	}
	if strconv.Itoa(a.AuthEpoch) != parts[2] {
		return expired
	}
	secret, err := s.totpSecret(ctx, a.ID)
	if err != nil {
		return err
	}
	if secret == "" {
		return passport.Errorf(passport.ECONFLICT, "Two-factor authentication is not on for this account. Sign in again.")
	}
	if _, err := s.checkSecondFactor(ctx, a, secret, c.FormValue("code")); err != nil {
		var pe *passport.Error
		if asDomain(err, &pe) && pe.Field == "code" {
			status := http.StatusUnauthorized
			if pe.Code == passport.ELIMITED {
				status = http.StatusTooManyRequests
			} else if err := s.signinFailed(ctx, a.ID, "code"); err != nil {
				// The password was right and the code not: the person should hear of it.
				return err
			}
			return s.askSecondFactor(c, status, a, req, client, token, s.errText(c, pe))
		}
		return err
	}
	return s.authenticated(c, req, client, a, []string{passport.AMRPassword, passport.AMROTP, passport.AMRMFA})
}

// enrolPage is the two-factor page in each of its states: off (a first step that only
// offers to turn it on, then the key and the form), on (recovery codes, turning off), and
// the recovery codes shown once.
type enrolPage struct {
	Base
	Flash         string
	Scan          bool         // the key and the enrolment form: only once the person asked to turn it on
	Secret        string       // the pending key, as text
	QR            template.URL // data: URL of the QR code (made here, so trusted)
	URI           string
	AuthRequestID string
	NeedPassword  bool // within a sign-in whose password was not typed for this very request
	Enabled       bool
	CodesLeft     passport.Count // unused recovery codes: chooses the plural form
	Recovery      []string       // recovery codes, shown this once
	Regenerated   bool           // Recovery replace the earlier codes
	Download      template.URL   // data: URL of Recovery as a text file: the codes never travel in a request
	Form          string         // the form Errors belong to: "enable", "disable" or "recovery"
	Errors        map[string]string
}

// Err is the mistake to show next to field of form ("" for one about the whole form).
func (p enrolPage) Err(form, field string) string {
	if p.Form != form {
		return ""
	}
	return p.Errors[field]
}

// formErrors puts a mistake next to its field ("" when it is about the whole form), in the
// request's language.
func (s *Server) formErrors(c echo.Context, err error) map[string]string {
	return map[string]string{passport.AsError(err).Field: s.errText(c, err)}
}

// enrolment returns the account's pending secret, making a new one when there is none or
// it is older than the code lifetime.
func (s *Server) enrolment(ctx context.Context, a *passport.Account) (*passport.TOTPKey, error) {
	if t, err := s.db.TOTPOf(ctx, a.ID); err == nil && t.EnabledAt == nil && s.db.Now().Sub(t.CreatedAt) < s.cfg.Codes.Lifetime {
		secret, err := s.cfg.TOTPSealer.OpenBytes(t.SecretEnc, totpPurpose)
		if err == nil {
			return keyFor(a, string(secret))
		}
	}
	key, err := passport.NewTOTPKey("Passport", a.Login)
	if err != nil {
		return nil, err
	}
	enc, err := s.cfg.TOTPSealer.SealBytes([]byte(key.Secret), totpPurpose)
	if err != nil {
		return nil, err
	}
	return key, s.db.StartTOTP(ctx, a.ID, enc)
}

// keyFor rebuilds the QR code for an existing pending secret.
func keyFor(a *passport.Account, secret string) (*passport.TOTPKey, error) {
	return passport.TOTPKeyFromSecret("Passport", a.Login, secret)
}

// enableTOTP checks the first code against the pending secret, turns two factors on and
// returns the recovery codes to show once. Outside a sign-in it needs the password too:
// otherwise whoever found a signed-in browser could put their own phone on the account.
func (s *Server) enableTOTP(ctx context.Context, a *passport.Account, code, password string, needPassword bool) ([]string, error) {
	if needPassword {
		if _, err := s.verifyPasswordAndFactor(ctx, a, password, ""); err != nil {
			return nil, err
		}
	}
	t, err := s.db.TOTPOf(ctx, a.ID)
	if passport.ErrorCode(err) == passport.EINTERNAL {
		return nil, err
	}
	if err != nil || t.EnabledAt != nil {
		return nil, passport.FieldError("code", "Start the set-up again.")
	}
	// A pending secret lives as long as a code: one shown on a page left open (or read by
	// somebody else) cannot be completed days later.
	if s.db.Now().Sub(t.CreatedAt) >= s.cfg.Codes.Lifetime {
		return nil, passport.FieldError("code", "The set-up expired. Add the new key below to your app and enter its code.")
	}
	secret, err := s.cfg.TOTPSealer.OpenBytes(t.SecretEnc, totpPurpose)
	if err != nil {
		return nil, err
	}
	if n, _, err := s.db.Hit(ctx, "totp:"+a.ID, s.cfg.RateWindow); err != nil {
		return nil, err
	} else if n > s.cfg.Codes.MaxAttempts {
		return nil, &passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Too many attempts. Try again in a few minutes."}
	}
	step, ok := passport.MatchTOTP(string(secret), code, s.db.Now())
	if !ok {
		return nil, passport.FieldError("code", "This code is not right. Check the time on your phone and try the next code.")
	}
	codes := passport.NewRecoveryCodes(10)
	hashes := s.recoveryHashes(a.ID, codes)
	var notice []passport.Outgoing
	if a.Email != "" {
		m, err := s.message(passport.ChannelEmail, a.Email, "two_factor_enabled", a, MessageData{At: s.db.Now()})
		if err != nil {
			return nil, err
		}
		notice = append(notice, m)
	}
	if err := s.db.EnableTOTP(ctx, a.ID, step, hashes, notice...); err != nil {
		return nil, err
	}
	return codes, s.db.ResetLimit(ctx, "totp:"+a.ID)
}

// renderEnrol shows the two-factor page for the account's state, p says the rest: the
// sign-in it belongs to, whether the password is asked, whether the key is shown (Scan) and
// a mistake to show next to its field.
func (s *Server) renderEnrol(c echo.Context, status int, a *passport.Account, p enrolPage) error {
	ctx := c.Request().Context()
	p.Base, p.Flash = s.base(c, "Two-factor authentication"), flashes[c.QueryParam("saved")]
	p.Account = a
	secret, err := s.totpSecret(ctx, a.ID)
	if err != nil {
		return err
	}
	if secret != "" {
		p.Enabled, p.Scan = true, false
		left, err := s.db.RecoveryCodesLeft(ctx, a.ID)
		if err != nil {
			return err
		}
		p.CodesLeft = passport.Count(left)
		return s.page(c, status, "two_factor", p)
	}
	if !p.Scan {
		// The first step: what two factors are, and a button. No key is made or shown until
		// the person asks, so a look at the page changes nothing and shows no QR code.
		return s.page(c, status, "two_factor", p)
	}
	key, err := s.enrolment(ctx, a)
	if err != nil {
		return err
	}
	p.Secret, p.URI = key.Secret, key.URI
	p.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(key.QRPNG)) //nolint:gosec // our own PNG
	return s.page(c, status, "two_factor", p)
}

func (s *Server) handleTwoFactorPage(c echo.Context, a *passport.Account) error {
	return s.renderEnrol(c, http.StatusOK, a, enrolPage{NeedPassword: true})
}

// handleTwoFactorStart is the first step's "Turn on": the key to add to an authenticator
// app, and the form that finishes enrolment. A pending key still fresh is shown again, so an
// app that already has it keeps working.
func (s *Server) handleTwoFactorStart(c echo.Context, a *passport.Account) error {
	return s.renderEnrol(c, http.StatusOK, a, enrolPage{NeedPassword: true, Scan: true})
}

// formStatus is the status of a form shown again with a message: 429 when the message is
// a rate limit, else 400.
func formStatus(err error) int {
	if passport.ErrorCode(err) == passport.ELIMITED {
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

// handleTwoFactorEnable completes enrolment and shows the recovery codes once.
func (s *Server) handleTwoFactorEnable(c echo.Context, a *passport.Account) error {
	codes, err := s.enableTOTP(c.Request().Context(), a, c.FormValue("code"), c.FormValue("password"), true)
	if passport.ErrorCode(err) == passport.EINVALID || passport.ErrorCode(err) == passport.ELIMITED {
		return s.renderEnrol(c, formStatus(err), a, enrolPage{NeedPassword: true, Scan: true, Form: "enable", Errors: s.formErrors(c, err)})
	}
	if err != nil {
		return err
	}
	return s.showRecoveryCodes(c, a, codes, "", false)
}

// handleTwoFactorDisable needs the password and a current code.
func (s *Server) handleTwoFactorDisable(c echo.Context, a *passport.Account) error {
	err := s.disableTOTP(c.Request().Context(), a, c.FormValue("password"), c.FormValue("code"))
	if code := passport.ErrorCode(err); code == passport.EINVALID || code == passport.ELIMITED {
		return s.renderEnrol(c, formStatus(err), a, enrolPage{NeedPassword: true, Form: "disable", Errors: s.formErrors(c, err)})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/profile/2fa?saved=2fa-off")
}

// regenerateRecoveryCodes replaces every recovery code with ten new ones, returned to show
// once. It needs the password and a current code from the authenticator app, not a
// recovery code: new codes are for a person who still has the app (one who lost it turns two
// factors off with a recovery code and on again). The old codes stop working in the same
// transaction that stores the new ones and queues the notice to the account's email, its
// time shown in zone (the browser's; UTC when it has not told).
func (s *Server) regenerateRecoveryCodes(ctx context.Context, a *passport.Account, password, code string, zone *time.Location) ([]string, error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if !sixDigits(code) {
		return nil, passport.FieldError("code", "Enter the 6-digit code your authenticator app shows now.")
	}
	on, err := s.verifyPasswordAndFactor(ctx, a, password, code)
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, passport.FieldError("code", "Two-factor authentication is not on.")
	}
	codes := passport.NewRecoveryCodes(10)
	var notice []passport.Outgoing
	if a.Email != "" {
		m, err := s.message(passport.ChannelEmail, a.Email, "recovery_codes_replaced", a, MessageData{At: s.db.Now(), Zone: zone})
		if err != nil {
			return nil, err
		}
		notice = append(notice, m)
	}
	if err := s.db.ReplaceRecoveryCodes(ctx, a.ID, s.recoveryHashes(a.ID, codes), notice...); err != nil {
		if passport.ErrorCode(err) == passport.ECONFLICT { // turned off meanwhile
			return nil, passport.FieldError("code", "Two-factor authentication is not on.")
		}
		return nil, err
	}
	return codes, nil
}

// sixDigits reports whether code looks like a TOTP code.
func sixDigits(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (s *Server) recoveryHashes(accountID string, codes []string) [][]byte {
	hashes := make([][]byte, len(codes))
	for i, rc := range codes {
		hashes[i] = s.recoveryHash(accountID, rc)
	}
	return hashes
}

// handleRecoveryCodes makes new recovery codes (password and a current code) and shows
// them once.
func (s *Server) handleRecoveryCodes(c echo.Context, a *passport.Account) error {
	codes, err := s.regenerateRecoveryCodes(c.Request().Context(), a, c.FormValue("password"), c.FormValue("code"), s.zone(c))
	if code := passport.ErrorCode(err); code == passport.EINVALID || code == passport.ELIMITED {
		return s.renderEnrol(c, formStatus(err), a, enrolPage{NeedPassword: true, Form: "recovery", Errors: s.formErrors(c, err)})
	}
	if err != nil {
		return err
	}
	return s.showRecoveryCodes(c, a, codes, "", true)
}

// showRecoveryCodes shows recovery codes this once, with a button that copies them
// (static/recovery.js) and a text file to download. The file is a data: URL made here, so
// the codes are never in a request, a URL the server sees, or a log.
func (s *Server) showRecoveryCodes(c echo.Context, a *passport.Account, codes []string, reqID string, regenerated bool) error {
	p := enrolPage{Base: s.base(c, "Recovery codes"), Enabled: true, Recovery: codes, Regenerated: regenerated,
		CodesLeft: passport.Count(len(codes)), AuthRequestID: reqID}
	p.Account = a
	var file strings.Builder
	file.WriteString(s.text(c, "Recovery codes for the Passport account %s at %s", a.Login, s.cfg.Issuer) + "\n")
	file.WriteString(s.text(c, "Each code signs you in once. Keep them where only you can reach them.") + "\n\n")
	for _, rc := range codes {
		file.WriteString(rc + "\n")
	}
	p.Download = template.URL("data:text/plain;charset=utf-8;base64," + base64.StdEncoding.EncodeToString([]byte(file.String()))) //nolint:gosec // made here
	return s.page(c, http.StatusOK, "two_factor", p)
}

// verifyPasswordAndFactor checks the password (rate-limited) and, when two factors are on,
// a current code: what deleting the account or turning two factors off needs.
func (s *Server) verifyPasswordAndFactor(ctx context.Context, a *passport.Account, password, code string) (twoFactor bool, err error) {
	key := "password:" + a.ID
	if n, _, err := s.db.Hit(ctx, key, s.cfg.RateWindow); err != nil {
		return false, err
	} else if n > s.cfg.RatePerAccount {
		return false, &passport.Error{Code: passport.ELIMITED, Field: "password", Message: "Too many attempts. Try again later."}
	}
	if ok, _, err := passport.CheckPassword(ctx, a.PasswordHash, password, s.cfg.Argon2); err != nil {
		return false, err
	} else if !ok {
		return false, passport.FieldError("password", "This is not your password.")
	}
	secret, err := s.totpSecret(ctx, a.ID)
	if err != nil {
		return false, err
	}
	if secret != "" {
		if _, err := s.checkSecondFactor(ctx, a, secret, code); err != nil {
			return true, err
		}
	}
	return secret != "", s.db.ResetLimit(ctx, key)
}

func (s *Server) disableTOTP(ctx context.Context, a *passport.Account, password, code string) error {
	on, err := s.verifyPasswordAndFactor(ctx, a, password, code)
	if err != nil {
		return err
	}
	if !on {
		return passport.FieldError("code", "Two-factor authentication is not on.")
	}
	var notice []passport.Outgoing
	if a.Email != "" {
		m, err := s.message(passport.ChannelEmail, a.Email, "two_factor_disabled", a, MessageData{At: s.db.Now()})
		if err != nil {
			return err
		}
		notice = append(notice, m)
	}
	return s.db.DisableTOTP(ctx, a.ID, notice...)
}

// setupAllowed decides the enrolment step within a sign-in: only for an application that
// requires two factors (otherwise whoever finds a signed-in browser could put their own
// phone on the account through any sign-in link), and without asking for the password only
// when it was typed for this very request.
func setupAllowed(req *passport.AuthRequest, client *passport.Client, sess *passport.Session) (ok, needPassword bool) {
	return client.RequireMFA && !passport.HasMFA(sess.AMR), req.LoginSessionID != sess.ID
}

// handleTwoFactorSetupForm leads a person without two factors through enrolment when an
// application requires them.
func (s *Server) handleTwoFactorSetupForm(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session, a *passport.Account) error {
	ok, needPassword := setupAllowed(req, client, sess)
	if !ok {
		return s.continueFlow(c, req, client, sess)
	}
	return s.renderEnrol(c, http.StatusOK, a, enrolPage{AuthRequestID: req.ID, NeedPassword: needPassword, Scan: true})
}

// handleTwoFactorSetupSubmit enables two factors within a sign-in: the session becomes a
// two-factor one, the recovery codes are shown, and Continue goes on to the application.
func (s *Server) handleTwoFactorSetupSubmit(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session, a *passport.Account) error {
	ok, needPassword := setupAllowed(req, client, sess)
	if !ok {
		return passport.Errorf(passport.EFORBIDDEN, "This application does not ask you to set up two-factor authentication. Do it from your profile.")
	}
	codes, err := s.enableTOTP(c.Request().Context(), a, c.FormValue("code"), c.FormValue("password"), needPassword)
	if code := passport.ErrorCode(err); code == passport.EINVALID || code == passport.ELIMITED {
		return s.renderEnrol(c, formStatus(err), a, enrolPage{AuthRequestID: req.ID, NeedPassword: needPassword, Scan: true,
			Form: "enable", Errors: s.formErrors(c, err)})
	}
	if err != nil {
		return err
	}
	upgraded, err := s.startSession(c, a, []string{passport.AMRPassword, passport.AMROTP, passport.AMRMFA})
	if err != nil {
		return err
	}
	if err := s.db.MarkLogin(c.Request().Context(), req.ID, upgraded.ID); err != nil {
		return err
	}
	return s.showRecoveryCodes(c, a, codes, req.ID, false)
}
