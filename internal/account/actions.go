package account

import (
	"context"
	"slices"

	"github.com/passport-idp/passport/internal/passport"
)

// Required actions after sign-in (SPEC §6): set and cleared by administrators, done by the
// person.

// SetRequiredActions replaces a member's required actions (passport.Actions names; an
// unknown one is a field error and nothing changes). The actor administers the member's
// organisation and the member is managed by it, or the actor is a service administrator;
// the account must not hold rights beyond the actor's (managedMember). Records one event
// with the lists before and after. Returns the list now stored.
func (s *Service) SetRequiredActions(ctx context.Context, actor passport.Actor, orgID, accountID string, actions []string) ([]string, error) {
	m, err := s.managedMember(ctx, actor, orgID, accountID)
	if err != nil {
		return nil, err
	}
	list, err := passport.NormalizeActions(actions)
	if err != nil {
		return nil, err
	}
	// Confirming an address the account lacks means adding one, which a locked field
	// forbids the person: the step could never be done.
	for _, x := range []struct {
		action string
		field  passport.Field
	}{{passport.ActionConfirmEmail, passport.FieldEmail}, {passport.ActionConfirmPhone, passport.FieldPhone}} {
		if slices.Contains(list, x.action) && !m.Account.HasValue(x.field) && s.Rules.IsLocked(m.Account, x.field) {
			return nil, passport.FieldError("actions", "The account has no %s and the organisation manages it: the person could not confirm one.",
				passport.Text(passport.FieldLabels[x.field]))
		}
	}
	return s.DB.SetRequiredActions(in(ctx, actor, m.Membership.OrgID), m.Account.ID, m.Membership.OrgID, list)
}

// SetOrgTwoFactor turns the organisation's "two factors for every member" on or off: its
// members without two factors get the enrol_two_factor step at their next sign-in. The
// actor administers the organisation.
func (s *Service) SetOrgTwoFactor(ctx context.Context, actor passport.Actor, orgID string, on bool) error {
	o, err := s.Org(ctx, actor, orgID)
	if err != nil {
		return err
	}
	return s.DB.SetOrgRequireTwoFactor(in(ctx, actor, o.ID), o.ID, on)
}

// ChangeTemporaryPassword is the change_password step after sign-in: the person, who has
// just signed in with the issued password, chooses their own. The current password is not
// asked again (the caller asks it when the sign-in is not fresh). The new one is typed twice,
// must meet the policy and differ from the issued one. In one transaction: the password, no
// expiry, the action off the list, the issued credentials voided, every other session ended
// (keepSessionID goes on) and every token revoked, the notice queued, password.changed
// recorded. Only the person does this, and only while the action is pending.
func (s *Service) ChangeTemporaryPassword(ctx context.Context, actor passport.Actor, a *passport.Account, next, repeat, keepSessionID string) error {
	if actor.Kind != passport.ActorPerson || actor.AccountID != a.ID {
		return passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	if !slices.Contains(a.RequiredActions, passport.ActionChangePassword) {
		return passport.Errorf(passport.ECONFLICT, "Your password does not need changing any more.")
	}
	if err := passport.CheckPasswordPolicy(next, a.Login); err != nil {
		e := *passport.AsError(err)
		e.Field = "new_password"
		return &e
	}
	if next != repeat {
		return passport.FieldError("repeat_password", "The repeated password is not the same as the new one.")
	}
	if same, _, err := passport.CheckPassword(ctx, a.PasswordHash, next, s.Argon2); err != nil {
		return err
	} else if same {
		return passport.FieldError("new_password", "Choose a password different from the current one.")
	}
	hash, err := passport.HashPassword(ctx, next, s.Argon2)
	if err != nil {
		return err
	}
	var notice []passport.Outgoing
	if s.Notices != nil {
		if notice, err = s.Notices(NoticePasswordChanged, a, s.DB.Now()); err != nil {
			return err
		}
	}
	return s.DB.ChangeTemporaryPassword(passport.WithActor(ctx, actor), a.ID, a.PasswordHash, hash, keepSessionID, notice)
}
