package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// Issuing members and credentials (SPEC §6, §9): the console's "Create member" page, issuing
// login details (a generated password shown once, or one typed twice) with their delivery
// status on the member page, resetting two factors, asking the person to confirm their
// contacts, and the credential message templates a service administrator keeps.

// ---- The message ----

// credentialMessage renders and seals the "login details issued" message (the
// account.Service hook): the built-in template from templates/messages (login_details for
// email, login_details_sms for SMS), or a stored template whose placeholders are filled in.
// A stored template without the language falls back to English, then to the built-in one.
func (s *Server) credentialMessage(ctx context.Context, a *passport.Account, org *passport.Organisation, channel, template, locale, password string,
	expires time.Time) (passport.Outgoing, error) {
	to := a.Email
	if channel == passport.ChannelSMS {
		to = a.Phone
	}
	ac := *a
	if locale != "" {
		ac.Locale = locale
	}
	orgName := "Passport"
	if org != nil {
		orgName = org.Name
	}
	signin := s.cfg.Issuer + "/signin"
	if template != passport.TemplateStandard {
		t, err := s.db.CredentialTemplate(ctx, template)
		if err != nil && passport.ErrorCode(err) != passport.ENOTFOUND {
			return passport.Outgoing{}, err
		}
		lang := ac.Locale
		if lang == "" {
			lang = s.cfg.DefaultLocale
		}
		if t != nil {
			if body, lang, ok := t.Body(lang); ok {
				l := s.cat.For(lang)
				v := passport.CredentialValues{Login: a.Login, Password: password, Name: a.Name(),
					Expires: l.DateTime(expires, time.UTC), SigninURL: signin, Organisation: orgName}
				content := passport.Content{Subject: v.Fill(body.Subject), Text: v.Fill(body.Text)}
				if content.Subject == "" {
					content.Subject = l.T("Your Passport login details")
				}
				payload, err := s.cfg.Sealer.Seal(content)
				if err != nil {
					return passport.Outgoing{}, err
				}
				return passport.Outgoing{Channel: channel, To: to, Kind: passport.MessageLoginDetails, Locale: lang,
					AccountID: a.ID, Payload: payload}, nil
			}
		}
	}
	kind := passport.MessageLoginDetails
	if channel == passport.ChannelSMS {
		kind += "_sms"
	}
	// The built-in template: .Link is the sign-in address, .At the expiry.
	msg, err := s.message(channel, to, kind, &ac, MessageData{Login: a.Login, Password: password, Link: signin,
		Organisation: orgName, At: expires})
	msg.Kind = passport.MessageLoginDetails
	return msg, err
}

// ---- The member page's section ----

// issueView is one issuing of credentials on the member page.
type issueView struct {
	ID        string
	Template  string
	Channel   string // a sentence of the catalogue
	IssuedAt  time.Time
	ExpiresAt time.Time
	Status    string // a sentence of the catalogue
	StatusKey string // queued, sent, failed, handed, replaced
	Error     string
	Voided    bool
	Expired   bool
}

// memberCredentialsView is this part's section of the admin member page.
type memberCredentialsView struct {
	Issues   []issueView
	Href     string // the credentials form
	Notice   string // a sentence of the catalogue, after an action of this section
	CanEmail bool   // the email is there and not confirmed: a confirmation can be asked
	CanPhone bool
}

var issueNotices = map[string]string{
	"two-factor-reset":  "Two-factor authentication is reset: the person sets it up again at their next sign-in.",
	"confirmation-sent": "The confirmation request is sent: the person confirms in their cabinet.",
}

var channelNames = map[string]string{passport.ChannelEmail: "Email", passport.ChannelSMS: "SMS", passport.ChannelNone: "Handed over by the administrator"}

// memberCredentials loads this part's section of the admin member page.
func (s *Server) memberCredentials(c echo.Context, m *account.Member) (memberCredentialsView, error) {
	v := memberCredentialsView{Href: memberURL(m.Membership.OrgAlias, m.Account.ID) + "/credentials",
		Notice:   issueNotices[c.QueryParam("saved")],
		CanEmail: m.Account.Email != "" && !m.Account.EmailVerified, CanPhone: m.Account.Phone != "" && !m.Account.PhoneVerified}
	list, err := s.acct.MemberCredentialIssues(c.Request().Context(), actorOf(c), m, 10)
	if err != nil {
		return v, err
	}
	now := s.db.Now()
	for _, i := range list {
		v.Issues = append(v.Issues, s.issueView(i, now))
	}
	return v, nil
}

func (s *Server) issueView(i postgres.CredentialIssue, now time.Time) issueView {
	v := issueView{ID: i.ID, Template: i.Template, Channel: channelNames[i.Channel], IssuedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt,
		Voided: i.VoidedAt != nil, Expired: !i.ExpiresAt.After(now)}
	v.StatusKey = deliveryStatus(i)
	v.Status = deliveryNames[v.StatusKey]
	if v.StatusKey == "failed" {
		v.Error = i.MessageError
	}
	return v
}

// deliveryStatus is an issue's delivery status as the console and the API name it.
func deliveryStatus(i postgres.CredentialIssue) string {
	switch {
	case i.Channel == passport.ChannelNone:
		return "handed_over"
	case i.MessageStatus == "sent":
		return "sent"
	case i.MessageStatus == "failed" && i.MessageError == "replaced":
		return "replaced"
	case i.MessageStatus == "failed":
		return "failed"
	case i.MessageStatus == "":
		return "unknown"
	}
	return "queued"
}

var deliveryNames = map[string]string{"handed_over": "Handed over by the administrator", "sent": "Sent", "replaced": "Not sent: replaced by newer details",
	"failed": "Failed", "queued": "Queued", "unknown": "Unknown"}

// ---- Create member ----

// memberNewForm is the "Create member" form as submitted.
type memberNewForm struct {
	Login, Email, Phone, GivenName, FamilyName, Birthdate, Locale, Position string
	Roles                                                                   []string
	Issue                                                                   bool
	credentialForm
}

// credentialForm is the choice of how to issue login details.
type credentialForm struct {
	Generate       bool
	Template       string
	Channel        string
	MessageLocale  string
	Templates      []option
	Channels       []option
	MessageLocales []option
	AccountLocales []option
}

type adminMemberNewPage struct {
	consoleBase
	Org       *passport.Organisation
	Form      memberNewForm
	Roles     []roleChoice
	PhoneHint string
	Errors    map[string]string
}

type adminCredentialsPage struct {
	consoleBase
	Person  *passport.Account
	OrgName string
	Href    string // the member page
	Post    string
	Form    credentialForm
	Errors  map[string]string
	// Result, after issuing: the password is shown this once.
	Result *credentialResult
}

type credentialResult struct {
	Password  string
	Login     string
	ExpiresAt time.Time
	Channel   string // a sentence of the catalogue
	Created   bool
}

// languageNames are the languages a message can be written in, named in themselves.
var languageNames = map[string]string{"en": "English", "ru": "Русский", "et": "Eesti", "nl": "Nederlands", "sv": "Svenska"}

// fillChoices fills a credential form's selects from the stored templates.
func (s *Server) fillChoices(c echo.Context, f *credentialForm) error {
	list, err := s.acct.Templates(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	lang := s.localizer(c).Lang()
	if f.Template == "" {
		f.Template = passport.TemplateStandard
	}
	f.Templates = []option{{Value: passport.TemplateStandard, Label: s.text(c, "Standard"), Selected: f.Template == passport.TemplateStandard}}
	for _, t := range list {
		f.Templates = append(f.Templates, option{Value: t.Key, Label: t.Name(lang), Selected: f.Template == t.Key})
	}
	if f.Channel == "" {
		f.Channel = passport.ChannelEmail
	}
	f.Channels = nil
	for _, ch := range passport.IssueChannels {
		f.Channels = append(f.Channels, option{Value: ch, Label: s.text(c, channelNames[ch]), Selected: f.Channel == ch})
	}
	f.MessageLocales = []option{{Value: "", Label: s.text(c, "The person's language"), Selected: f.MessageLocale == ""}}
	for _, l := range account.Languages {
		f.MessageLocales = append(f.MessageLocales, option{Value: l, Label: languageNames[l], Selected: f.MessageLocale == l})
	}
	return nil
}

func (s *Server) renderMemberNew(c echo.Context, status int, o *passport.Organisation, f memberNewForm, errs map[string]string, problem string) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	roles, err := s.acct.Roles(ctx, actor, o.ID)
	if err != nil {
		return err
	}
	if err := s.fillChoices(c, &f.credentialForm); err != nil {
		return err
	}
	f.AccountLocales = []option{{Value: "", Label: s.text(c, "Not chosen"), Selected: f.Locale == ""}}
	for _, l := range account.Languages {
		f.AccountLocales = append(f.AccountLocales, option{Value: l, Label: languageNames[l], Selected: f.Locale == l})
	}
	lang := s.localizer(c).Lang()
	p := adminMemberNewPage{consoleBase: s.consoleBase(c, "Create a new member", "members"), Org: o, Form: f,
		PhoneHint: s.phoneHint(c), Errors: errs}
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	p.Problem = problem
	for _, r := range roles {
		p.Roles = append(p.Roles, roleChoice{Key: r.Key, Name: r.Name(lang), Held: slices.Contains(f.Roles, r.Key)})
	}
	return s.page(c, status, "admin_member_new", p)
}

// handleAdminMemberNewForm is the "Create member" form.
func (s *Server) handleAdminMemberNewForm(c echo.Context, a *passport.Account) error {
	o, err := s.acct.Org(c.Request().Context(), actorOf(c), c.Param("org"))
	if err != nil {
		return err
	}
	return s.renderMemberNew(c, http.StatusOK, o, memberNewForm{Issue: true, credentialForm: credentialForm{Generate: true}}, nil, "")
}

// readCredentialForm reads the issuing choices of a form (generate or typed twice).
func readCredentialForm(form url.Values) (credentialForm, account.Credentials) {
	f := credentialForm{Generate: form.Get("mode") != "typed", Template: form.Get("template"), Channel: form.Get("channel"),
		MessageLocale: form.Get("message_locale")}
	cred := account.Credentials{Generate: f.Generate, Template: f.Template, Channel: f.Channel, Locale: f.MessageLocale}
	if !f.Generate {
		cred.Password, cred.Repeat = form.Get("password"), form.Get("repeat")
	}
	return f, cred
}

// handleAdminMemberCreate creates the member and, when ticked, issues login details at
// once: the answer then shows the generated password (once); else back to the member page.
func (s *Server) handleAdminMemberCreate(c echo.Context, a *passport.Account) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	o, err := s.acct.Org(ctx, actor, c.Param("org"))
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	f := memberNewForm{Login: form.Get("login"), Email: form.Get("email"), Phone: form.Get("phone"), GivenName: form.Get("given_name"),
		FamilyName: form.Get("family_name"), Birthdate: form.Get("birthdate"), Locale: form.Get("locale"), Position: form.Get("position"),
		Roles: passport.NonNil(form["roles"]), Issue: form.Get("issue") == "yes"}
	var cred *account.Credentials
	cf, cr := readCredentialForm(form)
	if f.Issue {
		cred = &cr
	}
	f.credentialForm = cf
	created, issued, errs, err := s.acct.CreateMember(ctx, actor, o.ID, account.NewMember{Login: f.Login, Email: f.Email, Phone: f.Phone,
		PhoneRegion: s.phoneRegion(c), GivenName: f.GivenName, FamilyName: f.FamilyName, Birthdate: f.Birthdate, Locale: f.Locale,
		Position: f.Position, Roles: f.Roles}, cred)
	if err != nil {
		status, problem, err := s.refusal(c, err, nil)
		if err != nil {
			return err
		}
		return s.renderMemberNew(c, status, o, f, nil, problem)
	}
	if len(errs) > 0 {
		return s.renderMemberNew(c, http.StatusUnprocessableEntity, o, f, s.texts(c, errs), "")
	}
	if issued == nil {
		return c.Redirect(http.StatusSeeOther, memberURL(o.Alias, created.ID)+"?saved=member-added")
	}
	return s.credentialResult(c, created, o.Name, memberURL(o.Alias, created.ID), issued, true)
}

// credentialResult shows the issued login details: a generated password this once (the
// page is not stored by the browser; nothing keeps it readable afterwards).
func (s *Server) credentialResult(c echo.Context, person *passport.Account, orgName, href string, issued *account.Issued, created bool) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	p := adminCredentialsPage{consoleBase: s.consoleBase(c, "Login details issued", "members"), Person: person, OrgName: orgName,
		Href: href, Post: href + "/credentials", Errors: map[string]string{},
		Result: &credentialResult{Password: issued.Password, Login: person.Login, ExpiresAt: issued.ExpiresAt,
			Channel: channelNames[issued.Channel], Created: created}}
	return s.page(c, http.StatusOK, "admin_credentials", p)
}

// ---- Issue login details ----

func (s *Server) renderCredentials(c echo.Context, status int, f credentialForm, errs map[string]string, problem string) error {
	m, err := s.acct.Member(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.fillChoices(c, &f); err != nil {
		return err
	}
	href := memberURL(m.Membership.OrgAlias, m.Account.ID)
	p := adminCredentialsPage{consoleBase: s.consoleBase(c, "Issue new login details", "members"), Person: m.Account,
		OrgName: m.Membership.OrgName, Href: href, Post: href + "/credentials", Form: f, Errors: errs}
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	p.Problem = problem
	return s.page(c, status, "admin_credentials", p)
}

// handleAdminCredentialsForm asks how to issue new login details.
func (s *Server) handleAdminCredentialsForm(c echo.Context, a *passport.Account) error {
	return s.renderCredentials(c, http.StatusOK, credentialForm{Generate: true}, nil, "")
}

// handleAdminCredentialsIssue issues new login details, voiding the previous ones.
func (s *Server) handleAdminCredentialsIssue(c echo.Context, a *passport.Account) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	f, cred := readCredentialForm(form)
	issued, errs, err := s.acct.IssueCredentials(ctx, actor, c.Param("org"), c.Param("id"), cred)
	if err != nil {
		status, problem, err := s.refusal(c, err, nil)
		if err != nil {
			return err
		}
		return s.renderCredentials(c, status, f, nil, problem)
	}
	if len(errs) > 0 {
		return s.renderCredentials(c, http.StatusUnprocessableEntity, f, s.texts(c, errs), "")
	}
	m, err := s.acct.Member(ctx, actor, c.Param("org"), c.Param("id"))
	if err != nil {
		return err
	}
	return s.credentialResult(c, m.Account, m.Membership.OrgName, memberURL(m.Membership.OrgAlias, m.Account.ID), issued, false)
}

// ---- Two factors, contact confirmation ----

// handleAdminTwoFactorReset removes the member's second factor.
func (s *Server) handleAdminTwoFactorReset(c echo.Context, a *passport.Account) error {
	return s.memberDone(c, s.acct.ResetTwoFactor(c.Request().Context(), actorOf(c), c.Param("org"), c.Param("id")), "two-factor-reset")
}

// handleAdminContactConfirmation asks the member to confirm their email address and/or
// phone (the ticked ones).
func (s *Server) handleAdminContactConfirmation(c echo.Context, a *passport.Account) error {
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	errs, err := s.requestConfirmation(c, form["kinds"])
	if err != nil {
		return s.memberDone(c, err, "")
	}
	if len(errs) > 0 {
		// The first problem, as the page's message: the section has no fields of its own
		// beyond the two boxes.
		for _, k := range []string{"kinds", "email", "phone"} {
			if e := errs[k]; e != nil {
				return s.renderMember(c, http.StatusUnprocessableEntity, nil, s.errText(c, e))
			}
		}
	}
	return c.Redirect(http.StatusSeeOther, memberURL(c.Param("org"), c.Param("id"))+"?saved=confirmation-sent")
}

// requestConfirmation starts the cabinet's confirmation of each kind for the member the
// path names (internal/account decides whether the actor may).
func (s *Server) requestConfirmation(c echo.Context, kinds []string) (FieldErrors, error) {
	ctx := c.Request().Context()
	return s.acct.RequestContactConfirmation(ctx, actorOf(c), c.Param("org"), c.Param("id"), kinds,
		func(a *passport.Account, kind string) error {
			if kind == account.ContactEmail {
				return s.startEmailChange(ctx, a, a.Email)
			}
			return s.startPhoneChange(ctx, a, a.Phone, passport.ChannelSMS, "")
		})
}

// ---- Templates ----

type templateRow struct {
	Key, Name, Languages string
	UpdatedAt            time.Time
	Href                 string
}

type templateLang struct {
	Lang, Label, Name, Subject, Text string
	Error                            string
}

type adminTemplatesPage struct {
	consoleBase
	Templates []templateRow
	// The form: a new template, or the one being edited.
	Key         string
	Editing     bool
	Langs       []templateLang
	Errors      map[string]string
	Placeholder string
}

func (s *Server) renderTemplates(c echo.Context, status int, t *passport.CredentialTemplate, editing bool, errs map[string]string, problem string) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	if !actor.Authority.Service() {
		return passport.Errorf(passport.ENOTFOUND, "No such template.")
	}
	list, err := s.acct.Templates(ctx, actor)
	if err != nil {
		return err
	}
	lang := s.localizer(c).Lang()
	p := adminTemplatesPage{consoleBase: s.consoleBase(c, "Message templates", "templates"), Errors: errs,
		Placeholder: strings.Join(passport.Placeholders, " ")}
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	p.Problem = problem
	p.Flash = templateNotices[c.QueryParam("saved")]
	for _, x := range list {
		var langs []string
		for _, l := range account.Languages {
			if _, ok := x.Bodies[l]; ok {
				langs = append(langs, l)
			}
		}
		p.Templates = append(p.Templates, templateRow{Key: x.Key, Name: x.Name(lang), Languages: strings.Join(langs, ", "),
			UpdatedAt: x.UpdatedAt, Href: "/admin/templates/" + url.PathEscape(x.Key)})
	}
	if t == nil {
		t = &passport.CredentialTemplate{}
	}
	p.Key, p.Editing = t.Key, editing
	for _, l := range account.Languages {
		b := t.Bodies[l]
		p.Langs = append(p.Langs, templateLang{Lang: l, Label: languageNames[l], Name: t.Names[l], Subject: b.Subject, Text: b.Text,
			Error: p.Errors["text_"+l]})
	}
	return s.page(c, status, "admin_templates", p)
}

var templateNotices = map[string]string{"template": "The template is saved.", "template-deleted": "The template is deleted."}

// handleAdminTemplates lists the stored templates with a form for a new one (service
// administrators; anyone else gets the 404 page).
func (s *Server) handleAdminTemplates(c echo.Context, a *passport.Account) error {
	return s.renderTemplates(c, http.StatusOK, nil, false, nil, "")
}

// handleAdminTemplate is one template's edit form.
func (s *Server) handleAdminTemplate(c echo.Context, a *passport.Account) error {
	if !actorOf(c).Authority.Service() {
		return passport.Errorf(passport.ENOTFOUND, "No such template.")
	}
	t, err := s.acct.Template(c.Request().Context(), actorOf(c), c.Param("key"))
	if err != nil {
		return err
	}
	return s.renderTemplates(c, http.StatusOK, t, true, nil, "")
}

// handleAdminTemplateSave creates or replaces a template.
func (s *Server) handleAdminTemplateSave(c echo.Context, a *passport.Account) error {
	form, err := c.FormParams()
	if err != nil {
		return passport.Errorf(passport.EINVALID, "The form could not be read.")
	}
	t := passport.CredentialTemplate{Key: form.Get("key"), Names: map[string]string{}, Bodies: map[string]passport.TemplateBody{}}
	for _, l := range account.Languages {
		t.Names[l] = form.Get("name_" + l)
		t.Bodies[l] = passport.TemplateBody{Subject: form.Get("subject_" + l), Text: form.Get("text_" + l)}
	}
	editing := form.Get("editing") == "yes"
	saved, errs, err := s.acct.SaveTemplate(c.Request().Context(), actorOf(c), t)
	if err != nil {
		status, problem, err := s.refusal(c, err, nil)
		if err != nil {
			return err
		}
		return s.renderTemplates(c, status, &t, editing, nil, problem)
	}
	if len(errs) > 0 {
		return s.renderTemplates(c, http.StatusUnprocessableEntity, &t, editing, s.texts(c, errs), "")
	}
	return c.Redirect(http.StatusSeeOther, "/admin/templates/"+url.PathEscape(saved.Key)+"?saved=template")
}

// handleAdminTemplateDelete deletes a template.
func (s *Server) handleAdminTemplateDelete(c echo.Context, a *passport.Account) error {
	if err := s.acct.DeleteTemplate(c.Request().Context(), actorOf(c), c.Param("key")); err != nil {
		status, problem, err := s.refusal(c, err, nil)
		if err != nil {
			return err
		}
		return s.renderTemplates(c, status, nil, false, nil, problem)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/templates?saved=template-deleted")
}
