// Package account carries out what people, administrators, the APIs and the command line
// may do to accounts and organisations, in one place: each action takes the actor (who acts,
// with which authority), checks the rule, and calls the store, which records the security
// event in the change's transaction. It knows nothing of HTTP: handlers parse, call, render.
//
// Scoping is one rule (passport.Authority): an administrator sees only the organisations
// they administer, and anything else answers ENOTFOUND, never EFORBIDDEN, so a foreign id
// tells nothing about whether it exists.
package account

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// Service is the account actions over the store.
type Service struct {
	DB *postgres.DB
	// Argon2 are the password-hashing parameters.
	Argon2 passport.Argon2Params
	// Rules are the profile rules: publicity defaults, required and locked fields.
	Rules passport.Rules
	// DeletionGrace is how long a scheduled deletion waits (SPEC §5).
	DeletionGrace time.Duration
	// Limits bound wrong-password attempts.
	Limits Limits
	// Notices builds the messages a change sends the person (a Notice… kind, the moment it
	// is about) in their language; nil sends none.
	Notices func(kind string, a *passport.Account, at time.Time) ([]passport.Outgoing, error)
	// DeletionNotices builds the messages of a scheduled deletion (the notice and the held
	// final one) in the account's language; nil sends none.
	DeletionNotices func(a *passport.Account, purgeAt time.Time) ([]passport.Outgoing, error)
	// IssuedPasswordLifetime is how long an issued (temporary) password works (SPEC §6).
	IssuedPasswordLifetime time.Duration
	// CredentialMessage renders and seals the "login details issued" message of an issue
	// (channel email or sms; to the account's address or number) from template ("standard"
	// or a stored key) in locale ("" for the account's language), for org (nil when a
	// service administrator acts outside any organisation). nil sends no message.
	CredentialMessage func(ctx context.Context, a *passport.Account, org *passport.Organisation, channel, template, locale, password string,
		expires time.Time) (passport.Outgoing, error)
}

// System is the actor of the command line and of background jobs: every authority.
func System() passport.Actor {
	return passport.Actor{Kind: passport.ActorSystem, Authority: passport.Authority{Grants: []passport.Grant{{Role: passport.RoleServiceAdmin}}}}
}

// Admin builds the actor for an account acting as administrator, loading its grants. An
// account without an administrative grant gets an actor whose authority is empty (every
// action answers ENOTFOUND or EFORBIDDEN).
func (s *Service) Admin(ctx context.Context, accountID, ip, userAgent, clientID string) (passport.Actor, error) {
	grants, err := s.DB.AdminGrants(ctx, accountID)
	if err != nil {
		return passport.Actor{}, err
	}
	return passport.Actor{Kind: passport.ActorAdmin, AccountID: accountID, ClientID: clientID, IP: ip, UserAgent: userAgent,
		Authority: passport.Authority{Grants: grants}}, nil
}

// ServiceAccount builds the actor for a client bound to an organisation (client
// credentials with scope passport:admin): an org_admin of that one organisation.
func ServiceAccount(clientID, orgID, ip, userAgent string) passport.Actor {
	return passport.Actor{Kind: passport.ActorClient, ClientID: clientID, IP: ip, UserAgent: userAgent,
		Authority: passport.Authority{Grants: []passport.Grant{{Role: passport.RoleOrgAdmin, OrgID: orgID}}}}
}

// in returns ctx carrying the actor as it acts for orgID: the store records its role there.
func in(ctx context.Context, actor passport.Actor, orgID string) context.Context {
	actor.Role = actor.Authority.RoleIn(orgID)
	if actor.Role == passport.RoleOrgAdmin || actor.Kind == passport.ActorClient {
		actor.OrgID = orgID
	}
	return passport.WithActor(ctx, actor)
}

func notFound() error { return passport.Errorf(passport.ENOTFOUND, "No such organisation.") }

func serviceOnly(actor passport.Actor) error {
	if !actor.Authority.Service() {
		return passport.Errorf(passport.EFORBIDDEN, "Only a service administrator can do this.")
	}
	return nil
}

// Orgs lists the organisations the actor administers.
func (s *Service) Orgs(ctx context.Context, actor passport.Actor) ([]passport.Organisation, error) {
	if !actor.Authority.Admin() {
		return []passport.Organisation{}, nil
	}
	return s.DB.Orgs(ctx, actor.Authority.Orgs())
}

// Org returns an organisation in the actor's scope by id or alias. Returns ENOTFOUND for
// any other, existing or not.
func (s *Service) Org(ctx context.Context, actor passport.Actor, ref string) (*passport.Organisation, error) {
	var o *passport.Organisation
	var err error
	if passport.ValidateAlias(ref) == nil && !looksLikeUUID(ref) {
		o, err = s.DB.OrgByAlias(ctx, ref)
	} else {
		o, err = s.DB.Org(ctx, ref)
	}
	if err != nil {
		return nil, err
	}
	if !actor.Authority.CanAdminOrg(o.ID) {
		return nil, notFound()
	}
	return o, nil
}

func looksLikeUUID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}

// CreateOrg creates an organisation (service admins only).
func (s *Service) CreateOrg(ctx context.Context, actor passport.Actor, alias, name string) (*passport.Organisation, error) {
	if err := serviceOnly(actor); err != nil {
		return nil, err
	}
	alias = strings.TrimSpace(alias)
	if err := passport.ValidateAlias(alias); err != nil {
		return nil, err
	}
	name, err := passport.ValidateOrgName(name)
	if err != nil {
		return nil, err
	}
	o := &passport.Organisation{Alias: alias, Name: name}
	return o, s.DB.CreateOrg(in(ctx, actor, ""), o)
}

// RenameOrg changes an organisation's display name (service admins only; the alias stays).
func (s *Service) RenameOrg(ctx context.Context, actor passport.Actor, orgID, name string) (*passport.Organisation, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	orgID = o.ID
	if err := serviceOnly(actor); err != nil {
		return nil, err
	}
	name, err = passport.ValidateOrgName(name)
	if err != nil {
		return nil, err
	}
	return s.DB.UpdateOrg(in(ctx, actor, orgID), orgID, func(o *passport.Organisation) error {
		o.Name = name
		return nil
	})
}

// SetOrgDisabled disables or enables an organisation (service admins only). Its members
// lose its roles in tokens at once: the claim is built from active organisations only.
func (s *Service) SetOrgDisabled(ctx context.Context, actor passport.Actor, orgID string, disabled bool) (*passport.Organisation, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	orgID = o.ID
	if err := serviceOnly(actor); err != nil {
		return nil, err
	}
	return s.DB.UpdateOrg(in(ctx, actor, orgID), orgID, func(o *passport.Organisation) error {
		o.Status = passport.OrgActive
		if disabled {
			o.Status = passport.OrgDisabled
		}
		return nil
	})
}

// Roles returns an organisation's role catalogue.
func (s *Service) Roles(ctx context.Context, actor passport.Actor, orgID string) ([]passport.Role, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	orgID = o.ID
	return s.DB.Roles(ctx, orgID)
}

// SaveRole adds a role to the catalogue or renames it; names holds a display name per
// language and needs at least one.
func (s *Service) SaveRole(ctx context.Context, actor passport.Actor, orgID string, r passport.Role) error {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return err
	}
	orgID = o.ID
	r.Key = strings.TrimSpace(r.Key)
	if err := passport.ValidateRoleKey(r.Key); err != nil {
		return err
	}
	names := map[string]string{}
	for lang, n := range r.Names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(Languages, lang) {
			return passport.FieldError("names", "Role names are given in en, ru, et, nl or sv.")
		}
		if err := passport.ValidateName("names", "Name", n); err != nil {
			return err
		}
		names[lang] = n
	}
	if len(names) == 0 {
		return passport.FieldError("names", "Give the role a name in at least one language.")
	}
	r.Names = names
	return s.DB.SaveRole(in(ctx, actor, orgID), orgID, r)
}

// Languages are the languages a role's display name may be given in (SPEC §11).
var Languages = []string{"en", "ru", "et", "nl", "sv"}

// DeleteRole removes a role from the catalogue and from every member holding it.
func (s *Service) DeleteRole(ctx context.Context, actor passport.Actor, orgID, key string) error {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return err
	}
	orgID = o.ID
	return s.DB.DeleteRole(in(ctx, actor, orgID), orgID, key)
}
