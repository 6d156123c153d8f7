package web

import (
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// signedIn returns the signed-in person's account, or nil after redirecting to sign-in.
func (s *Server) signedIn(c echo.Context) (*passport.Account, error) {
	sess := browserOf(c).Session
	if sess == nil {
		return nil, nil
	}
	return s.db.Account(c.Request().Context(), sess.AccountID)
}

// cabinet wraps a cabinet page handler: no session, no page.
func (s *Server) cabinet(h func(echo.Context, *passport.Account) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := s.signedIn(c)
		if err != nil {
			return err
		}
		if a == nil {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusFound, "/signin")
			}
			return c.Redirect(http.StatusSeeOther, "/signin")
		}
		withAccount(c, a)
		return h(c, a)
	}
}

// row is a labelled value; Label and Badge are sentences of the catalogue, shown translated.
type row struct {
	Label, Value, Badge string
}

type privacyRow struct {
	Field   string
	Label   string // a sentence of the catalogue
	Value   string
	Level   passport.Publicity
	Default passport.Publicity
}

type profilePage struct {
	Base
	Flash          string   // a sentence of the catalogue
	Missing        []string // the missing fields' labels, translated
	PhotoURL       string
	Main           []row
	Identifiers    []row
	Privacy        []privacyRow
	PrivacyErrors  map[string]string
	PrivateProfile bool
	PublicURL      string
	AppCount       int
}

// flashes are the sentences of the catalogue a page shows after an action (?saved=…).
var flashes = map[string]string{
	"main": "Your profile is saved.", "photo": "Your photo is saved.", "photo-deleted": "Your photo is deleted.",
	"privacy": "Your privacy settings are saved.", "revoked": "The application is disconnected.",
	"code-sent": "We sent a code. Enter it below.", "email-confirmed": "Your email address is confirmed.",
	"phone-confirmed": "Your phone number is confirmed.", "cancelled": "The change is cancelled.",
	"email-deleted": "Your email address is deleted.", "phone-deleted": "Your phone number is deleted.",
	"session-ended": "The session is ended.", "restored": "Your account is restored: it will not be deleted.",
	"2fa-off": "Two-factor authentication is off.",
}

// handleProfile is the cabinet: main information, identifiers, privacy and other actions.
func (s *Server) handleProfile(c echo.Context, a *passport.Account) error {
	return s.renderProfile(c, http.StatusOK, a, nil)
}

func (s *Server) renderProfile(c echo.Context, status int, a *passport.Account, privacyErrs FieldErrors) error {
	apps, err := s.db.Grants(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	p := profilePage{Base: s.base(c, "Your profile"), Flash: flashes[c.QueryParam("saved")], PrivacyErrors: s.texts(c, privacyErrs),
		PrivateProfile: a.PrivateProfile, PublicURL: "/people/" + a.ID, AppCount: len(apps)}
	p.Account = a
	for _, f := range s.cfg.Rules.MissingRequired(a) {
		p.Missing = append(p.Missing, s.text(c, passport.FieldLabels[f]))
	}
	if a.PhotoID != "" {
		p.PhotoURL = "/photos/" + a.PhotoID
	}
	label := passport.FieldLabels
	p.Main = []row{
		{Label: label[passport.FieldNickname], Value: a.Nickname}, {Label: label[passport.FieldGivenName], Value: a.GivenName},
		{Label: label[passport.FieldFamilyName], Value: a.FamilyName},
		{Label: label[passport.FieldBirthdate], Value: s.shownValue(c, a, passport.FieldBirthdate)},
		{Label: label[passport.FieldLocale], Value: s.shownValue(c, a, passport.FieldLocale)},
	}
	verified := func(v bool) string {
		if v {
			return "verified"
		}
		return "not verified"
	}
	p.Identifiers = []row{{Label: label[passport.FieldLogin], Value: a.Login}, {Label: "Passport ID", Value: a.ID}}
	if a.Email != "" {
		p.Identifiers = append(p.Identifiers, row{Label: label[passport.FieldEmail], Value: a.Email, Badge: verified(a.EmailVerified)})
	} else {
		p.Identifiers = append(p.Identifiers, row{Label: label[passport.FieldEmail]})
	}
	if a.Phone != "" {
		p.Identifiers = append(p.Identifiers, row{Label: label[passport.FieldPhone], Value: a.Phone, Badge: verified(a.PhoneVerified)})
	} else {
		p.Identifiers = append(p.Identifiers, row{Label: label[passport.FieldPhone]})
	}
	if a.Organization != "" || a.Position != "" {
		p.Identifiers = append(p.Identifiers, row{Label: "Organisation", Value: s.shownValue(c, a, passport.FieldOrganization)})
	}
	for _, f := range passport.Fields {
		p.Privacy = append(p.Privacy, privacyRow{Field: string(f), Label: label[f], Value: s.shownValue(c, a, f),
			Level: s.cfg.Rules.Level(a, f), Default: s.cfg.Rules.Defaults[f]})
	}
	return s.page(c, status, "profile", p)
}

type editPage struct {
	Base
	Fields     []formField
	PhotoURL   string
	PhotoError string
	PhotoLock  bool
	MaxPhoto   string
}

// editFields are the edit form's inputs; labels and hints are sentences of the catalogue, the
// template shows them translated. The language is a choice of the languages Passport speaks.
func (s *Server) editFields(a *passport.Account, values map[string]string, errs map[string]string) []formField {
	bd := ""
	if a.Birthdate != nil {
		bd = a.Birthdate.Format("2006-01-02")
	}
	label := passport.FieldLabels
	fields := []formField{
		{Name: "nickname", Label: label[passport.FieldNickname], Type: "text", Value: a.Nickname, Autocomplete: "nickname",
			Hint: "How you appear to others when your name is not shared."},
		{Name: "given_name", Label: label[passport.FieldGivenName], Type: "text", Value: a.GivenName, Autocomplete: "given-name"},
		{Name: "family_name", Label: label[passport.FieldFamilyName], Type: "text", Value: a.FamilyName, Autocomplete: "family-name"},
		{Name: "birthdate", Label: label[passport.FieldBirthdate], Type: "date", Value: bd, Autocomplete: "bday", Hint: "YYYY-MM-DD"},
		{Name: "locale", Label: label[passport.FieldLocale], Type: "select", Value: a.Locale, Autocomplete: "language",
			Hint: "Passport's pages and the messages it sends you are in this language."},
	}
	for i := range fields {
		f := &fields[i]
		if v, ok := values[f.Name]; ok {
			f.Value = v
		}
		f.Error = errs[f.Name]
		if pf, err := passport.ParseField(f.Name); err == nil && s.cfg.Rules.IsLocked(a, pf) {
			f.Locked = true
			f.Hint = "Managed by your organisation: ask your administrator to change it."
		}
	}
	return fields
}

func (s *Server) renderEdit(c echo.Context, status int, a *passport.Account, values map[string]string, errs FieldErrors, photoErr string) error {
	p := editPage{Base: s.base(c, "Edit your profile"), Fields: s.editFields(a, values, s.texts(c, errs)), PhotoError: photoErr,
		PhotoLock: s.cfg.Rules.IsLocked(a, passport.FieldPicture), MaxPhoto: passport.HumanBytes(s.cfg.Photo.MaxBytes)}
	p.Account = a
	if a.PhotoID != "" {
		p.PhotoURL = "/photos/" + a.PhotoID
	}
	return s.page(c, status, "profile_edit", p)
}

func (s *Server) handleEditForm(c echo.Context, a *passport.Account) error {
	return s.renderEdit(c, http.StatusOK, a, nil, nil, "")
}

// handleEditSubmit saves the main information; with any mistake nothing is saved and the
// form comes back with a message next to each wrong field.
func (s *Server) handleEditSubmit(c echo.Context, a *passport.Account) error {
	values := map[string]string{}
	var in MainInput
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"nickname", &in.Nickname}, {"given_name", &in.GivenName}, {"family_name", &in.FamilyName},
		{"birthdate", &in.Birthdate}, {"locale", &in.Locale}} {
		if form.Has(f.name) {
			v := form.Get(f.name)
			values[f.name] = v
			*f.dst = &v
		}
	}
	_, errs, err := s.updateMain(c.Request().Context(), a.ID, in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.renderEdit(c, http.StatusBadRequest, a, values, errs, "")
	}
	return c.Redirect(http.StatusSeeOther, "/profile?saved=main")
}

// handlePhotoUpload stores a new photo from a multipart form.
func (s *Server) handlePhotoUpload(c echo.Context, a *passport.Account) error {
	data, err := readUpload(c, s.cfg.Photo.MaxBytes)
	if err == nil {
		err = s.uploadPhoto(c.Request().Context(), a, data)
	}
	if passport.ErrorCode(err) == passport.EINVALID {
		return s.renderEdit(c, http.StatusBadRequest, a, nil, nil, s.errText(c, err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/profile?saved=photo")
}

// readUpload reads the "photo" file of a multipart form, or a raw body, refusing more than
// max bytes without reading them.
func readUpload(c echo.Context, max int) ([]byte, error) {
	tooLarge := passport.FieldError("photo", "The photo is too large: the limit is %s.", passport.HumanBytes(max))
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, int64(max)+64<<10)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		fh, err := c.FormFile("photo")
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, tooLarge
		case err != nil:
			return nil, passport.FieldError("photo", "Choose a photo to upload.")
		}
		if fh.Size > int64(max) {
			return nil, tooLarge
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, int64(max)+1))
	}
	data, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || len(data) > max {
		return nil, tooLarge
	}
	return data, err
}

func (s *Server) handlePhotoDelete(c echo.Context, a *passport.Account) error {
	err := s.deletePhoto(c.Request().Context(), a)
	if code := passport.ErrorCode(err); code == passport.EINVALID || code == passport.ENOTFOUND {
		return s.renderEdit(c, http.StatusBadRequest, a, nil, nil, s.errText(c, err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/profile?saved=photo-deleted")
}

// handlePrivacySubmit saves every field's level and the private switch, or nothing.
func (s *Server) handlePrivacySubmit(c echo.Context, a *passport.Account) error {
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	in := PublicityInput{Fields: map[string]string{}}
	for key, vals := range form {
		if name, ok := strings.CutPrefix(key, "level_"); ok && len(vals) > 0 {
			in.Fields[name] = vals[0]
		}
	}
	private := form.Get("private_profile") == "on"
	in.PrivateProfile = &private
	_, errs, err := s.setPublicity(c.Request().Context(), a.ID, in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.renderProfile(c, http.StatusBadRequest, a, errs)
	}
	return c.Redirect(http.StatusSeeOther, "/profile?saved=privacy#privacy")
}

type appsPage struct {
	Base
	Flash string
	Apps  []appView
}

type appView struct {
	ConnectedApp
	Lines []row
}

// claimLabels name the claims on the connected-apps page: sentences of the catalogue.
var claimLabels = map[string]passport.Text{
	"sub": passport.Text("Passport ID"), "name": passport.Text("Name"), "given_name": passport.Text("Given name"),
	"family_name": passport.Text("Family name"), "nickname": passport.Text("Public name"),
	"preferred_username": passport.Text("Login"), "picture": passport.Text("Photo"), "birthdate": passport.Text("Birth date"),
	"locale": passport.Text("Language"), "email": passport.Text("Email"), "phone_number": passport.Text("Phone"),
	"organization": passport.Text("Organisation"), "position": passport.Text("Position"), "roles": passport.Text("Roles"),
	"verification_status": passport.Text("Verification status"), "identifiers": passport.Text("Linked accounts"),
}

// handleApps lists connected applications and what each receives now.
func (s *Server) handleApps(c echo.Context, a *passport.Account) error {
	apps, err := s.connectedApps(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	p := appsPage{Base: s.base(c, "Connected applications"), Flash: flashes[c.QueryParam("saved")]}
	p.Account = a
	for _, app := range apps {
		v := appView{ConnectedApp: app}
		for _, claim := range []string{"sub", "name", "nickname", "preferred_username", "picture", "birthdate", "locale", "email",
			"phone_number", "organization", "position", "verification_status"} {
			if val, ok := app.Receives[claim]; ok {
				text, _ := val.(string)
				switch claim {
				case "picture":
					text = s.text(c, "your photo")
				case "verification_status":
					text = s.verificationText(c, text)
				}
				v.Lines = append(v.Lines, row{Label: string(claimLabels[claim]), Value: text})
			}
		}
		p.Apps = append(p.Apps, v)
	}
	return s.page(c, http.StatusOK, "apps", p)
}

// handleAppRevoke disconnects an application: consent deleted, tokens revoked.
func (s *Server) handleAppRevoke(c echo.Context, a *passport.Account) error {
	if err := s.db.RevokeApp(c.Request().Context(), a.ID, c.FormValue("client_id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/profile/apps?saved=revoked")
}

// handleExport downloads every piece of data about the person as one JSON file.
func (s *Server) handleExport(c echo.Context, a *passport.Account) error {
	x, err := s.export(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="passport-data.json"`)
	return c.Blob(http.StatusOK, "application/json; charset=utf-8", body)
}

type policyPage struct {
	Base
	Body     template.HTML
	Download string
}

// handlePolicy shows the personal-data policy in the page's language (or the document that
// serves the others) as a page; ?download=1 gives the Markdown file.
func (s *Server) handlePolicy(c echo.Context) error {
	lang := s.localizer(c).Lang()
	doc, ok := s.cfg.Policies[lang]
	if !ok {
		doc, lang = s.cfg.Policies[""], ""
	}
	name := "personal-data-policy.md"
	if lang != "" {
		name = "personal-data-policy." + lang + ".md"
	}
	if c.QueryParam("download") != "" {
		c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		return c.Blob(http.StatusOK, "text/markdown; charset=utf-8", doc)
	}
	body, err := s.pages.markdown(doc)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "policy", policyPage{Base: s.base(c, "Personal-data processing policy"), Body: body,
		Download: "/policy?download=1"})
}
