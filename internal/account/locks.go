package account

import (
	"context"
	"slices"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// Locked fields and unlocking (SPEC §2): the profile schema every edit door renders from,
// the administrator's per-account unlock (optionally until a time) and re-lock, and the
// administrator's edit of a managed member's profile.

// Lock reasons of FieldSchema.Reason.
const (
	ReasonLocked        = "locked"         // the organisation's administrator edits it
	ReasonNeverEditable = "never_editable" // nobody edits it through the profile
)

// FieldSchema is what one profile field allows the person: the same answer for the
// cabinet's edit page, GET /api/v1/me/profile/schema and the administrator's view.
type FieldSchema struct {
	Field passport.Field
	Label string // a sentence of the catalogue
	// Access is the policy's answer for the account's registration method ("" for a field
	// nobody edits).
	Access   passport.Access
	Editable bool // the person may change it now
	Required bool
	// Reason says why not, when not editable: ReasonLocked or ReasonNeverEditable, with
	// the sentence to show (Message) and, for a lock, the organisation to ask (Org, when the
	// account has one).
	Reason  string
	Message *passport.Error
	Org     *passport.Membership
	// Unlocked: an administrator unlocked this locked field for the account, until
	// UnlockedUntil (nil: until locked again).
	Unlocked      bool
	UnlockedUntil *time.Time
	Publicity     passport.Publicity
}

// managingOrg is the organisation a person asks about a locked field: the active one that
// manages the account. None for an account that only joined organisations: their
// administrators can neither edit nor unlock its fields (mayEdit, managedMember), so naming
// one would send the person to somebody who cannot help.
func managingOrg(a *passport.Account) (passport.Membership, bool) {
	for _, m := range a.ActiveMemberships() {
		if m.Managed {
			return m, true
		}
	}
	return passport.Membership{}, false
}

// FieldSchemas describes every profile field of a for the person (see FieldSchema).
func FieldSchemas(r passport.Rules, a *passport.Account) []FieldSchema {
	out := make([]FieldSchema, 0, len(passport.Fields))
	org, hasOrg := managingOrg(a)
	for _, f := range passport.Fields {
		fs := FieldSchema{Field: f, Label: passport.FieldLabels[f], Access: r.Access(a.RegistrationMethod, f),
			Required: r.IsRequired(a.RegistrationMethod, f), Publicity: r.Level(a, f), Editable: true}
		switch {
		case slices.Contains(passport.NeverEditable, f):
			fs.Editable, fs.Reason = false, ReasonNeverEditable
			fs.Message = passport.FieldError(string(f), "%s cannot be changed here.", passport.Text(fs.Label))
			if f == passport.FieldOrganization {
				fs.Message = passport.FieldError(string(f), "Set by your organisation's administrator.")
			}
		case r.IsLocked(a, f):
			fs.Editable, fs.Reason, fs.Message = false, ReasonLocked, LockedFor(a, f)
			if hasOrg {
				fs.Org = &org
			}
		case fs.Access == passport.AccessAdmin:
			fs.UnlockedUntil, fs.Unlocked = a.UnlockedUntil(f)
		}
		out = append(out, fs)
	}
	return out
}

// Schema describes the account's profile fields as its holder may edit them. The person
// asks about their own account; an administrator about an account in their scope (the
// member page); anyone else gets ENOTFOUND.
func (s *Service) Schema(ctx context.Context, actor passport.Actor, accountID string) ([]FieldSchema, error) {
	a, err := s.DB.Account(ctx, accountID)
	if err != nil || a.Status == passport.StatusDeleted {
		return nil, passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	switch actor.Kind {
	case passport.ActorPerson:
		if actor.AccountID != a.ID {
			return nil, passport.Errorf(passport.ENOTFOUND, "No such account.")
		}
	case passport.ActorSystem:
	default:
		if _, err := s.OrgOfAccount(ctx, actor, accountID); err != nil {
			return nil, err
		}
	}
	return FieldSchemas(s.Rules, a), nil
}

// CheckEditable refuses the person's change of f on a when the field is locked for them,
// with the sentence that names the organisation to ask: the doors that change a field
// outside UpdateProfile (photo, email and phone changes) call it first.
func (s *Service) CheckEditable(a *passport.Account, f passport.Field) error {
	if s.Rules.IsLocked(a, f) {
		return LockedFor(a, f)
	}
	return nil
}

// lockable parses a field an administrator unlocks or re-locks: one the policy gives to the
// administrator for the account's registration method.
func (s *Service) lockable(a *passport.Account, field string) (passport.Field, error) {
	f, err := passport.ParseField(field)
	if err != nil {
		return "", passport.FieldError("field", "Unknown profile field %q.", field)
	}
	if s.Rules.Access(a.RegistrationMethod, f) != passport.AccessAdmin {
		return "", passport.FieldError("field", "%s is not locked for this account: its holder can change it already.",
			passport.Text(passport.FieldLabels[f]))
	}
	return f, nil
}

// MaxUnlockYears bounds how far away the end of an unlock may be (the refusal says "ten").
const MaxUnlockYears = 10

// Unlock lets the holder of a managed member's account change a locked field themselves,
// until the given time (nil: until locked again); unlocking again replaces the end. The
// actor administers orgID, which manages the account (a service administrator reaches any
// account, orgID "" for one in no organisation); another organisation's member answers
// ENOTFOUND. Records profile.unlocked, which the person sees in their feed.
func (s *Service) Unlock(ctx context.Context, actor passport.Actor, orgID, accountID, field string, until *time.Time) error {
	m, err := s.managedMember(ctx, actor, orgID, accountID)
	if err != nil {
		return err
	}
	f, err := s.lockable(m.Account, field)
	if err != nil {
		return err
	}
	if until != nil && !until.After(s.DB.Now()) {
		return passport.FieldError("until", "The end of the unlock must be in the future.")
	}
	if until != nil && until.After(s.DB.Now().AddDate(MaxUnlockYears, 0, 0)) {
		// Further is "until locked again" in effect; and an end past the year 9999 would be
		// stored as a time no reader can parse back, making the account unreadable.
		return passport.FieldError("until", "The end of the unlock can be at most ten years away: leave it empty to unlock until locked again.")
	}
	return s.DB.UnlockField(in(ctx, actor, m.Membership.OrgID), m.Account.ID, m.Membership.OrgID, string(f), until)
}

// Relock locks an unlocked field again at once (scoped as Unlock). Records
// profile.relocked when the field was still unlocked; re-locking a locked field changes
// nothing.
func (s *Service) Relock(ctx context.Context, actor passport.Actor, orgID, accountID, field string) error {
	m, err := s.managedMember(ctx, actor, orgID, accountID)
	if err != nil {
		return err
	}
	f, err := s.lockable(m.Account, field)
	if err != nil {
		return err
	}
	_, err = s.DB.RelockField(in(ctx, actor, m.Membership.OrgID), m.Account.ID, m.Membership.OrgID, string(f))
	return err
}

// UpdateMemberProfile is an administrator's edit of a managed member's profile (locked
// fields included, SPEC §2), scoped as Unlock. An email address or phone number set here
// is unconfirmed: a contact-confirmation request asks the person to confirm it.
func (s *Service) UpdateMemberProfile(ctx context.Context, actor passport.Actor, orgID, accountID string, in ProfileInput) (*passport.Account, FieldErrors, error) {
	m, err := s.managedMember(ctx, actor, orgID, accountID)
	if err != nil {
		return nil, nil, err
	}
	return s.UpdateProfile(ctx, actor, m.Account.ID, in)
}
