package account

import (
	"context"
	"slices"
	"strings"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// MemberFilter narrows the member list; the scope comes from the actor.
type MemberFilter struct {
	OrgID        string // one organisation (id or alias), "" for all in scope
	Status       string
	Verification string
	Role         string
	Query        string
	After        postgres.MemberCursor
	Limit        int
}

// Members returns a page of the members the actor may see and the next page's cursor.
// Unknown filter values are refused with a field error rather than answering an empty list.
func (s *Service) Members(ctx context.Context, actor passport.Actor, f MemberFilter) ([]postgres.MemberRow, postgres.MemberCursor, error) {
	if !actor.Authority.Admin() {
		return nil, postgres.MemberCursor{}, notFound()
	}
	pf := postgres.MemberFilter{OrgIDs: actor.Authority.Orgs(), Status: f.Status, Verification: f.Verification,
		Role: strings.TrimSpace(f.Role), Query: f.Query, After: f.After, Limit: f.Limit}
	if f.OrgID != "" {
		o, err := s.Org(ctx, actor, f.OrgID)
		if err != nil {
			return nil, postgres.MemberCursor{}, err
		}
		pf.OrgID = o.ID
	}
	if f.Status != "" && !slices.Contains([]string{passport.StatusActive, passport.StatusBlocked, passport.StatusPendingDeletion}, f.Status) {
		return nil, postgres.MemberCursor{}, passport.FieldError("status", "Choose one of the statuses offered.")
	}
	if f.Verification != "" && !slices.Contains([]string{passport.VerificationNew, passport.VerificationRequiresCheck,
		passport.VerificationVerified, passport.VerificationIncorrectData}, f.Verification) {
		return nil, postgres.MemberCursor{}, passport.FieldError("verification", "Choose one of the verification statuses offered.")
	}
	if len([]rune(f.Query)) > 100 {
		return nil, postgres.MemberCursor{}, passport.FieldError("q", "Search for at most %d characters.", 100)
	}
	return s.DB.Members(ctx, pf)
}

// Member is one member as an administrator sees them: the account, its memberships in the
// actor's scope, and the membership asked about.
type Member struct {
	Account     *passport.Account
	Org         *passport.Organisation // the organisation asked about
	Membership  passport.Membership    // in that organisation
	Memberships []passport.Membership  // every one the actor may see
	Sessions    []postgres.SessionInfo
}

// Member returns an account as a member of orgID. Returns ENOTFOUND when the organisation
// is out of the actor's scope or the account is not its member.
func (s *Service) Member(ctx context.Context, actor passport.Actor, orgID, accountID string) (*Member, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	a, err := s.DB.Account(ctx, accountID)
	if err != nil {
		return nil, memberNotFound()
	}
	m := &Member{Account: a, Org: o}
	found := false
	for _, ms := range a.Memberships {
		if ms.OrgID == o.ID {
			m.Membership, found = ms, true
		}
		if actor.Authority.CanAdminOrg(ms.OrgID) {
			m.Memberships = append(m.Memberships, ms)
		}
	}
	if !found || a.Status == passport.StatusDeleted {
		return nil, memberNotFound()
	}
	// The account itself shows only what the organisation's administrators may know: its
	// memberships elsewhere stay hidden, and so do the sessions of a person who merely joined
	// (their devices are their own business; an organisation sees those of accounts it manages).
	a.Memberships = m.Memberships
	if m.Membership.Managed || actor.Authority.Service() {
		if m.Sessions, err = s.DB.Sessions(ctx, a.ID); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func memberNotFound() error { return passport.Errorf(passport.ENOTFOUND, "No such member.") }

// AddMember makes an existing account (found by login) an unmanaged member of orgID.
// An unknown login and a login out of reach answer the same field error.
func (s *Service) AddMember(ctx context.Context, actor passport.Actor, orgID, login string, roles []string, position string) (*passport.Account, error) {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	position = strings.TrimSpace(position)
	if err := passport.ValidateName("position", "Position", position); err != nil {
		return nil, err
	}
	a, err := s.DB.AccountByLogin(ctx, strings.TrimSpace(login))
	if err != nil || a.Status == passport.StatusDeleted {
		return nil, passport.FieldError("login", "No account has this login.")
	}
	err = s.DB.AddMember(in(ctx, actor, o.ID), postgres.NewMember{OrgID: o.ID, AccountID: a.ID, Roles: cleanRoles(roles),
		Position: position, Managed: false, CreatedBy: actor.AccountID})
	return a, err
}

func cleanRoles(roles []string) []string {
	out := []string{}
	for _, r := range roles {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// ChangeMembership edits a member's roles, position or primary mark in orgID. Roles must be
// in the organisation's catalogue. The next token and userinfo call carry the change.
func (s *Service) ChangeMembership(ctx context.Context, actor passport.Actor, orgID, accountID string, ch postgres.MembershipChange) error {
	m, err := s.Member(ctx, actor, orgID, accountID)
	if err != nil {
		return err
	}
	if ch.Primary != nil && *ch.Primary && !actor.Authority.Service() {
		// The primary mark is how the person presents themselves (public profile, vCard):
		// an organisation may not take it from another organisation's membership.
		a, err := s.DB.Account(ctx, accountID)
		if err != nil {
			return err
		}
		for _, ms := range a.Memberships {
			if ms.Primary && ms.OrgID != m.Membership.OrgID && !actor.Authority.CanAdminOrg(ms.OrgID) {
				return passport.FieldError("primary", "Another organisation is this person's primary one: only they or a service administrator can change it.")
			}
		}
	}
	if ch.Roles != nil {
		r := cleanRoles(*ch.Roles)
		ch.Roles = &r
	}
	if ch.Position != nil {
		p := strings.TrimSpace(*ch.Position)
		if err := passport.ValidateName("position", "Position", p); err != nil {
			return err
		}
		ch.Position = &p
	}
	return s.DB.ChangeMembership(in(ctx, actor, m.Membership.OrgID), m.Membership.OrgID, accountID, ch)
}

// RemoveMember ends a membership. A managed member's account (created by the organisation,
// belonging to no other) is scheduled for deletion with the usual grace and notices; an
// unmanaged member keeps the account. Reports whether a deletion was scheduled.
func (s *Service) RemoveMember(ctx context.Context, actor passport.Actor, orgID, accountID string) (bool, error) {
	m, err := s.Member(ctx, actor, orgID, accountID)
	if err != nil {
		return false, err
	}
	if m.Membership.Managed {
		// Removal would schedule the account's deletion: the same protection as blocking.
		if err := s.protected(ctx, actor, accountID); err != nil {
			return false, err
		}
	}
	purgeAt := s.DB.Now().Add(s.DeletionGrace).UTC()
	var msgs []passport.Outgoing
	if m.Membership.Managed && s.DeletionNotices != nil {
		if msgs, err = s.DeletionNotices(m.Account, purgeAt); err != nil {
			return false, err
		}
	}
	return s.DB.RemoveMember(in(ctx, actor, m.Membership.OrgID), m.Membership.OrgID, accountID, purgeAt, msgs...)
}

// managedMember returns the member, refusing an account the organisation does not manage
// unless the actor is a service admin: an organisation may end its own membership of a
// person who joined, but not lock them out of their own account.
func (s *Service) managedMember(ctx context.Context, actor passport.Actor, orgID, accountID string) (*Member, error) {
	var m *Member
	if orgID == "" && actor.Authority.Service() {
		// A service administrator reaches any account, in an organisation or not.
		a, err := s.DB.Account(ctx, accountID)
		if err != nil || a.Status == passport.StatusDeleted {
			return nil, passport.Errorf(passport.ENOTFOUND, "No such account.")
		}
		m = &Member{Account: a}
	} else {
		var err error
		if m, err = s.Member(ctx, actor, orgID, accountID); err != nil {
			return nil, err
		}
		if !m.Membership.Managed && !actor.Authority.Service() {
			return nil, passport.Errorf(passport.EFORBIDDEN,
				"This account joined the organisation and is not managed by it: only a service administrator can do this.")
		}
	}
	if err := s.protected(ctx, actor, accountID); err != nil {
		return nil, err
	}
	return m, nil
}

// protected refuses an action against one's own account, or against an account holding
// administrative rights the actor does not hold (a service administrator, or the
// administrator of an organisation outside the actor's scope): an organisation must not be
// able to lock out those who oversee it or other organisations.
func (s *Service) protected(ctx context.Context, actor passport.Actor, accountID string) error {
	if actor.AccountID != "" && actor.AccountID == accountID {
		return passport.Errorf(passport.EFORBIDDEN, "You cannot do this to your own account.")
	}
	grants, err := s.DB.AdminGrants(ctx, accountID)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if (g.Role == passport.RoleServiceAdmin && !actor.Authority.Service()) ||
			(g.OrgID != "" && !actor.Authority.CanAdminOrg(g.OrgID)) {
			return passport.Errorf(passport.EFORBIDDEN,
				"This account holds administrative rights beyond yours: only a service administrator can do this.")
		}
	}
	return nil
}

// SetBlocked blocks or unblocks a member's account. Blocking ends every session and revokes
// every token at once.
func (s *Service) SetBlocked(ctx context.Context, actor passport.Actor, orgID, accountID string, blocked bool) error {
	m, err := s.managedMember(ctx, actor, orgID, accountID)
	if err != nil {
		return err
	}
	return s.DB.SetBlocked(in(ctx, actor, m.Membership.OrgID), m.Account.ID, m.Membership.OrgID, blocked)
}

// EndSessions ends every session of a member and revokes their tokens.
func (s *Service) EndSessions(ctx context.Context, actor passport.Actor, orgID, accountID string) error {
	m, err := s.managedMember(ctx, actor, orgID, accountID)
	if err != nil {
		return err
	}
	return s.DB.EndAllSessions(in(ctx, actor, m.Membership.OrgID), accountID, m.Membership.OrgID)
}

// OrgOfAccount finds the organisation through which the actor reaches an account: the
// first of its memberships in scope (the account routes of the admin API name no
// organisation); "" for a service administrator and an account in none. Returns ENOTFOUND
// when none is in scope.
func (s *Service) OrgOfAccount(ctx context.Context, actor passport.Actor, accountID string) (string, error) {
	a, err := s.DB.Account(ctx, accountID)
	if err != nil || a.Status == passport.StatusDeleted {
		return "", passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	for _, managedFirst := range []bool{true, false} {
		for _, ms := range a.Memberships {
			if ms.Managed == managedFirst && ms.OrgStatus == passport.OrgActive && actor.Authority.CanAdminOrg(ms.OrgID) {
				return ms.OrgID, nil
			}
		}
	}
	if actor.Authority.Service() {
		return "", nil // a service administrator reaches accounts in no organisation too
	}
	return "", passport.Errorf(passport.ENOTFOUND, "No such account.")
}

// EventFilter narrows an event feed.
type EventFilter struct {
	OrgID     string // one organisation (id or alias); "" for every one in scope
	AccountID string // one member's events (with OrgID)
	// Member, when the caller has loaded the member already (with the same actor), saves
	// loading it again for AccountID.
	Member *Member
	Before int64
	Limit  int
}

// Events returns the security events the actor may see, newest first: an organisation's
// (about it or done on its behalf), a member's (their own and those concerning the actor's
// organisations, never another organisation's), or all of them for a service admin.
func (s *Service) Events(ctx context.Context, actor passport.Actor, f EventFilter) ([]passport.Event, error) {
	if !actor.Authority.Admin() {
		return nil, notFound()
	}
	pf := postgres.EventFilter{Before: f.Before, Limit: f.Limit}
	switch {
	case f.AccountID != "":
		m := f.Member
		if m == nil || m.Account.ID != f.AccountID {
			var err error
			if m, err = s.Member(ctx, actor, f.OrgID, f.AccountID); err != nil {
				return nil, err
			}
		}
		pf.AccountID = m.Account.ID
		pf.OrgIDs = actor.Authority.Orgs()
		if !m.Membership.Managed && !actor.Authority.Service() {
			// A person who joined: the organisation sees their history from the joining on.
			pf.Since = m.Membership.CreatedAt
		}
	case f.OrgID != "":
		o, err := s.Org(ctx, actor, f.OrgID)
		if err != nil {
			return nil, err
		}
		pf.OrgIDs = []string{o.ID}
	case actor.Authority.Service():
		pf.All = true
	default:
		pf.OrgIDs = actor.Authority.Orgs()
	}
	return s.DB.Events(ctx, pf)
}

// OwnEvents returns a person's own security events, newest first.
func (s *Service) OwnEvents(ctx context.Context, accountID string, before int64, limit int) ([]passport.Event, error) {
	return s.DB.Events(ctx, postgres.EventFilter{AccountID: accountID, Before: before, Limit: limit})
}

// Grant gives an account an administrative role (service admins and the command line).
// org_admin and reviewer need an organisation (id or alias); service_admin none.
func (s *Service) Grant(ctx context.Context, actor passport.Actor, accountID, role, orgRef string) error {
	if err := serviceOnly(actor); err != nil {
		return err
	}
	g, err := s.grant(ctx, actor, role, orgRef)
	if err != nil {
		return err
	}
	return s.DB.GrantAdmin(in(ctx, actor, g.OrgID), accountID, g)
}

// Revoke takes an administrative role away.
func (s *Service) Revoke(ctx context.Context, actor passport.Actor, accountID, role, orgRef string) error {
	if err := serviceOnly(actor); err != nil {
		return err
	}
	g, err := s.grant(ctx, actor, role, orgRef)
	if err != nil {
		return err
	}
	return s.DB.RevokeAdmin(in(ctx, actor, g.OrgID), accountID, g)
}

func (s *Service) grant(ctx context.Context, actor passport.Actor, role, orgRef string) (passport.Grant, error) {
	if !slices.Contains(passport.AdminRoles, role) {
		return passport.Grant{}, passport.FieldError("role", "Choose one of the roles service_admin, org_admin or reviewer.")
	}
	if role == passport.RoleServiceAdmin {
		if orgRef != "" {
			return passport.Grant{}, passport.FieldError("org", "A service administrator has no organisation.")
		}
		return passport.Grant{Role: role}, nil
	}
	if orgRef == "" {
		return passport.Grant{}, passport.FieldError("org", "Name the organisation.")
	}
	o, err := s.Org(ctx, actor, orgRef)
	if err != nil {
		return passport.Grant{}, err
	}
	return passport.Grant{Role: role, OrgID: o.ID}, nil
}
