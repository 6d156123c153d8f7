package account

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// Accounts issued by organisations (SPEC §6): an administrator creates a member, then
// issues credentials (a temporary password, delivered through the queue).

// NewMember is an account an organisation issues.
type NewMember struct {
	Login       string // "" takes the email address as the login
	Email       string
	Phone       string // as typed; stored in E.164
	PhoneRegion string // the region of national phone forms ("" needs the country code)
	GivenName   string
	FamilyName  string
	Birthdate   string // YYYY-MM-DD, or ""
	Locale      string // en, ru, et, nl, sv or ""
	Position    string
	Roles       []string
}

// Credentials says how to issue a password.
type Credentials struct {
	Generate bool   // generate one (policy-compliant, shown once to the administrator)
	Password string // else typed twice
	Repeat   string
	Template string // "standard" or a stored template's key
	Channel  string // email, sms or none (the administrator hands it over)
	Locale   string // the message's language; "" = the account's, else the default
}

// Issued is an issuing of credentials. Password is set only when it was generated, for the
// administrator to see once.
type Issued struct {
	ID        string
	Password  string
	ExpiresAt time.Time
	Channel   string
	Template  string
}

// Input names of credential problems (FieldErrors keys), as forms and the API name them.
const (
	FieldTemplate      = "template"
	FieldChannel       = "channel"
	FieldMessageLocale = "message_locale"
	FieldPassword      = "password"
	FieldRepeat        = "repeat"
)

// defaultIssuedLifetime applies when the service is built without one (SPEC §6: 7 days).
const defaultIssuedLifetime = 7 * 24 * time.Hour

// CheckMember validates a new member of orgID (login free, email valid, phone E.164 after
// normalisation, roles in the catalogue, required fields) and writes nothing. Returns
// ENOTFOUND when the organisation is out of the actor's scope; field problems come back as
// FieldErrors (input name → message).
func (s *Service) CheckMember(ctx context.Context, actor passport.Actor, orgID string, in NewMember) (*passport.Account, FieldErrors, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, nil, err
	}
	a, _, errs, err := s.checkMember(ctx, o, in, nil)
	if err != nil || len(errs) > 0 {
		return nil, errs, err
	}
	return a, nil, nil
}

// memberLookups keeps what checking many new members of one organisation looks up (a CSV
// file's dry run): the role catalogue is read once, and the logins were looked up for the
// whole file before (LoginHolders), so a row does not look its login up again. Without
// it a dry run of the largest file allowed took longer than the server gives an answer.
type memberLookups struct {
	catalogue []passport.Role
	loaded    bool
	// loginsKnown: the caller has checked the logins are free.
	loginsKnown bool
}

// memberFields are the profile fields NewMember carries (the form, the API and CSV columns).
var memberFields = []passport.Field{passport.FieldEmail, passport.FieldPhone, passport.FieldGivenName, passport.FieldFamilyName,
	passport.FieldBirthdate, passport.FieldLocale}

// checkMember builds the account of a new member of o (no password yet) and its cleaned
// roles, collecting a message per wrong field, a required field the organisation manages
// and left empty included.
func (s *Service) checkMember(ctx context.Context, o *passport.Organisation, in NewMember, lk *memberLookups) (*passport.Account, []string, FieldErrors, error) {
	errs := FieldErrors{}
	put := func(field string, err error) {
		if err != nil && errs[field] == nil {
			errs[field] = asField(field, err)
		}
	}
	a := &passport.Account{RegistrationMethod: passport.RegisteredAdmin, Status: passport.StatusActive,
		VerificationStatus: passport.VerificationNew, Publicity: map[passport.Field]passport.Publicity{},
		Memberships: []passport.Membership{{OrgID: o.ID, OrgAlias: o.Alias, OrgName: o.Name, OrgStatus: o.Status, Managed: true, Primary: true}}}
	if strings.TrimSpace(in.Email) != "" {
		email, err := passport.NormalizeEmail(in.Email)
		put("email", err)
		a.Email = email
	}
	if strings.TrimSpace(in.Phone) != "" {
		phone, err := passport.NormalizePhone(in.Phone, in.PhoneRegion)
		put("phone", err)
		a.Phone = phone
	}
	if strings.TrimSpace(in.Email) == "" && strings.TrimSpace(in.Phone) == "" {
		errs["email"] = passport.FieldError("email", "Give an email address or a phone number.")
	}
	a.Login = strings.TrimSpace(in.Login)
	if a.Login == "" {
		a.Login = a.Email
	}
	if a.Login == "" && errs["email"] == nil && errs["phone"] == nil {
		put("login", passport.FieldError("login", "Login is required."))
	} else if a.Login != "" {
		if err := passport.ValidateLogin(a.Login); err != nil {
			put("login", err)
		} else if lk == nil || !lk.loginsKnown {
			if h, err := s.DB.LoginHolder(ctx, "", a.Login); err != nil {
				return nil, nil, nil, err
			} else if h.AccountID != "" {
				put("login", passport.FieldError("login", "This login is already taken."))
			}
		}
	}
	a.GivenName, a.FamilyName = strings.TrimSpace(in.GivenName), strings.TrimSpace(in.FamilyName)
	put("given_name", passport.ValidateName("given_name", "Given name", a.GivenName))
	put("family_name", passport.ValidateName("family_name", "Family name", a.FamilyName))
	if d, msg := s.ParseBirthdate(in.Birthdate); msg != nil {
		errs["birthdate"] = msg
	} else {
		a.Birthdate = d
	}
	if a.Locale = strings.TrimSpace(in.Locale); a.Locale != "" && !slices.Contains(Languages, a.Locale) {
		errs["locale"] = passport.FieldError("locale", "Choose one of the languages offered.")
	}
	position := strings.TrimSpace(in.Position)
	put("position", passport.ValidateName("position", "Position", position))
	a.Memberships[0].Position = position
	roles := cleanRoles(in.Roles)
	if len(roles) > 0 {
		var catalogue []passport.Role
		if lk != nil && lk.loaded {
			catalogue = lk.catalogue
		} else {
			var err error
			if catalogue, err = s.DB.Roles(ctx, o.ID); err != nil {
				return nil, nil, nil, err
			}
			if lk != nil {
				lk.catalogue, lk.loaded = catalogue, true
			}
		}
		var unknown []string
		for _, r := range roles {
			if !slices.ContainsFunc(catalogue, func(c passport.Role) bool { return c.Key == r }) {
				unknown = append(unknown, r)
			}
		}
		if len(unknown) > 0 {
			errs["roles"] = passport.FieldError("roles", "The organisation has no role %s.", strings.Join(unknown, ", "))
		}
	}
	a.Memberships[0].Roles = roles
	// A required field the organisation manages is the administrator's to fill: the
	// sign-in never asks the person for a field they cannot change (SPEC §2). Only the
	// fields a new member carries (the public name is set on the member page afterwards):
	// another would refuse every creation, at every door.
	for _, f := range s.Rules.RequiredFor(passport.RegisteredAdmin) {
		if !slices.Contains(memberFields, f) {
			continue
		}
		if s.Rules.Access(passport.RegisteredAdmin, f) == passport.AccessAdmin && !a.HasValue(f) && errs[string(f)] == nil {
			errs[string(f)] = passport.FieldError(string(f), "%s is required: the organisation manages it, so the person cannot fill it in.",
				passport.Text(passport.FieldLabels[f]))
		}
	}
	return a, roles, errs, nil
}

// asField is err as a message for the input field (a field error keeps its message).
func asField(field string, err error) *passport.Error {
	e := *passport.AsError(err)
	e.Field = field
	return &e
}

// CreateMember creates a managed member of orgID (registration method admin; email and
// phone not verified; the membership primary, as the account's first) and, when cred is
// given, issues credentials in the same transaction: nothing is written when anything is
// wrong. Records account.created and member.added (and credentials.issued). Returns
// ENOTFOUND when the organisation is out of the actor's scope.
func (s *Service) CreateMember(ctx context.Context, actor passport.Actor, orgID string, nm NewMember, cred *Credentials) (*passport.Account, *Issued, FieldErrors, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, nil, nil, err
	}
	return s.createMember(ctx, actor, o, nm, cred, nil)
}

// createMember is CreateMember in o, which the actor administers (checked by the caller);
// lk, when given, holds what the caller looked up for many members at once (an import's
// batch): read only here, so rows may run in parallel.
func (s *Service) createMember(ctx context.Context, actor passport.Actor, o *passport.Organisation, nm NewMember, cred *Credentials,
	lk *memberLookups) (*passport.Account, *Issued, FieldErrors, error) {
	a, roles, errs, err := s.checkMember(ctx, o, nm, lk)
	if err != nil {
		return nil, nil, nil, err
	}
	var c Credentials
	if cred != nil {
		c = *cred
		for k, v := range s.checkCredentials(ctx, a, &c) {
			errs[k] = v
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs, nil
	}
	var issue *postgres.NewIssue
	var issued *Issued
	if cred != nil {
		if issue, issued, err = s.prepareIssue(ctx, actor, a, o, c); err != nil {
			return nil, nil, nil, err
		}
	}
	id, err := s.DB.CreateIssuedMember(in(ctx, actor, o.ID), a, postgres.NewMember{OrgID: o.ID, Roles: roles,
		Position: a.Memberships[0].Position, Managed: true, CreatedBy: actor.AccountID}, issue)
	if err != nil {
		if pe := passport.AsError(err); pe.Field != "" && passport.ErrorCode(err) == passport.EINVALID {
			// Another request took the login meanwhile.
			return nil, nil, FieldErrors{pe.Field: pe}, nil
		}
		return nil, nil, nil, err
	}
	if issued != nil {
		issued.ID = id
		a.PasswordExpiresAt = &issued.ExpiresAt
		a.RequiredActions = []string{passport.ActionChangePassword}
	}
	return a, issued, nil, nil
}

// IssueCredentials issues a new temporary password to a managed member of orgID (any
// member, or with orgID "" any account, for a service administrator), voiding the previous
// one: the password expires after IssuedPasswordLifetime and must be changed at the next
// sign-in; every session ends and every token stops working; the login details go through
// the queue by the chosen channel. Refuses the actor's own account and accounts holding
// rights beyond the actor's (EFORBIDDEN). Returns ENOTFOUND out of scope.
func (s *Service) IssueCredentials(ctx context.Context, actor passport.Actor, orgID, accountID string, cred Credentials) (*Issued, FieldErrors, error) {
	m, err := s.credentialsMember(ctx, actor, orgID, accountID)
	if err != nil {
		return nil, nil, err
	}
	if errs := s.checkCredentials(ctx, m.Account, &cred); len(errs) > 0 {
		return nil, errs, nil
	}
	var o *passport.Organisation
	if m.Membership.OrgID != "" {
		if o, err = s.DB.Org(ctx, m.Membership.OrgID); err != nil {
			return nil, nil, err
		}
	}
	issue, issued, err := s.prepareIssue(ctx, actor, m.Account, o, cred)
	if err != nil {
		return nil, nil, err
	}
	issue.AccountID = m.Account.ID
	if issued.ID, err = s.DB.IssueCredentials(in(ctx, actor, m.Membership.OrgID), *issue); err != nil {
		return nil, nil, err
	}
	return issued, nil, nil
}

// checkCredentials checks how credentials are to be issued to a (the template exists, the
// channel reaches the account, the typed password meets the policy and was typed twice the
// same) and fills in the defaults: the standard template, email when there is an address
// (else sms).
func (s *Service) checkCredentials(ctx context.Context, a *passport.Account, c *Credentials) FieldErrors {
	errs := FieldErrors{}
	if c.Template = strings.TrimSpace(c.Template); c.Template == "" {
		c.Template = passport.TemplateStandard
	}
	if c.Template != passport.TemplateStandard {
		if _, err := s.DB.CredentialTemplate(ctx, c.Template); err != nil {
			errs[FieldTemplate] = passport.FieldError(FieldTemplate, "Choose one of the templates offered.")
		}
	}
	if c.Channel = strings.TrimSpace(c.Channel); c.Channel == "" {
		c.Channel = passport.ChannelEmail
		if a.Email == "" && a.Phone != "" {
			c.Channel = passport.ChannelSMS
		}
	}
	switch {
	case !slices.Contains(passport.IssueChannels, c.Channel):
		errs[FieldChannel] = passport.FieldError(FieldChannel, "Choose how the login details go: email, sms or none.")
	case c.Channel == passport.ChannelEmail && a.Email == "":
		errs[FieldChannel] = passport.FieldError(FieldChannel, "The member has no email address: choose another way.")
	case c.Channel == passport.ChannelSMS && a.Phone == "":
		errs[FieldChannel] = passport.FieldError(FieldChannel, "The member has no phone number: choose another way.")
	}
	if c.Locale = strings.TrimSpace(c.Locale); c.Locale != "" && !slices.Contains(Languages, c.Locale) {
		errs[FieldMessageLocale] = passport.FieldError(FieldMessageLocale, "Choose one of the languages offered.")
	}
	if !c.Generate {
		switch {
		case c.Password == "":
			errs[FieldPassword] = passport.FieldError(FieldPassword, "Type the password, or let Passport generate one.")
		case c.Password != c.Repeat:
			errs[FieldRepeat] = passport.FieldError(FieldRepeat, "The two passwords differ: type the same password twice.")
		default:
			if err := passport.CheckPasswordPolicy(c.Password, a.Login); err != nil {
				errs[FieldPassword] = asField(FieldPassword, err)
			}
		}
	}
	return errs
}

// prepareIssue makes the password (generated, or the typed one), its hash, its expiry and
// the message of an issue for a. A generated password is hashed fast (it has over 90 bits
// of entropy: see passport.HashIssuedPassword); a typed one with argon2id.
func (s *Service) prepareIssue(ctx context.Context, actor passport.Actor, a *passport.Account, o *passport.Organisation, c Credentials) (*postgres.NewIssue, *Issued, error) {
	password, hash := c.Password, ""
	if c.Generate {
		password = passport.GeneratePassword(a.Login)
		hash = passport.HashIssuedPassword(password)
	} else {
		var err error
		if hash, err = passport.HashPassword(ctx, password, s.Argon2); err != nil {
			return nil, nil, err
		}
	}
	lifetime := s.IssuedPasswordLifetime
	if lifetime <= 0 {
		lifetime = defaultIssuedLifetime
	}
	expires := s.DB.Now().Add(lifetime).UTC().Truncate(time.Second)
	issue := &postgres.NewIssue{AccountID: a.ID, IssuedBy: actor.AccountID, Hash: hash, Generated: c.Generate,
		Channel: c.Channel, Template: c.Template, ExpiresAt: expires}
	if o != nil {
		issue.OrgID = o.ID
	}
	if c.Channel != passport.ChannelNone && s.CredentialMessage != nil {
		msg, err := s.CredentialMessage(ctx, a, o, c.Channel, c.Template, c.Locale, password, expires)
		if err != nil {
			return nil, nil, err
		}
		issue.Message = &msg
	}
	issued := &Issued{ExpiresAt: expires, Channel: c.Channel, Template: c.Template}
	if c.Generate {
		issued.Password = password
	}
	return issue, issued, nil
}

// CredentialIssues returns the latest issues of a member's credentials with their delivery
// status: those of orgID, or every one for a service administrator. Returns ENOTFOUND out
// of scope.
func (s *Service) CredentialIssues(ctx context.Context, actor passport.Actor, orgID, accountID string, limit int) ([]postgres.CredentialIssue, error) {
	var accID, scope string
	if orgID == "" && actor.Authority.Service() {
		a, err := s.DB.Account(ctx, accountID)
		if err != nil || a.Status == passport.StatusDeleted {
			return nil, passport.Errorf(passport.ENOTFOUND, "No such account.")
		}
		accID = a.ID
	} else {
		m, err := s.Member(ctx, actor, orgID, accountID)
		if err != nil {
			return nil, err
		}
		return s.MemberCredentialIssues(ctx, actor, m, limit)
	}
	return s.DB.CredentialIssues(ctx, accID, scope, issueLimit(limit))
}

// MemberCredentialIssues is CredentialIssues for a member the actor has loaded already
// (with Member): the member page does not load them again.
func (s *Service) MemberCredentialIssues(ctx context.Context, actor passport.Actor, m *Member, limit int) ([]postgres.CredentialIssue, error) {
	scope := ""
	if !actor.Authority.Service() {
		scope = m.Membership.OrgID
	}
	return s.DB.CredentialIssues(ctx, m.Account.ID, scope, issueLimit(limit))
}

func issueLimit(limit int) int {
	if limit <= 0 || limit > 100 {
		return 10
	}
	return limit
}

// ResetTwoFactor removes a member's second factor (TOTP and recovery codes): the person
// enrols again at their next sign-in (the enrol_two_factor action). The same members as
// IssueCredentials; records two_factor.reset.
func (s *Service) ResetTwoFactor(ctx context.Context, actor passport.Actor, orgID, accountID string) error {
	m, err := s.credentialsMember(ctx, actor, orgID, accountID)
	if err != nil {
		return err
	}
	return s.DB.ResetTwoFactor(in(ctx, actor, m.Membership.OrgID), m.Account.ID, m.Membership.OrgID)
}

// credentialsMember is managedMember for the actions that hand an account's sign-in to
// someone else (issuing login details, resetting two factors): an administrator's account
// only by a service administrator, since a fellow organisation administrator would
// otherwise take it over and act under their name.
func (s *Service) credentialsMember(ctx context.Context, actor passport.Actor, orgID, accountID string) (*Member, error) {
	m, err := s.managedMember(ctx, actor, orgID, accountID)
	if err != nil {
		return nil, err
	}
	if actor.Authority.Service() {
		return m, nil
	}
	grants, err := s.DB.AdminGrants(ctx, m.Account.ID)
	if err != nil {
		return nil, err
	}
	if len(grants) > 0 {
		return nil, passport.Errorf(passport.EFORBIDDEN, "Only a service administrator can issue login details to an administrator or reset their two factors.")
	}
	return m, nil
}

// Contact kinds of a confirmation request.
const (
	ContactEmail = "email"
	ContactPhone = "phone"
)

// RequestContactConfirmation asks a member to confirm their unconfirmed email address
// and/or phone: for each kind asked (kinds: email, phone) send starts the confirmation the
// cabinet uses (a code through the queue; the person confirms in the cabinet), then
// contact.confirmation_requested is recorded with the kinds sent. The same members as
// IssueCredentials. A missing or confirmed contact is a field error, and nothing is sent.
func (s *Service) RequestContactConfirmation(ctx context.Context, actor passport.Actor, orgID, accountID string, kinds []string,
	send func(a *passport.Account, kind string) error) (FieldErrors, error) {
	m, err := s.managedMember(ctx, actor, orgID, accountID)
	if err != nil {
		return nil, err
	}
	a := m.Account
	errs := FieldErrors{}
	var want []string
	for _, k := range []string{ContactEmail, ContactPhone} {
		if !slices.Contains(kinds, k) {
			continue
		}
		want = append(want, k)
		switch {
		case k == ContactEmail && a.Email == "":
			errs[k] = passport.FieldError(k, "The member has no email address.")
		case k == ContactEmail && a.EmailVerified:
			errs[k] = passport.FieldError(k, "The email address is confirmed already.")
		case k == ContactPhone && a.Phone == "":
			errs[k] = passport.FieldError(k, "The member has no phone number.")
		case k == ContactPhone && a.PhoneVerified:
			errs[k] = passport.FieldError(k, "The phone number is confirmed already.")
		}
	}
	for _, k := range kinds {
		if k != ContactEmail && k != ContactPhone {
			errs["kinds"] = passport.FieldError("kinds", "Choose the email address, the phone number or both.")
		}
	}
	if len(want) == 0 && len(errs) == 0 {
		errs["kinds"] = passport.FieldError("kinds", "Choose the email address, the phone number or both.")
	}
	if len(errs) > 0 {
		return errs, nil
	}
	var sent []string
	var sendErr error
	for _, k := range want {
		if sendErr = send(a, k); sendErr != nil {
			break
		}
		sent = append(sent, k)
	}
	if len(sent) > 0 {
		if err := s.DB.Record(in(ctx, actor, m.Membership.OrgID), passport.Event{Type: passport.EventContactConfirmationRequested,
			AccountID: a.ID, OrgID: m.Membership.OrgID, Details: map[string]any{"kinds": sent}}); err != nil {
			return nil, err
		}
	}
	if pe := passport.AsError(sendErr); sendErr != nil && pe.Field != "" && pe.Code == passport.EINVALID {
		return FieldErrors{pe.Field: pe}, nil
	}
	return nil, sendErr
}

// ---- Credential message templates (SPEC §9) ----

// Templates lists the stored credential templates (any administrator: they pick one when
// issuing).
func (s *Service) Templates(ctx context.Context, actor passport.Actor) ([]passport.CredentialTemplate, error) {
	if !actor.Authority.Admin() {
		return nil, notFound()
	}
	return s.DB.CredentialTemplates(ctx)
}

// Template returns a stored template. Returns ENOTFOUND when there is none.
func (s *Service) Template(ctx context.Context, actor passport.Actor, key string) (*passport.CredentialTemplate, error) {
	if !actor.Authority.Admin() {
		return nil, passport.Errorf(passport.ENOTFOUND, "No such template.")
	}
	return s.DB.CredentialTemplate(ctx, key)
}

// SaveTemplate creates or replaces a stored template (service administrators). Problems
// come back as FieldErrors; nothing is saved then.
func (s *Service) SaveTemplate(ctx context.Context, actor passport.Actor, t passport.CredentialTemplate) (*passport.CredentialTemplate, FieldErrors, error) {
	if err := serviceOnly(actor); err != nil {
		return nil, nil, err
	}
	t, errs := passport.ValidateCredentialTemplate(t, Languages)
	if len(errs) > 0 {
		return nil, errs, nil
	}
	return &t, nil, s.DB.SaveCredentialTemplate(in(ctx, actor, ""), &t)
}

// DeleteTemplate deletes a stored template (service administrators).
func (s *Service) DeleteTemplate(ctx context.Context, actor passport.Actor, key string) error {
	if err := serviceOnly(actor); err != nil {
		return err
	}
	return s.DB.DeleteCredentialTemplate(in(ctx, actor, ""), key)
}
