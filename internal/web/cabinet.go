package web

import (
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
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

// cabinet wraps a cabinet page handler: no session, no page; a pending required action
// first.
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
		// Required actions first (actions.go): the cabinet opens once none is pending.
		if to, err := s.actionGate(c.Request().Context(), a); err != nil {
			return err
		} else if to != "" {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusFound, to)
			}
			return c.Redirect(http.StatusSeeOther, to)
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
	Administrator  bool // the account administers something: a way to the console
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
	"2fa-off": "Two-factor authentication is off.", "decisions": "Your choices are saved: they apply at once.",
}

// CabinetTab names the cabinet tab the page belongs to, for the layout's tabs, or "" when the
// page is not a page of a signed-in person's cabinet (sign-in, public pages, an account
// pending deletion).
func (b Base) CabinetTab() string {
	if b.Account == nil || b.Account.Status != passport.StatusActive {
		return ""
	}
	path, _, _ := strings.Cut(b.Here, "?")
	switch {
	case path == "/profile/edit" || strings.HasPrefix(path, "/profile/photo"):
		return "edit"
	case strings.HasPrefix(path, "/profile/apps"):
		return "apps"
	case strings.HasPrefix(path, "/profile/sessions"):
		return "sessions"
	case path == "/profile/password":
		return "password"
	case path == "/profile/2fa" || strings.HasPrefix(path, "/profile/2fa/"):
		return "2fa"
	case path == "/profile/delete":
		return "delete"
	case path == "/profile/events":
		return "events"
	case path == "/profile" || strings.HasPrefix(path, "/profile/"):
		return "profile" // the profile itself, its privacy section, the email and phone pages
	}
	return ""
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
	grants, err := s.db.AdminGrants(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	p.Administrator = passport.Authority{Grants: grants}.Admin()
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
		// Set by an organisation's administrator: shown, never edited here.
	}
	for _, m := range a.Memberships {
		p.Main = append(p.Main, row{Label: "Organisation", Value: m.OrgName, Badge: "locked"})
		if m.Position != "" {
			p.Main = append(p.Main, row{Label: "Position", Value: m.Position, Badge: "locked"})
		}
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
		p.Identifiers = append(p.Identifiers, row{Label: label[passport.FieldPhone], Value: passport.FormatPhone(a.Phone), Badge: verified(a.PhoneVerified)})
	} else {
		p.Identifiers = append(p.Identifiers, row{Label: label[passport.FieldPhone]})
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
	Reasons    map[string]string // why a locked field is not editable, translated, by input name
	PhotoURL   string
	PhotoError string
	PhotoLock  bool
	PhotoWhy   string // translated
	MaxPhoto   string
}

// editFields are the edit form's inputs, drawn from the same schema as
// GET /api/v1/me/profile/schema (account.FieldSchemas): a field the person may not edit is
// shown as text with the reason, without an input. Labels and hints are sentences of the
// catalogue, the template shows them translated; reasons come back translated. The language
// is a choice of the languages Passport speaks.
func (s *Server) editFields(c echo.Context, a *passport.Account, values map[string]string, errs map[string]string) ([]formField, map[string]string) {
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
		// Set by an organisation's administrator (SPEC §6): shown so the person sees what
		// applications may receive, never editable here.
	}
	if pm, ok := a.Primary(); ok {
		fields = append(fields,
			formField{Name: "organization", Label: "Organisation", Value: pm.OrgName, Locked: true, Hint: "Set by your organisation's administrator."},
			formField{Name: "position", Label: "Position", Value: pm.Position, Locked: true, Hint: "Set by your organisation's administrator."})
	}
	schema := map[string]account.FieldSchema{}
	for _, fs := range account.FieldSchemas(s.cfg.Rules, a) {
		schema[string(fs.Field)] = fs
	}
	reasons := map[string]string{}
	for i := range fields {
		f := &fields[i]
		if v, ok := values[f.Name]; ok {
			f.Value = v
		}
		f.Error = errs[f.Name]
		if fs, ok := schema[f.Name]; ok && !fs.Editable {
			f.Locked, f.Hint = true, ""
			if f.Name == "locale" {
				f.Value = s.shownValue(c, a, passport.FieldLocale)
			}
			if fs.Message != nil {
				reasons[f.Name] = s.errText(c, fs.Message)
			}
		}
	}
	return fields, reasons
}

func (s *Server) renderEdit(c echo.Context, status int, a *passport.Account, values map[string]string, errs FieldErrors, photoErr string) error {
	p := editPage{Base: s.base(c, "Edit your profile"), PhotoError: photoErr, MaxPhoto: s.size(c, passport.Bytes(s.cfg.Photo.MaxBytes))}
	p.Fields, p.Reasons = s.editFields(c, a, values, s.texts(c, errs))
	if err := s.acct.CheckEditable(a, passport.FieldPicture); err != nil {
		p.PhotoLock, p.PhotoWhy = true, s.errText(c, err)
	}
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
	if err := s.acct.CheckEditable(a, passport.FieldPicture); err != nil {
		return s.renderEdit(c, http.StatusForbidden, a, nil, nil, s.errText(c, err))
	}
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
	tooLarge := passport.FieldError("photo", "The photo is too large: the limit is %s.", passport.Bytes(max))
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

// handlePhotoDeleteForm asks before deleting the photo.
func (s *Server) handlePhotoDeleteForm(c echo.Context, a *passport.Account) error {
	if a.PhotoID == "" {
		return c.Redirect(http.StatusFound, "/profile/edit")
	}
	if err := s.acct.CheckEditable(a, passport.FieldPicture); err != nil {
		return s.renderEdit(c, http.StatusForbidden, a, nil, nil, s.errText(c, err))
	}
	return s.confirmAction(c, "Delete your photo?", confirmPage{Action: "delete-photo", Post: "/profile/photo/delete",
		Back: "/profile/edit", PhotoURL: "/photos/" + a.PhotoID})
}

// handlePhotoDelete deletes the photo once confirmed.
func (s *Server) handlePhotoDelete(c echo.Context, a *passport.Account) error {
	if !confirmed(c) {
		return c.Redirect(http.StatusSeeOther, "/profile/photo/delete")
	}
	if err := s.acct.CheckEditable(a, passport.FieldPicture); err != nil {
		return s.renderEdit(c, http.StatusForbidden, a, nil, nil, s.errText(c, err))
	}
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
	Flash   string
	Apps    []appView
	Private bool // the private-profile switch overrides every decision
}

type appView struct {
	ConnectedApp
	Lines   []row
	Refused []string    // labels of the fields the person declined to it: sentences of the catalogue
	Choices []appChoice // the on-request fields whose decision the person may change here
}

// appChoice is one on-request field on the connected-applications page: a checkbox, ticked
// when the application may receive it. Label is a sentence of the catalogue.
type appChoice struct {
	Field, Label, Value string
	Shared, Undecided   bool
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

// receivedLines are the claims an application receives now, as the page shows them.
func (s *Server) receivedLines(c echo.Context, app ConnectedApp) []row {
	var lines []row
	for _, claim := range []string{"sub", "name", "nickname", "preferred_username", "picture", "birthdate", "locale", "email",
		"phone_number", "organization", "position", "verification_status"} {
		if val, ok := app.Receives[claim]; ok {
			text, _ := val.(string)
			switch claim {
			case "picture":
				text = s.text(c, "your photo")
			case "verification_status":
				text = s.verificationText(c, text)
			case "phone_number":
				text = passport.FormatPhone(text)
			}
			lines = append(lines, row{Label: string(claimLabels[claim]), Value: text})
		}
	}
	return lines
}

// handleApps lists connected applications: what each receives now, what the person refused
// it, and a checkbox per on-request field to change that decision.
func (s *Server) handleApps(c echo.Context, a *passport.Account) error {
	ctx := c.Request().Context()
	apps, err := s.connectedApps(ctx, a.ID)
	if err != nil {
		return err
	}
	p := appsPage{Base: s.base(c, "Connected applications"), Flash: flashes[c.QueryParam("saved")], Private: a.PrivateProfile}
	p.Account = a
	for _, app := range apps {
		decisions, err := s.db.Decisions(ctx, a.ID, app.ClientID)
		if err != nil {
			return err
		}
		v := appView{ConnectedApp: app, Lines: s.receivedLines(c, app)}
		for _, it := range s.cfg.Rules.ConsentItems(a, app.Scopes, decisions) {
			label := passport.FieldLabels[it.Field]
			if it.Decided && !it.Granted && it.Level != passport.Public {
				v.Refused = append(v.Refused, label)
			}
			if it.Level == passport.OnRequest {
				v.Choices = append(v.Choices, appChoice{Field: string(it.Field), Label: label, Value: s.shownValue(c, a, it.Field),
					Shared: it.Decided && it.Granted, Undecided: !it.Decided})
			}
		}
		p.Apps = append(p.Apps, v)
	}
	return s.page(c, http.StatusOK, "apps", p)
}

// connectedApp returns one of the person's applications with what it receives now.
// Returns ENOTFOUND when it is not connected to this person (another person's application
// included).
func (s *Server) connectedApp(c echo.Context, a *passport.Account, clientID string) (*ConnectedApp, error) {
	apps, err := s.connectedApps(c.Request().Context(), a.ID)
	if err != nil {
		return nil, err
	}
	for i := range apps {
		if apps[i].ClientID == clientID {
			return &apps[i], nil
		}
	}
	return nil, passport.Errorf(passport.ENOTFOUND, "This application is not connected to your account.")
}

// handleAppDecisions changes, from the connected-applications page, what one application may
// receive: a decision per on-request field, stored by the consent screen's own action
// (SaveDecisions, which also gives the photo a new URL when it is withdrawn). The release rule
// reads decisions at every userinfo and introspection call, so a withdrawal applies at once.
// A field never decided and left unticked stays undecided: the application asks next time.
func (s *Server) handleAppDecisions(c echo.Context, a *passport.Account) error {
	ctx := c.Request().Context()
	app, err := s.connectedApp(c, a, c.FormValue("client_id"))
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	decisions, err := s.db.Decisions(ctx, a.ID, app.ClientID)
	if err != nil {
		return err
	}
	changes := map[passport.Field]bool{}
	for _, it := range s.cfg.Rules.ConsentItems(a, app.Scopes, decisions) {
		if it.Level != passport.OnRequest {
			continue
		}
		share := form.Has("share_" + string(it.Field))
		if (!it.Decided && !share) || (it.Decided && it.Granted == share) {
			continue
		}
		changes[it.Field] = share
	}
	if err := s.db.SaveDecisions(ctx, a.ID, app.ClientID, changes); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/profile/apps?saved=decisions#app-"+url.PathEscape(app.ClientID))
}

// confirmed reports whether a consequential one-click action comes from its confirmation
// page: only that page sends confirm=yes, so a bare POST (an old form, another site's form
// stopped by CSRF anyway, a double click) leads to the question instead of the action.
func confirmed(c echo.Context) bool { return c.FormValue("confirm") == "yes" }

// confirmPage asks before a consequential action: it says what will happen and posts the
// action with confirm=yes. Action chooses the page's words.
type hiddenField struct{ Name, Value string }

type confirmPage struct {
	Base
	Action   string        // "disconnect", "end-all", "end-session" or "delete-photo"
	Post     string        // where the confirm form posts
	Back     string        // where "keep it" leads
	Hidden   []hiddenField // what the confirm form sends besides csrf and confirm=yes
	App      *appView
	Session  *SessionView
	PhotoURL string
}

func (s *Server) confirmAction(c echo.Context, title string, p confirmPage) error {
	p.Base = s.base(c, title)
	return s.page(c, http.StatusOK, "cabinet_confirm", p)
}

// handleAppRevokeForm asks before disconnecting an application, showing what it receives.
func (s *Server) handleAppRevokeForm(c echo.Context, a *passport.Account) error {
	app, err := s.connectedApp(c, a, c.QueryParam("client_id"))
	if err != nil {
		return err
	}
	return s.confirmAction(c, "Disconnect this application?", confirmPage{Action: "disconnect", Post: "/profile/apps/revoke",
		Back: "/profile/apps", Hidden: []hiddenField{{Name: "client_id", Value: app.ClientID}},
		App: &appView{ConnectedApp: *app, Lines: s.receivedLines(c, *app)}})
}

// handleAppRevoke disconnects an application once confirmed: consent deleted, tokens revoked.
func (s *Server) handleAppRevoke(c echo.Context, a *passport.Account) error {
	id := c.FormValue("client_id")
	if !confirmed(c) {
		return c.Redirect(http.StatusSeeOther, "/profile/apps/revoke?client_id="+url.QueryEscape(id))
	}
	if err := s.db.RevokeApp(c.Request().Context(), a.ID, id); err != nil {
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
	if err := s.noteViewer(c); err != nil { // a signed-in reader's language comes first
		return err
	}
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
	return s.page(c, http.StatusOK, "policy", policyPage{Base: s.base(c, "Personal-data processing policy"), Body: s.policies[lang],
		Download: "/policy?download=1"})
}
