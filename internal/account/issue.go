package account

import (
	"context"
	"time"

	"github.com/passport-idp/passport/internal/passport"
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

// CheckMember validates a new member of orgID (login free, email valid, phone E.164 after
// normalisation, roles in the catalogue, required fields) and writes nothing.
func (s *Service) CheckMember(ctx context.Context, actor passport.Actor, orgID string, in NewMember) (*passport.Account, FieldErrors, error) {
	return nil, nil, passport.Errorf(passport.EUNAVAILABLE, "Not built yet.")
}

// CreateMember creates a managed member of orgID (registration method admin) and, when cred
// is given, issues credentials in the same transaction.
func (s *Service) CreateMember(ctx context.Context, actor passport.Actor, orgID string, in NewMember, cred *Credentials) (*passport.Account, *Issued, FieldErrors, error) {
	return nil, nil, nil, passport.Errorf(passport.EUNAVAILABLE, "Not built yet.")
}

// IssueCredentials issues a new temporary password to a managed member of orgID, voiding
// the previous one.
func (s *Service) IssueCredentials(ctx context.Context, actor passport.Actor, orgID, accountID string, cred Credentials) (*Issued, FieldErrors, error) {
	return nil, nil, passport.Errorf(passport.EUNAVAILABLE, "Not built yet.")
}
