package passport

import (
	"slices"
	"strings"
	"time"
)

// Publicity is who may see one profile field (SPEC §3).
type Publicity string

const (
	Private   Publicity = "private"    // only you: never leaves Passport
	OnRequest Publicity = "on_request" // to an application after you consent, per application
	Public    Publicity = "public"     // to every application, the public profile and the vCard
)

// ParsePublicity accepts the three level names. Returns EINVALID otherwise.
func ParsePublicity(s string) (Publicity, error) {
	switch p := Publicity(s); p {
	case Private, OnRequest, Public:
		return p, nil
	}
	return "", Errorf(EINVALID, "Unknown publicity level %q: use private, on_request or public.", s)
}

// Field is a profile field that carries a publicity level.
type Field string

const (
	FieldLogin        Field = "login"
	FieldNickname     Field = "nickname"
	FieldPicture      Field = "picture"
	FieldGivenName    Field = "given_name"
	FieldFamilyName   Field = "family_name"
	FieldBirthdate    Field = "birthdate"
	FieldLocale       Field = "locale" // the language, released as the `locale` claim
	FieldEmail        Field = "email"
	FieldPhone        Field = "phone"
	FieldOrganization Field = "organization" // organisation, position and roles
	FieldIdentifiers  Field = "identifiers"  // linked external accounts
)

// Fields lists every publicity-bearing field in the order pages show them.
var Fields = []Field{FieldNickname, FieldPicture, FieldGivenName, FieldFamilyName, FieldBirthdate,
	FieldLocale, FieldLogin, FieldEmail, FieldPhone, FieldOrganization, FieldIdentifiers}

// FieldLabels are the names people read.
var FieldLabels = map[Field]string{
	FieldLogin: "Login", FieldNickname: "Public name", FieldPicture: "Photo", FieldGivenName: "Given name",
	FieldFamilyName: "Family name", FieldBirthdate: "Birth date", FieldLocale: "Language", FieldEmail: "Email", FieldPhone: "Phone",
	FieldOrganization: "Organisation and position", FieldIdentifiers: "Linked accounts",
}

// ParseField accepts a field name. Returns EINVALID otherwise.
func ParseField(s string) (Field, error) {
	if f := Field(s); slices.Contains(Fields, f) {
		return f, nil
	}
	return "", Errorf(EINVALID, "Unknown profile field %q.", s)
}

// DefaultPublicity is SPEC §3's default: nickname and photo public; names, email and phone
// on request; birth date and identifiers private. The login and the organisation, which the
// SPEC leaves open, are on request; the language is public (docs/decisions.md).
var DefaultPublicity = map[Field]Publicity{
	FieldNickname: Public, FieldPicture: Public, FieldGivenName: OnRequest, FieldFamilyName: OnRequest,
	FieldEmail: OnRequest, FieldPhone: OnRequest, FieldBirthdate: Private, FieldIdentifiers: Private,
	FieldLogin: OnRequest, FieldOrganization: OnRequest, FieldLocale: Public,
}

// Custom scopes (SPEC §3).
const (
	ScopeOrganization = "organization"
	ScopeVerification = "verification"
	ScopeIdentifiers  = "identifiers"
	// ScopeAccount lets a first-party application act on the person's own account through
	// /api/v1/me with a bearer token.
	ScopeAccount = "passport:account"
	// ScopeAdmin lets an administrator's application (or an organisation's service account)
	// use /api/v1/admin with a bearer token; the caller's grants still decide what it sees.
	ScopeAdmin = "passport:admin"
)

// ScopeFields lists the publicity-bearing fields each scope asks for.
var ScopeFields = map[string][]Field{
	ScopeProfile:      {FieldNickname, FieldPicture, FieldGivenName, FieldFamilyName, FieldBirthdate, FieldLocale, FieldLogin},
	ScopeEmail:        {FieldEmail},
	ScopePhone:        {FieldPhone},
	ScopeOrganization: {FieldOrganization},
	ScopeIdentifiers:  {FieldIdentifiers},
}

// Rules are the operator's profile settings: default publicity and, per registration
// method, who may edit each field and which fields are required. The zero value is not
// useful; use NewRules.
type Rules struct {
	Defaults map[Field]Publicity
	// Required fields may be left empty, but the person is asked for them at the next
	// sign-in through an application. It applies to every registration method, except where
	// Policy says otherwise; a required field that a method locks stays required (its
	// administrator fills it in).
	Required []Field
	// Locked maps a registration method ("admin", "external:*" via "external") to the
	// fields a person with that method may not change. Policy overrides it field by field.
	Locked map[string][]Field
	// Policy maps a registration method (self, admin, invite, external, certificate) and a
	// field to who may edit it; fields it does not name follow Locked and Required.
	Policy map[string]map[Field]Access
	// PhotoURL turns a photo id into its absolute URL.
	PhotoURL func(photoID string) string
}

// NewRules completes r's defaults with DefaultPublicity.
func NewRules(r Rules) Rules {
	d := make(map[Field]Publicity, len(Fields))
	for _, f := range Fields {
		d[f] = DefaultPublicity[f]
		if p, ok := r.Defaults[f]; ok {
			d[f] = p
		}
	}
	r.Defaults = d
	if r.PhotoURL == nil {
		r.PhotoURL = func(id string) string { return "/photos/" + id }
	}
	return r
}

// Level is the level the person chose for f, else the default; the private-profile switch
// is not applied here (see Effective).
func (r Rules) Level(a *Account, f Field) Publicity {
	if p, ok := a.Publicity[f]; ok {
		return p
	}
	return r.Defaults[f]
}

// Effective is the level that governs release: the private-profile switch makes every field
// private for everyone else.
func (r Rules) Effective(a *Account, f Field) Publicity {
	if a.PrivateProfile {
		return Private
	}
	return r.Level(a, f)
}

// Releasable reports the claim-release rule of SPEC §3 for one field: public, or on request
// and consented for this client; never private.
func (r Rules) Releasable(a *Account, f Field, consented bool) bool {
	switch r.Effective(a, f) {
	case Public:
		return true
	case OnRequest:
		return consented
	}
	return false
}

// HasValue reports whether the account holds a value for f.
func (a *Account) HasValue(f Field) bool {
	switch f {
	case FieldLogin:
		return a.Login != ""
	case FieldNickname:
		return a.Nickname != ""
	case FieldPicture:
		return a.PhotoID != ""
	case FieldGivenName:
		return a.GivenName != ""
	case FieldFamilyName:
		return a.FamilyName != ""
	case FieldBirthdate:
		return a.Birthdate != nil
	case FieldLocale:
		return a.Locale != ""
	case FieldEmail:
		return a.Email != ""
	case FieldPhone:
		return a.Phone != ""
	case FieldOrganization:
		return len(a.ActiveMemberships()) > 0
	}
	// FieldIdentifiers: linked external accounts arrive with upstream providers; until then
	// an account holds none.
	return false
}

// Release returns the claims of a released to a client for the granted scopes, given the
// fields the person consented to for that client. It never includes `sub`, which the
// caller always sets. This is the one place that decides what an application learns: ID
// tokens, userinfo and introspection all call it, at every call.
//
// A claim appears only when its field is releasable and holds a value: its presence alone,
// even empty, would tell the application something. With the private-profile switch on
// nothing is released at all (not even locale, updated_at or verification_status).
func (r Rules) Release(a *Account, scopes []string, consented []Field) map[string]any {
	c := map[string]any{}
	if a.PrivateProfile {
		return c
	}
	granted := func(scope string) bool { return slices.Contains(scopes, scope) }
	ok := func(f Field) bool { return a.HasValue(f) && r.Releasable(a, f, slices.Contains(consented, f)) }

	if granted(ScopeProfile) {
		var name []string
		if ok(FieldGivenName) {
			c["given_name"] = a.GivenName
			name = append(name, a.GivenName)
		}
		if ok(FieldFamilyName) {
			c["family_name"] = a.FamilyName
			name = append(name, a.FamilyName)
		}
		if len(name) > 0 {
			c["name"] = strings.Join(name, " ")
		}
		if ok(FieldNickname) {
			c["nickname"] = a.Nickname
		}
		if ok(FieldLogin) {
			c["preferred_username"] = a.Login
		}
		if ok(FieldPicture) {
			c["picture"] = r.PhotoURL(a.PhotoID)
		}
		if ok(FieldBirthdate) {
			c["birthdate"] = a.Birthdate.Format(time.DateOnly)
		}
		if ok(FieldLocale) {
			c["locale"] = a.Locale
		}
		// When the profile last changed is news only about something released with it.
		if len(c) > 0 {
			c["updated_at"] = a.UpdatedAt.Unix()
		}
	}
	if granted(ScopeEmail) && ok(FieldEmail) {
		c["email"] = a.Email
		c["email_verified"] = a.EmailVerified
	}
	if granted(ScopePhone) && ok(FieldPhone) {
		c["phone_number"] = a.Phone
		c["phone_number_verified"] = a.PhoneVerified
	}
	if granted(ScopeOrganization) && ok(FieldOrganization) {
		// Keycloak's shape: {"<alias>": {"id", "name", "roles", "position"}}, active
		// organisations only; a member without roles gets "roles": [] (the membership itself is
		// the released fact), and no empty position.
		orgs := map[string]any{}
		for _, m := range a.ActiveMemberships() {
			o := map[string]any{"id": m.OrgID, "name": m.OrgName, "roles": NonNil(m.Roles)}
			if m.Position != "" {
				o["position"] = m.Position
			}
			orgs[m.OrgAlias] = o
		}
		c["organization"] = orgs
	}
	if granted(ScopeVerification) && a.VerificationStatus != "" {
		c["verification_status"] = a.VerificationStatus
	}
	// ScopeIdentifiers: no claim until linked external accounts exist (HasValue is false
	// for FieldIdentifiers), never an empty list.
	return c
}

// NonNil returns s, or an empty slice for nil: a JSON array or a SQL array, never null.
func NonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ConsentItem is one field on the consent screen.
type ConsentItem struct {
	Field   Field
	Level   Publicity // effective level
	Decided bool      // the person already decided for this client
	Granted bool      // and said yes
}

// ConsentItems lists the fields the requested scopes ask for that hold a value, with their
// effective level and the person's earlier decisions for the client.
func (r Rules) ConsentItems(a *Account, scopes []string, decisions map[Field]bool) []ConsentItem {
	var items []ConsentItem
	seen := map[Field]bool{}
	for _, scope := range scopes {
		for _, f := range ScopeFields[scope] {
			if seen[f] || !a.HasValue(f) {
				continue
			}
			seen[f] = true
			granted, decided := decisions[f]
			items = append(items, ConsentItem{Field: f, Level: r.Effective(a, f), Decided: decided, Granted: granted})
		}
	}
	return items
}

// NeedsConsent reports whether any on-request field of the request has no decision yet.
func NeedsConsent(items []ConsentItem) bool {
	for _, it := range items {
		if it.Level == OnRequest && !it.Decided {
			return true
		}
	}
	return false
}

// IsLocked reports whether the person may not change f themselves: the policy gives it to
// the administrator for the account's registration method and no administrator unlocked it
// for this account (or the unlock has ended). Fields nobody edits (login, organisation,
// linked accounts: see NeverEditable) are not "locked".
func (r Rules) IsLocked(a *Account, f Field) bool {
	return r.Access(a.RegistrationMethod, f) == AccessAdmin && !slices.Contains(a.UnlockedFields, string(f))
}

// MissingRequired lists the required fields (for the account's registration method) that
// the account leaves empty, in the order of Fields.
func (r Rules) MissingRequired(a *Account) []Field {
	var out []Field
	for _, f := range r.RequiredFor(a.RegistrationMethod) {
		if !a.HasValue(f) {
			out = append(out, f)
		}
	}
	return out
}
