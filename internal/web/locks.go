package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// Locked fields and unlocking (SPEC §2): the profile schema of the account API (the
// cabinet's edit page draws from the same account.FieldSchemas), the member page's section
// with the administrator's edit, unlock and re-lock, and their admin API.

// ---- The account API ----

// FieldSchemaJSON is one field of GET /api/v1/me/profile/schema.
type FieldSchemaJSON struct {
	Field         string          `json:"field"`
	Label         string          `json:"label"`
	Editable      bool            `json:"editable"`
	Reason        *LockReasonJSON `json:"reason,omitempty"`
	Required      bool            `json:"required"`
	Publicity     string          `json:"publicity"`
	UnlockedUntil *time.Time      `json:"unlocked_until,omitempty"`
}

// LockReasonJSON says why a field is not editable.
type LockReasonJSON struct {
	Code         string       `json:"code"`
	Organisation *LockOrgJSON `json:"organisation,omitempty"`
	Message      string       `json:"message"`
}

// LockOrgJSON is the organisation to ask about a locked field.
type LockOrgJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) schemaJSON(c echo.Context, fields []account.FieldSchema) []FieldSchemaJSON {
	out := make([]FieldSchemaJSON, 0, len(fields))
	for _, fs := range fields {
		j := FieldSchemaJSON{Field: string(fs.Field), Label: s.text(c, fs.Label), Editable: fs.Editable, Required: fs.Required,
			Publicity: string(fs.Publicity)}
		if fs.Unlocked && fs.UnlockedUntil != nil {
			u := fs.UnlockedUntil.UTC()
			j.UnlockedUntil = &u
		}
		if !fs.Editable {
			j.Reason = &LockReasonJSON{Code: fs.Reason}
			if fs.Message != nil {
				j.Reason.Message = s.errText(c, fs.Message)
			}
			if fs.Org != nil {
				j.Reason.Organisation = &LockOrgJSON{ID: fs.Org.OrgID, Name: fs.Org.OrgName}
			}
		}
		out = append(out, j)
	}
	return out
}

// apiProfileSchema answers, per profile field, whether the person may edit it (and if not,
// why and whom to ask), whether it is required and its publicity.
func (s *Server) apiProfileSchema(c echo.Context) error {
	ctx := c.Request().Context()
	a := apiAccount(c)
	fields, err := s.acct.Schema(ctx, self(ctx, a.ID), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"fields": s.schemaJSON(c, fields)})
}

// ---- The member page's section ----

// memberLocksView is this part's section of the admin member page: each field the person
// could edit with its state, unlock and re-lock forms for the locked ones, and the
// administrator's edit of the profile.
type memberLocksView struct {
	Rows   []lockRow
	Flash  string // a sentence of the catalogue
	Edit   []formField
	Errors map[string]string // translated, by input name (edit, unlock and re-lock forms)
	Field  string            // the field of a refused unlock or re-lock
	Until  string
}

// lockRow is one field on the member page: State is locked, unlocked or editable.
type lockRow struct {
	Field, Label, State string
	Until               time.Time // zero: until locked again
	Lockable            bool      // the policy gives the field to the administrator
}

// lockForm carries a refused form of this section into the member page drawn again.
type lockForm struct {
	Values map[string]string
	Errors map[string]string
	Field  string
	Until  string
}

const lockFormKey = "locks.form"

var lockFlashes = map[string]string{
	"profile": "The profile is saved.", "unlocked": "The field is unlocked.", "relocked": "The field is locked again.",
}

// memberLocks loads this part's section of the admin member page.
func (s *Server) memberLocks(c echo.Context, m *account.Member) (memberLocksView, error) {
	a := m.Account
	v := memberLocksView{Flash: lockFlashes[c.QueryParam("locks")], Errors: map[string]string{}}
	for _, fs := range account.FieldSchemas(s.cfg.Rules, a) {
		if fs.Reason == account.ReasonNeverEditable {
			continue
		}
		r := lockRow{Field: string(fs.Field), Label: fs.Label, State: "editable", Lockable: fs.Access == passport.AccessAdmin}
		switch {
		case fs.Reason == account.ReasonLocked:
			r.State = "locked"
		case fs.Unlocked:
			r.State = "unlocked"
			if fs.UnlockedUntil != nil {
				r.Until = *fs.UnlockedUntil
			}
		}
		v.Rows = append(v.Rows, r)
	}
	bd := ""
	if a.Birthdate != nil {
		bd = a.Birthdate.Format(time.DateOnly)
	}
	label := passport.FieldLabels
	v.Edit = []formField{
		{Name: "given_name", Label: label[passport.FieldGivenName], Type: "text", Value: a.GivenName, Autocomplete: "off"},
		{Name: "family_name", Label: label[passport.FieldFamilyName], Type: "text", Value: a.FamilyName, Autocomplete: "off"},
		{Name: "birthdate", Label: label[passport.FieldBirthdate], Type: "date", Value: bd, Autocomplete: "off", Hint: "YYYY-MM-DD"},
		{Name: "nickname", Label: label[passport.FieldNickname], Type: "text", Value: a.Nickname, Autocomplete: "off"},
		{Name: "locale", Label: label[passport.FieldLocale], Type: "select", Value: a.Locale},
		{Name: "email", Label: label[passport.FieldEmail], Type: "email", Value: a.Email, Autocomplete: "off",
			Hint: "A new address is unconfirmed until the person confirms it."},
		{Name: "phone", Label: label[passport.FieldPhone], Type: "tel", Value: a.Phone, Autocomplete: "off",
			Hint: "In international form, like +372 5123 4567; unconfirmed until the person confirms it."},
	}
	if f, ok := c.Get(lockFormKey).(*lockForm); ok {
		v.Errors, v.Field, v.Until = f.Errors, f.Field, f.Until
		for i := range v.Edit {
			if val, ok := f.Values[v.Edit[i].Name]; ok {
				v.Edit[i].Value = val
			}
			v.Edit[i].Error = f.Errors[v.Edit[i].Name]
		}
	}
	return v, nil
}

// locksDone answers an action of this section: back to the member page with a flash, or
// the page again with the messages next to the fields (or the refusal on top).
func (s *Server) locksDone(c echo.Context, err error, errs FieldErrors, f *lockForm, saved string) error {
	if err == nil && len(errs) == 0 {
		return c.Redirect(http.StatusSeeOther, memberURL(c.Param("org"), c.Param("id"))+"?locks="+saved+"#locks")
	}
	status, problem := http.StatusBadRequest, ""
	f.Errors = s.texts(c, errs)
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if err != nil {
		var rerr error
		if status, problem, rerr = s.refusal(c, err, f.Errors); rerr != nil {
			return rerr
		}
	}
	c.Set(lockFormKey, f)
	return s.renderMember(c, status, nil, problem)
}

// handleMemberProfile is the administrator's edit of a member's profile, locked fields
// included.
func (s *Server) handleMemberProfile(c echo.Context, _ *passport.Account) error {
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	f := &lockForm{Values: map[string]string{}}
	var in account.ProfileInput
	for _, x := range []struct {
		name string
		dst  **string
	}{{"nickname", &in.Nickname}, {"given_name", &in.GivenName}, {"family_name", &in.FamilyName},
		{"birthdate", &in.Birthdate}, {"locale", &in.Locale}, {"email", &in.Email}, {"phone", &in.Phone}} {
		if form.Has(x.name) {
			v := form.Get(x.name)
			f.Values[x.name] = v
			*x.dst = &v
		}
	}
	_, errs, err := s.acct.UpdateMemberProfile(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"), in)
	return s.locksDone(c, err, errs, f, "profile")
}

// parseUntil reads the optional end of an unlock from a form: a date, the unlock ending
// when that day ends (UTC); empty for none.
func parseUntil(v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, passport.FieldError("until", "Enter the date as YYYY-MM-DD, for example 1990-04-23.")
	}
	end := d.AddDate(0, 0, 1)
	return &end, nil
}

// handleMemberUnlock unlocks a locked field for this one account, optionally until a day.
func (s *Server) handleMemberUnlock(c echo.Context, _ *passport.Account) error {
	f := &lockForm{Field: c.FormValue("field"), Until: c.FormValue("until")}
	until, err := parseUntil(f.Until)
	if err == nil {
		err = s.acct.Unlock(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"), f.Field, until)
	}
	return s.locksDone(c, err, nil, f, "unlocked")
}

// handleMemberRelock locks an unlocked field again.
func (s *Server) handleMemberRelock(c echo.Context, _ *passport.Account) error {
	f := &lockForm{Field: c.FormValue("field")}
	err := s.acct.Relock(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"), f.Field)
	return s.locksDone(c, err, nil, f, "relocked")
}

// ---- The admin API ----

// apiAdminMemberProfile is the administrator's edit of a member's profile.
func (s *Server) apiAdminMemberProfile(c echo.Context) error {
	var in account.ProfileInput // the keys of PATCH /api/v1/me, and email and phone
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	_, errs, err := s.acct.UpdateMemberProfile(c.Request().Context(), actorOf(c), o.ID, c.Param("id"), in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return invalidFields(errs)
	}
	return s.adminMemberJSON(c, http.StatusOK, o.ID, c.Param("id"))
}

// memberFieldsJSON answers an unlock or re-lock with the member's fields as their holder
// may edit them now.
func (s *Server) memberFieldsJSON(ctx context.Context, c echo.Context, accountID string) error {
	fields, err := s.acct.Schema(ctx, actorOf(c), accountID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"fields": s.schemaJSON(c, fields)})
}

// apiAdminUnlock unlocks a locked field for one member: {"until": RFC 3339 or null}.
func (s *Server) apiAdminUnlock(c echo.Context) error {
	var in struct {
		Until *time.Time `json:"until"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	if err := s.acct.Unlock(ctx, actorOf(c), o.ID, c.Param("id"), c.Param("field"), in.Until); err != nil {
		return err
	}
	return s.memberFieldsJSON(ctx, c, c.Param("id"))
}

// apiAdminRelock locks a field again for one member.
func (s *Server) apiAdminRelock(c echo.Context) error {
	ctx := c.Request().Context()
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	if err := s.acct.Relock(ctx, actorOf(c), o.ID, c.Param("id"), c.Param("field")); err != nil {
		return err
	}
	return s.memberFieldsJSON(ctx, c, c.Param("id"))
}
