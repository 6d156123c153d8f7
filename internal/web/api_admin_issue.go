package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// The admin API of issuing (docs/openapi.yaml): create a member, issue login details and
// read their delivery status, reset two factors, ask for a contact confirmation, and the
// credential message templates.

// AdminCredentialsIn says how to issue login details.
type AdminCredentialsIn struct {
	Generate bool   `json:"generate"`
	Password string `json:"password"`
	Template string `json:"template"`
	Channel  string `json:"channel"`
	Locale   string `json:"locale"`
}

func (in AdminCredentialsIn) credentials() account.Credentials {
	// The API takes the typed password once: a program does not mistype it.
	return account.Credentials{Generate: in.Generate, Password: in.Password, Repeat: in.Password, Template: in.Template,
		Channel: in.Channel, Locale: in.Locale}
}

// AdminIssued is an issuing of login details. Password is there only when it was
// generated, in this one answer.
type AdminIssued struct {
	ID        string    `json:"id"`
	Password  string    `json:"password,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	Channel   string    `json:"channel"`
	Template  string    `json:"template"`
}

func adminIssuedJSON(i *account.Issued) *AdminIssued {
	return &AdminIssued{ID: i.ID, Password: i.Password, ExpiresAt: i.ExpiresAt, Channel: i.Channel, Template: i.Template}
}

// AdminCredentialIssue is one issuing with its delivery status: queued, sent, failed (with
// error), replaced (a newer issue cancelled its message), handed_over (channel none).
type AdminCredentialIssue struct {
	ID        string     `json:"id"`
	Template  string     `json:"template"`
	Channel   string     `json:"channel"`
	IssuedAt  time.Time  `json:"issued_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	VoidedAt  *time.Time `json:"voided_at"`
	Status    string     `json:"status"`
	Error     string     `json:"error,omitempty"`
	SentAt    *time.Time `json:"sent_at"`
}

// AdminMemberCreated is a created member, with the login details when they were issued.
type AdminMemberCreated struct {
	AdminMemberDetail
	Credentials *AdminIssued `json:"credentials"`
}

// adminMembersPostIn is the body of POST /orgs/{org}/members: an existing account by login
// (existing: true, or only login, roles and position), or a new member.
type adminMembersPostIn struct {
	Existing    bool                `json:"existing"`
	Login       string              `json:"login"`
	Email       string              `json:"email"`
	Phone       string              `json:"phone"`
	GivenName   string              `json:"given_name"`
	FamilyName  string              `json:"family_name"`
	Birthdate   string              `json:"birthdate"`
	Locale      string              `json:"locale"`
	Position    string              `json:"position"`
	Roles       []string            `json:"roles"`
	Credentials *AdminCredentialsIn `json:"credentials"`
}

func (in adminMembersPostIn) creates() bool {
	return !in.Existing && (in.Email != "" || in.Phone != "" || in.GivenName != "" || in.FamilyName != "" ||
		in.Birthdate != "" || in.Locale != "" || in.Credentials != nil)
}

// apiAdminMembersPost adds an existing account (by login) as an unmanaged member, or creates a managed member (apiAdminMemberCreate).
func (s *Server) apiAdminMembersPost(c echo.Context) error {
	var in adminMembersPostIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	if in.creates() {
		return s.apiAdminMemberCreate(c, o, in)
	}
	if in.Existing && in.Credentials != nil {
		return passport.FieldError("credentials", "Login details are issued to members the organisation creates, with POST …/members/{id}/credentials.")
	}
	a, err := s.acct.AddMember(c.Request().Context(), actorOf(c), o.ID, in.Login, in.Roles, in.Position)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/admin/orgs/"+o.ID+"/members/"+a.ID)
	return s.adminMemberJSON(c, http.StatusCreated, o.ID, a.ID)
}

// apiAdminMemberCreate creates a managed member and, with credentials, issues login details
// in the same transaction.
func (s *Server) apiAdminMemberCreate(c echo.Context, o *passport.Organisation, in adminMembersPostIn) error {
	ctx, actor := c.Request().Context(), actorOf(c)
	var cred *account.Credentials
	if in.Credentials != nil {
		cr := in.Credentials.credentials()
		cred = &cr
	}
	region := s.cfg.Codes.PhoneRegion // the API has no page language: national forms only where configured
	a, issued, errs, err := s.acct.CreateMember(ctx, actor, o.ID, account.NewMember{Login: in.Login, Email: in.Email, Phone: in.Phone,
		PhoneRegion: region, GivenName: in.GivenName, FamilyName: in.FamilyName, Birthdate: in.Birthdate, Locale: in.Locale,
		Position: in.Position, Roles: in.Roles}, cred)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return invalidFields(apiFieldNames(errs))
	}
	m, err := s.acct.Member(ctx, actor, o.ID, a.ID)
	if err != nil {
		return err
	}
	out := AdminMemberCreated{AdminMemberDetail: adminMemberDetail(m)}
	if issued != nil {
		out.Credentials = adminIssuedJSON(issued)
		c.Response().Header().Set("Cache-Control", "no-store")
	}
	c.Response().Header().Set("Location", "/api/v1/admin/orgs/"+o.ID+"/members/"+a.ID)
	return c.JSON(http.StatusCreated, out)
}

// apiFieldNames names credential problems as the API's body does (credentials.…).
func apiFieldNames(errs FieldErrors) FieldErrors {
	out := FieldErrors{}
	for k, e := range errs {
		switch k {
		case account.FieldTemplate, account.FieldChannel, account.FieldPassword:
			k = "credentials." + k
		case account.FieldMessageLocale:
			k = "credentials.locale"
		case account.FieldRepeat:
			k = "credentials.password"
		}
		x := *e
		x.Field = k
		out[k] = &x
	}
	return out
}

// apiAdminCredentialsIssue issues new login details (voiding the previous ones).
func (s *Server) apiAdminCredentialsIssue(c echo.Context) error {
	var in AdminCredentialsIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	issued, errs, err := s.acct.IssueCredentials(c.Request().Context(), actorOf(c), o.ID, c.Param("id"), in.credentials())
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		out := FieldErrors{}
		for k, e := range apiFieldNames(errs) {
			k = strings.TrimPrefix(k, "credentials.")
			x := *e
			x.Field = k
			out[k] = &x
		}
		return invalidFields(out)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, adminIssuedJSON(issued))
}

// apiAdminCredentials lists the member's latest issues with their delivery status.
func (s *Server) apiAdminCredentials(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	list, err := s.acct.CredentialIssues(c.Request().Context(), actorOf(c), o.ID, c.Param("id"), 20)
	if err != nil {
		return err
	}
	out := []AdminCredentialIssue{}
	for _, i := range list {
		x := AdminCredentialIssue{ID: i.ID, Template: i.Template, Channel: i.Channel, IssuedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt,
			VoidedAt: i.VoidedAt, Status: deliveryStatus(i), SentAt: i.SentAt}
		if x.Status == "failed" {
			x.Error = i.MessageError
		}
		out = append(out, x)
	}
	return c.JSON(http.StatusOK, map[string]any{"issues": out})
}

// apiAdminTwoFactorReset removes the member's second factor.
func (s *Server) apiAdminTwoFactorReset(c echo.Context) error {
	o, err := s.adminOrgParam(c)
	if err != nil {
		return err
	}
	if err := s.acct.ResetTwoFactor(c.Request().Context(), actorOf(c), o.ID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiAdminContactConfirmation asks the member to confirm their email address and/or phone.
func (s *Server) apiAdminContactConfirmation(c echo.Context) error {
	var in struct {
		Email bool `json:"email"`
		Phone bool `json:"phone"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if _, err := s.adminOrgParam(c); err != nil {
		return err
	}
	var kinds []string
	if in.Email {
		kinds = append(kinds, account.ContactEmail)
	}
	if in.Phone {
		kinds = append(kinds, account.ContactPhone)
	}
	errs, err := s.requestConfirmation(c, kinds)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return invalidFields(errs)
	}
	return c.NoContent(http.StatusAccepted)
}

// ---- Templates ----

func templateJSON(t passport.CredentialTemplate) passport.CredentialTemplate {
	if t.Names == nil {
		t.Names = map[string]string{}
	}
	if t.Bodies == nil {
		t.Bodies = map[string]passport.TemplateBody{}
	}
	return t
}

func (s *Server) apiAdminTemplates(c echo.Context) error {
	list, err := s.acct.Templates(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	out := make([]passport.CredentialTemplate, 0, len(list))
	for _, t := range list {
		out = append(out, templateJSON(t))
	}
	return c.JSON(http.StatusOK, map[string]any{"templates": out})
}

func (s *Server) apiAdminTemplate(c echo.Context) error {
	t, err := s.acct.Template(c.Request().Context(), actorOf(c), c.Param("key"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, templateJSON(*t))
}

// apiAdminTemplatePut creates or replaces a template (service administrators).
func (s *Server) apiAdminTemplatePut(c echo.Context) error {
	var in struct {
		Names  map[string]string                `json:"names"`
		Bodies map[string]passport.TemplateBody `json:"bodies"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	t, errs, err := s.acct.SaveTemplate(c.Request().Context(), actorOf(c),
		passport.CredentialTemplate{Key: c.Param("key"), Names: in.Names, Bodies: in.Bodies})
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return invalidFields(errs)
	}
	return c.JSON(http.StatusOK, templateJSON(*t))
}

func (s *Server) apiAdminTemplateDelete(c echo.Context) error {
	if err := s.acct.DeleteTemplate(c.Request().Context(), actorOf(c), c.Param("key")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
