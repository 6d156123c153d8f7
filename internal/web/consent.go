package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
)

type consentPage struct {
	Base
	AuthRequestID string
	ClientName    string
	SubjectID     string
	Scopes        []consentScope
	Offline       bool
}

// consentScope is one requested scope with its fields. Title and Note are sentences of the
// catalogue, translated by the page.
type consentScope struct {
	Title string
	Scope string
	Lines []consentLine
	Note  string
}

// consentLine is one field: public ones are always shared, on-request ones are checkboxes,
// private ones are hidden with a link to the setting. Label is a sentence of the catalogue
// (translated by the page), Value is shown as it is.
type consentLine struct {
	Field    string
	Label    string
	Value    string
	PhotoURL string
	Level    passport.Publicity
	Checked  bool
}

var scopeTitles = map[string]string{
	passport.ScopeProfile:      "Profile",
	passport.ScopeEmail:        "Email",
	passport.ScopePhone:        "Phone",
	passport.ScopeOrganization: "Organisation",
	passport.ScopeIdentifiers:  "Linked accounts",
	passport.ScopeVerification: "Verification",
}

// fieldValue is how a field's value reads on pages.
func fieldValue(a *passport.Account, f passport.Field) string {
	switch f {
	case passport.FieldLogin:
		return a.Login
	case passport.FieldNickname:
		return a.Nickname
	case passport.FieldGivenName:
		return a.GivenName
	case passport.FieldFamilyName:
		return a.FamilyName
	case passport.FieldBirthdate:
		if a.Birthdate != nil {
			return a.Birthdate.Format("2 January 2006")
		}
	case passport.FieldLocale:
		return a.Locale
	case passport.FieldEmail:
		return a.Email
	case passport.FieldPhone:
		return passport.FormatPhone(a.Phone)
	case passport.FieldOrganization:
		var vs []string
		for _, m := range a.ActiveMemberships() {
			v := m.OrgName
			if m.Position != "" {
				v += ", " + m.Position
			}
			vs = append(vs, v)
		}
		return strings.Join(vs, "; ")
	case passport.FieldPicture:
		if a.PhotoID != "" {
			return "Your photo"
		}
	}
	return ""
}

// verificationStatuses name the verification statuses on pages.
var verificationStatuses = map[string]string{
	passport.VerificationNew:           "Not verified yet",
	passport.VerificationRequiresCheck: "Waiting for a check",
	passport.VerificationVerified:      "Verified",
	passport.VerificationIncorrectData: "Data found incorrect",
}

// shownValue is fieldValue in the request's language: a birth date in its words, the
// language by its name, the photo's placeholder translated.
func (s *Server) shownValue(c echo.Context, a *passport.Account, f passport.Field) string {
	switch {
	case f == passport.FieldBirthdate && a.Birthdate != nil:
		return s.localizer(c).Date(*a.Birthdate, time.UTC) // a calendar date: no time zone
	case f == passport.FieldLocale:
		for _, l := range i18n.Languages {
			if l.Tag == a.Locale {
				return l.Name
			}
		}
	case f == passport.FieldPicture && a.PhotoID != "":
		return s.text(c, "Your photo")
	}
	return fieldValue(a, f)
}

// handleConsentForm shows, per requested scope, every field with its value and level.
func (s *Server) handleConsentForm(c echo.Context, req *passport.AuthRequest, client *passport.Client, _ *passport.Session, a *passport.Account) error {
	ctx, id := c.Request().Context(), req.ID
	decisions, err := s.db.Decisions(ctx, a.ID, req.ClientID)
	if err != nil {
		return err
	}
	page := consentPage{Base: s.base(c, "Allow access"), AuthRequestID: id, ClientName: client.DisplayName(), SubjectID: a.ID}
	page.Account = a
	for _, scope := range req.Scopes {
		switch scope {
		case passport.ScopeOfflineAccess:
			page.Offline = true
			continue
		case passport.ScopeVerification:
			// Not a field with a level: shared with the scope, unless the profile is private.
			level := passport.Public
			if a.PrivateProfile {
				level = passport.Private
			}
			page.Scopes = append(page.Scopes, consentScope{Title: scopeTitles[scope], Scope: scope,
				Lines: []consentLine{{Label: "Verification status", Value: s.verificationText(c, a.VerificationStatus), Level: level}}})
			continue
		}
		title, ok := scopeTitles[scope]
		if !ok {
			continue
		}
		cs := consentScope{Title: title, Scope: scope}
		for _, it := range s.cfg.Rules.ConsentItems(a, []string{scope}, decisions) {
			line := consentLine{Field: string(it.Field), Label: passport.FieldLabels[it.Field],
				Value: s.shownValue(c, a, it.Field), Level: it.Level, Checked: !it.Decided || it.Granted}
			if it.Field == passport.FieldPicture {
				line.PhotoURL = "/photos/" + a.PhotoID
			}
			cs.Lines = append(cs.Lines, line)
		}
		switch {
		case len(cs.Lines) == 0:
			cs.Note = "Nothing to share: these fields are empty in your profile."
		case scope == passport.ScopeProfile && !a.PrivateProfile:
			cs.Note = "If any of these fields is shared, so is the time your profile last changed."
		}
		page.Scopes = append(page.Scopes, cs)
	}
	return s.page(c, http.StatusOK, "consent", page)
}

// verificationText names a verification status in the request's language.
func (s *Server) verificationText(c echo.Context, status string) string {
	if t, ok := verificationStatuses[status]; ok {
		return s.text(c, t)
	}
	return status
}

// handleConsentSubmit stores a decision for every on-request field of the request (ticked:
// yes, unticked: no) and completes it; Deny sends access_denied and stores nothing.
func (s *Server) handleConsentSubmit(c echo.Context, req *passport.AuthRequest, client *passport.Client, sess *passport.Session, a *passport.Account) error {
	switch c.FormValue("decision") {
	case "allow":
	case "deny":
		s.oidc.Fail(c.Response(), c.Request(), req, "access_denied", "The person denied access.")
		return nil
	default:
		return passport.Errorf(passport.EINVALID, "Choose Allow or Deny.")
	}
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	decisions := map[passport.Field]bool{}
	for _, it := range s.cfg.Rules.ConsentItems(a, req.Scopes, nil) {
		if it.Level == passport.OnRequest {
			decisions[it.Field] = form.Has("share_" + string(it.Field))
		}
	}
	if err := s.db.SaveDecisions(ctx, a.ID, req.ClientID, decisions); err != nil {
		return err
	}
	return s.complete(c, req, client, sess, a)
}
