package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// The account API, /api/v1/me: every cabinet action for the signed-in person, documented in
// docs/openapi.yaml. It accepts the cabinet's session cookie (unsafe methods then need the
// X-CSRF-Token header) or a bearer access token carrying the passport:account scope, which
// only first-party clients may be given.

// apiError is the body of every API error.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func apiAccount(c echo.Context) *passport.Account {
	return accountOf(c)
}

// bearer reads the access token of an Authorization header (RFC 6750) and checks it holds
// scope: 401 invalid_token for anything but a live bearer token, 403 insufficient_scope.
func (s *Server) bearer(c echo.Context, auth, scope string) (*passport.AccessToken, error) {
	scheme, raw, _ := strings.Cut(auth, " ")
	var t *passport.AccessToken
	var err error
	isBearer := strings.EqualFold(scheme, "Bearer")
	if isBearer {
		t, err = s.oidc.AccessToken(c.Request().Context(), strings.TrimSpace(raw))
	}
	if !isBearer || passport.ErrorCode(err) == passport.ENOTFOUND {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="passport", error="invalid_token"`)
		return nil, passport.Errorf(passport.EUNAUTHORIZED, "The access token is invalid, expired or revoked.")
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(t.Scopes, scope) {
		return nil, insufficientScope(c, scope)
	}
	return t, nil
}

func insufficientScope(c echo.Context, scope string) error {
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="passport", error="insufficient_scope", scope="`+scope+`"`)
	return passport.Errorf(passport.EFORBIDDEN, "The access token lacks the %s scope.", scope)
}

// apiAuth authenticates the API caller by bearer token or by session cookie.
func (s *Server) apiAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		var accountID string
		if auth := c.Request().Header.Get("Authorization"); auth != "" {
			t, err := s.bearer(c, auth, passport.ScopeAccount)
			if err != nil {
				return err
			}
			if t.AccountID == "" {
				return insufficientScope(c, passport.ScopeAccount)
			}
			accountID = t.AccountID
			// The person acts through the application that holds the token: their events
			// name it (the cookie's way gets its actor from the browser middleware).
			c.SetRequest(c.Request().WithContext(passport.WithActor(ctx, passport.Actor{Kind: passport.ActorPerson,
				AccountID: accountID, ClientID: t.ClientID, IP: c.RealIP(), UserAgent: c.Request().UserAgent()})))
		} else {
			if err := s.browser(func(echo.Context) error { return nil })(c); err != nil {
				return err
			}
			b := browserOf(c)
			if b.Session == nil {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="passport"`)
				return passport.Errorf(passport.EUNAUTHORIZED, "Sign in, or send a bearer access token.")
			}
			if err := s.csrf(func(echo.Context) error { return nil })(c); passport.ErrorCode(err) == passport.EFORBIDDEN {
				// Said for a program, not as the pages' "this form has expired".
				return passport.Errorf(passport.EFORBIDDEN,
					"With the session cookie, send the X-CSRF-Token header with this session's token, from this site.")
			} else if err != nil {
				return err
			}
			accountID = b.Session.AccountID
		}
		a, err := s.db.Account(ctx, accountID)
		if passport.ErrorCode(err) == passport.ENOTFOUND || (err == nil && a.Status != passport.StatusActive) {
			return passport.Errorf(passport.EUNAUTHORIZED, "This account cannot use the API.")
		}
		if err != nil {
			return err
		}
		if c.Request().Header.Get("Authorization") == "" {
			// A cookie session with required actions pending (actions.go) must finish them
			// first. Bearer tokens come out of a finished sign-in; one issued before an
			// administrator set an action keeps working until it expires or the sessions
			// are ended (docs/decisions.md).
			if err := s.gateAPI(ctx, a); err != nil {
				return err
			}
		}
		withAccount(c, a)
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// Me is the person's profile as the API returns it.
type Me struct {
	ID                 string            `json:"id"`
	Login              string            `json:"login"`
	Nickname           string            `json:"nickname"`
	GivenName          string            `json:"given_name"`
	FamilyName         string            `json:"family_name"`
	Birthdate          *string           `json:"birthdate"`
	Locale             string            `json:"locale"`
	Email              string            `json:"email"`
	EmailVerified      bool              `json:"email_verified"`
	Phone              string            `json:"phone_number"`
	PhoneVerified      bool              `json:"phone_number_verified"`
	Organization       string            `json:"organization"`
	Position           string            `json:"position"`
	Roles              []string          `json:"roles"`
	Picture            *string           `json:"picture"`
	Publicity          map[string]string `json:"publicity"`
	PrivateProfile     bool              `json:"private_profile"`
	LockedFields       []string          `json:"locked_fields"`
	MissingRequired    []string          `json:"missing_required_fields"`
	VerificationStatus string            `json:"verification_status"`
	TwoFactorEnabled   bool              `json:"two_factor_enabled"`
	PublicProfileURL   string            `json:"public_profile_url"`
	UpdatedAt          time.Time         `json:"updated_at"`
}

func (s *Server) me(a *passport.Account) Me {
	m := Me{ID: a.ID, Login: a.Login, Nickname: a.Nickname, GivenName: a.GivenName, FamilyName: a.FamilyName,
		Locale: a.Locale, Email: a.Email, EmailVerified: a.EmailVerified, Phone: a.Phone, PhoneVerified: a.PhoneVerified,
		Roles: []string{}, PrivateProfile: a.PrivateProfile,
		Publicity: map[string]string{}, LockedFields: []string{}, MissingRequired: []string{},
		VerificationStatus: a.VerificationStatus, PublicProfileURL: s.cfg.Issuer + "/people/" + a.ID, UpdatedAt: a.UpdatedAt}
	if pm, ok := a.Primary(); ok {
		m.Organization, m.Position, m.Roles = pm.OrgName, pm.Position, passport.NonNil(pm.Roles)
	}
	if a.Birthdate != nil {
		d := a.Birthdate.Format(time.DateOnly)
		m.Birthdate = &d
	}
	if a.PhotoID != "" {
		u := s.cfg.Rules.PhotoURL(a.PhotoID)
		m.Picture = &u
	}
	for _, f := range passport.Fields {
		m.Publicity[string(f)] = string(s.cfg.Rules.Level(a, f))
	}
	for _, f := range []passport.Field{passport.FieldNickname, passport.FieldPicture, passport.FieldGivenName,
		passport.FieldFamilyName, passport.FieldBirthdate} {
		if s.cfg.Rules.IsLocked(a, f) {
			m.LockedFields = append(m.LockedFields, string(f))
		}
	}
	for _, f := range s.cfg.Rules.MissingRequired(a) {
		m.MissingRequired = append(m.MissingRequired, string(f))
	}
	return m
}

// decodeJSON reads a JSON body strictly: unknown fields are an error, not silently ignored.
func decodeJSON(c echo.Context, v any) error {
	if ct := c.Request().Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return passport.Errorf(passport.EINVALID, "Send the body as application/json.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, formLimit))
	if tooLarge(err) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The request body could not be read.")
	}
	// encoding/json would store invalid UTF-8 and lone surrogates as U+FFFD and keep NUL,
	// which forms refuse: refuse them here too, so every door takes the same text.
	if !jsonTextOK(body) {
		return passport.Errorf(passport.EINVALID, "The JSON body contains text that is not valid UTF-8 (or a NUL character).")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return passport.Errorf(passport.EINVALID, "The body must hold one JSON value and nothing after it.")
	}
	return nil
}

// jsonTextOK reports whether raw JSON holds only text a form would accept: valid UTF-8, no
// NUL, and no \u escape of NUL or of a UTF-16 surrogate that does not pair up.
func jsonTextOK(b []byte) bool {
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	hex4 := func(i int) (uint64, bool) {
		if i+4 > len(b) {
			return 0, false
		}
		r, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
		return r, err == nil
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++ // an escaped character, \\ included
			continue
		}
		r, ok := hex4(i + 2)
		switch {
		case !ok || r == 0 || (r >= 0xDC00 && r <= 0xDFFF):
			return false
		case r >= 0xD800 && r < 0xDC00: // a high surrogate needs a low one right after it
			if i+7 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
				return false
			}
			if low, ok := hex4(i + 8); !ok || low < 0xDC00 || low > 0xDFFF {
				return false
			}
			i += 11
		default:
			i += 5
		}
	}
	return true
}

// jsonProblem says what is wrong with a JSON body that does not decode, in a sentence of the
// catalogue; only a failure the decoder does not type keeps its own (English) words.
func jsonProblem(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return passport.Errorf(passport.EINVALID, "The JSON body must be an object.")
	case errors.As(err, &te):
		return passport.Errorf(passport.EINVALID, "The JSON body is invalid: field %s has the wrong type.", te.Field)
	case errors.As(err, &se):
		return passport.Errorf(passport.EINVALID, "The JSON body is not valid JSON (at byte %d).", se.Offset)
	case errors.Is(err, io.EOF):
		return passport.Errorf(passport.EINVALID, "The JSON body is empty.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return passport.Errorf(passport.EINVALID, "The JSON body ends too early.")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return passport.Errorf(passport.EINVALID, "The JSON body is invalid: unknown field %s.", name)
	}
	return passport.Errorf(passport.EINVALID, "The JSON body is invalid: %s.", strings.TrimPrefix(err.Error(), "json: "))
}

func (s *Server) apiGetMe(c echo.Context) error {
	m := s.me(apiAccount(c))
	on, err := s.twoFactorOn(c.Request().Context(), m.ID)
	if err != nil {
		return err
	}
	m.TwoFactorEnabled = on
	return c.JSON(http.StatusOK, m)
}

// invalidFields is the API's answer to field mistakes: 422 with a message per field.
func invalidFields(errs FieldErrors) error {
	return &fieldsError{errs}
}

type fieldsError struct{ fields FieldErrors }

func (e *fieldsError) Error() string { return "invalid fields" }

func (s *Server) apiPatchMe(c echo.Context) error {
	var in MainInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Email != nil {
		return invalidFields(FieldErrors{"email": passport.FieldError("email", "Change your email address with POST /api/v1/me/email, which confirms it.")})
	}
	a, errs, err := s.updateMain(c.Request().Context(), apiAccount(c).ID, in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return invalidFields(errs)
	}
	return c.JSON(http.StatusOK, s.me(a))
}

func (s *Server) apiPatchPublicity(c echo.Context) error {
	var in PublicityInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, errs, err := s.setPublicity(c.Request().Context(), apiAccount(c).ID, in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return invalidFields(errs)
	}
	return c.JSON(http.StatusOK, s.me(a))
}

func (s *Server) apiPutPhoto(c echo.Context) error {
	a := apiAccount(c)
	if err := s.acct.CheckEditable(a, passport.FieldPicture); err != nil {
		return err
	}
	data, err := readUpload(c, s.cfg.Photo.MaxBytes)
	if err == nil {
		err = s.uploadPhoto(c.Request().Context(), a, data)
	}
	if err != nil {
		return err
	}
	a, err = s.db.Account(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.me(a))
}

func (s *Server) apiDeletePhoto(c echo.Context) error {
	if err := s.acct.CheckEditable(apiAccount(c), passport.FieldPicture); err != nil {
		return err
	}
	if err := s.deletePhoto(c.Request().Context(), apiAccount(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiGetApps(c echo.Context) error {
	apps, err := s.connectedApps(c.Request().Context(), apiAccount(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"apps": apps})
}

func (s *Server) apiDeleteApp(c echo.Context) error {
	if err := s.db.RevokeApp(c.Request().Context(), apiAccount(c).ID, c.Param("client_id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiExport(c echo.Context) error {
	x, err := s.export(c.Request().Context(), apiAccount(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, x)
}

// apiErrorResponse writes err as the API's JSON error.
func (s *Server) apiErrorResponse(c echo.Context, err error) {
	var fe *fieldsError
	var he *echo.HTTPError
	body := apiError{}
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &fe):
		status, body.Error = http.StatusUnprocessableEntity, apiErrorBody{Code: passport.EINVALID,
			Message: s.text(c, "Some fields are invalid; nothing was saved."), Fields: s.texts(c, fe.fields)}
	case errors.As(err, &he):
		status = he.Code
		body.Error = apiErrorBody{Code: strings.ReplaceAll(strings.ToLower(http.StatusText(he.Code)), " ", "_"), Message: s.httpErrorText(c, he.Code)}
	default:
		code := passport.ErrorCode(err)
		status = statusOf[code]
		body.Error = apiErrorBody{Code: code, Message: s.errText(c, err)}
		var pe *passport.Error
		if errors.As(err, &pe) && pe.Field != "" {
			body.Error.Fields = s.texts(c, FieldErrors{pe.Field: pe})
			if code == passport.EINVALID {
				status = http.StatusUnprocessableEntity
			}
		}
		if code == passport.EINTERNAL {
			s.logInternal(c, err)
		}
	}
	_ = c.JSON(status, body)
}

// httpErrorText is the API's message for an error of the router or of the transport (no
// such address, a method the address does not take, a body over its limit).
func (s *Server) httpErrorText(c echo.Context, status int) string {
	switch status {
	case http.StatusNotFound:
		return s.text(c, "There is nothing at this address.")
	case http.StatusMethodNotAllowed:
		return s.text(c, "This address does not accept this kind of request.")
	case http.StatusRequestEntityTooLarge:
		return s.text(c, "What you sent is too large.")
	}
	return s.text(c, "The request could not be processed.")
}

// PendingView is a contact change waiting for its code.
type PendingView struct {
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Method    string    `json:"method"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) apiPending(c echo.Context, kind string) error {
	p, err := s.db.PendingChange(c.Request().Context(), apiAccount(c).ID, kind)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"pending": PendingView{Kind: p.Kind, Value: p.Value, Method: p.Method, ExpiresAt: p.ExpiresAt}})
}

func (s *Server) apiStartContact(c echo.Context) error {
	kind := s.contactKind(c)
	var in struct {
		Email  string `json:"email"`
		Phone  string `json:"phone"`
		Method string `json:"method"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var err error
	if kind == "email" {
		err = s.startEmailChange(c.Request().Context(), apiAccount(c), in.Email)
	} else {
		err = s.startPhoneChange(c.Request().Context(), apiAccount(c), in.Phone, in.Method, s.phoneRegion(c))
	}
	if err != nil {
		return err
	}
	return s.apiPending(c, kind)
}

func (s *Server) apiConfirmContact(c echo.Context) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a := apiAccount(c)
	if err := s.confirmChange(c.Request().Context(), a, s.contactKind(c), in.Code); err != nil {
		return err
	}
	a, err := s.db.Account(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.me(a))
}

func (s *Server) apiResendContact(c echo.Context) error {
	kind := s.contactKind(c)
	if err := s.resend(c.Request().Context(), apiAccount(c), kind); err != nil {
		return err
	}
	return s.apiPending(c, kind)
}

func (s *Server) apiCancelContact(c echo.Context) error {
	if err := s.db.CancelChange(c.Request().Context(), apiAccount(c).ID, s.contactKind(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiRemoveContact(c echo.Context) error {
	kind := s.contactKind(c)
	if err := s.acct.CheckEditable(apiAccount(c), passport.Field(kind)); err != nil {
		return err
	}
	if err := s.db.RemoveContact(c.Request().Context(), apiAccount(c).ID, kind); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiChangePassword(c echo.Context) error {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.changePassword(c.Request().Context(), apiAccount(c), in.Current, in.New); err != nil {
		return err
	}
	s.setCookie(c, s.cookie.session, "", -1)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiSessions(c echo.Context) error {
	current := ""
	if b := browserOf(c); b != nil && b.Session != nil {
		current = b.Session.ID
	}
	list, err := s.liveSessions(c.Request().Context(), s.localizer(c), apiAccount(c).ID, current)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"sessions": list})
}

func (s *Server) apiEndSession(c echo.Context) error {
	if err := s.db.EndAccountSession(c.Request().Context(), apiAccount(c).ID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiEndAllSessions(c echo.Context) error {
	if err := s.db.SignOutEverywhere(c.Request().Context(), apiAccount(c).ID); err != nil {
		return err
	}
	s.setCookie(c, s.cookie.session, "", -1)
	return c.NoContent(http.StatusNoContent)
}

// apiDeleteMe schedules the account's deletion (password, and a code when two factors are
// on). The bearer token and the session stop working at once; restoring happens at the
// cabinet's sign-in.
func (s *Server) apiDeleteMe(c echo.Context) error {
	var in struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	purgeAt, err := s.scheduleDeletion(c, apiAccount(c), in.Password, in.Code)
	if err != nil {
		return err
	}
	s.setCookie(c, s.cookie.session, "", -1)
	return c.JSON(http.StatusAccepted, map[string]any{"status": passport.StatusPendingDeletion, "purge_at": purgeAt,
		"restore": s.text(c, "Sign in at %s before purge_at and choose Restore account.", s.cfg.Issuer+"/signin")})
}

// apiStartTwoFactor returns the secret to enrol, as text, otpauth URI and QR code.
func (s *Server) apiStartTwoFactor(c echo.Context) error {
	a := apiAccount(c)
	if on, err := s.twoFactorOn(c.Request().Context(), a.ID); err != nil {
		return err
	} else if on {
		return passport.Errorf(passport.ECONFLICT, "Two-factor authentication is already on.")
	}
	key, err := s.enrolment(c.Request().Context(), a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"secret": key.Secret, "otpauth_uri": key.URI,
		"qr_png_base64": base64.StdEncoding.EncodeToString(key.QRPNG)})
}

func (s *Server) apiEnableTwoFactor(c echo.Context) error {
	var in struct {
		Code     string `json:"code"`
		Password string `json:"password"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	codes, err := s.enableTOTP(c.Request().Context(), apiAccount(c), in.Code, in.Password, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"recovery_codes": codes})
}

// apiRecoveryCodes replaces every recovery code with ten new ones (password and a current
// code from the authenticator app) and returns them this once.
func (s *Server) apiRecoveryCodes(c echo.Context) error {
	var in struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	codes, err := s.regenerateRecoveryCodes(c.Request().Context(), apiAccount(c), in.Password, in.Code, s.zone(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"recovery_codes": codes})
}

func (s *Server) apiDisableTwoFactor(c echo.Context) error {
	var in struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.disableTOTP(c.Request().Context(), apiAccount(c), in.Password, in.Code); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
