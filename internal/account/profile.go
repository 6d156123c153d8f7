package account

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// The person's profile: the main information and publicity. The cabinet, the account API
// and (for locked fields, issue 13) the admin doors all change it here.

// FieldErrors maps an input name to the message shown next to it, still untranslated.
type FieldErrors map[string]*passport.Error

// ProfileInput is an edit of the main information; nil means "leave as is".
type ProfileInput struct {
	Nickname   *string `json:"nickname"`
	GivenName  *string `json:"given_name"`
	FamilyName *string `json:"family_name"`
	Birthdate  *string `json:"birthdate"` // YYYY-MM-DD, "" to clear
	Locale     *string `json:"locale"`    // en, ru, et, nl or sv; "" to clear
	// Email may be set by the person only while the account has none (the sign-in's
	// profile completion); the person changes an address through its confirmation. An
	// administrator of the organisation managing the account sets it (and Phone, E.164)
	// unconfirmed: a contact-confirmation request then asks the person to confirm it.
	Email *string `json:"email,omitempty"`
	Phone *string `json:"phone,omitempty"`
}

// earliestBirthdate bounds birth dates from below; anything earlier is a typo.
var earliestBirthdate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// mayEdit decides whether actor may change accountID's profile and whether the fields the
// organisation locks are locked for them: the person themselves (locks apply), the system
// (command line; locks do not), an administrator of an organisation that manages the account
// or a service administrator (locks do not: SPEC §2, "an admin can edit a locked field"); an
// organisation the person merely joined gets EFORBIDDEN. Anyone else: ENOTFOUND.
func mayEdit(actor passport.Actor, a *passport.Account) (locksApply bool, err error) {
	switch actor.Kind {
	case passport.ActorPerson:
		if actor.AccountID == a.ID {
			return true, nil
		}
	case passport.ActorSystem:
		return false, nil
	case passport.ActorAdmin, passport.ActorClient:
		if actor.Authority.Service() {
			return false, nil
		}
		inScope := false
		for _, m := range a.Memberships {
			if actor.Authority.CanAdminOrg(m.OrgID) {
				if m.Managed {
					return false, nil
				}
				inScope = true
			}
		}
		if inScope {
			// A person who merely joined keeps their profile their own.
			return false, passport.Errorf(passport.EFORBIDDEN,
				"This account joined the organisation and is not managed by it: only a service administrator can do this.")
		}
	}
	return false, passport.Errorf(passport.ENOTFOUND, "No such account.")
}

// acting completes an administrator's actor with the role and organisation through which
// they reach the account (its organisations they administer, managed ones first), so the
// event names them; the person and the system act as they are.
func (s *Service) acting(ctx context.Context, actor passport.Actor, accountID string) (passport.Actor, error) {
	if actor.Kind != passport.ActorAdmin && actor.Kind != passport.ActorClient {
		return actor, nil
	}
	orgID, err := s.OrgOfAccount(ctx, actor, accountID)
	if err != nil {
		return actor, err
	}
	return passport.ActorFrom(in(ctx, actor, orgID)), nil
}

// UpdateProfile validates every field of in and saves them all, or nothing when any is
// wrong, recording profile.changed with the names (not the values) of what changed. Fields
// the organisation manages cannot be changed by the person; the message names the
// administrator.
func (s *Service) UpdateProfile(ctx context.Context, actor passport.Actor, accountID string, in ProfileInput) (*passport.Account, FieldErrors, error) {
	actor, err := s.acting(ctx, actor, accountID)
	if err != nil {
		return nil, nil, err
	}
	errs := FieldErrors{}
	var changed []string
	a, err := s.DB.UpdateAccount(passport.WithActor(ctx, actor), accountID, func(a *passport.Account) error {
		locksApply, err := mayEdit(actor, a)
		if err != nil {
			return err
		}
		locked := func(f passport.Field) bool { return locksApply && s.Rules.IsLocked(a, f) }
		set := func(f passport.Field, input *string, dst *string) {
			if input == nil {
				return
			}
			label := passport.FieldLabels[f]
			v := strings.TrimSpace(*input)
			if v == *dst {
				return
			}
			if locked(f) {
				errs[string(f)] = LockedFor(a, f)
				return
			}
			if err := passport.ValidateName(string(f), label, v); err != nil {
				errs[string(f)] = passport.AsError(err)
				return
			}
			*dst = v
			changed = append(changed, string(f))
		}
		set(passport.FieldNickname, in.Nickname, &a.Nickname)
		set(passport.FieldGivenName, in.GivenName, &a.GivenName)
		set(passport.FieldFamilyName, in.FamilyName, &a.FamilyName)
		if in.Birthdate != nil {
			if d, msg := s.ParseBirthdate(*in.Birthdate); msg != nil {
				errs["birthdate"] = msg
			} else if !sameDate(d, a.Birthdate) {
				if locked(passport.FieldBirthdate) {
					errs["birthdate"] = LockedFor(a, passport.FieldBirthdate)
				} else {
					a.Birthdate = d
					changed = append(changed, "birthdate")
				}
			}
		}
		if in.Locale != nil {
			// One of the languages Passport speaks, or "" for none chosen.
			if v := strings.TrimSpace(*in.Locale); v != "" && !slices.Contains(Languages, v) {
				errs["locale"] = passport.FieldError("locale", "Choose one of the languages offered.")
			} else if v != a.Locale && locked(passport.FieldLocale) {
				errs["locale"] = LockedFor(a, passport.FieldLocale)
			} else if v != a.Locale {
				a.Locale = v
				changed = append(changed, "locale")
			}
		}
		if in.Email != nil && strings.TrimSpace(*in.Email) != a.Email {
			switch email, err := passport.NormalizeEmail(*in.Email); {
			case err == nil && strings.EqualFold(email, a.Email):
				// The same address spelt otherwise stays confirmed (as startEmailChange
				// holds it): only an administrator's spelling is kept.
				if !locksApply && email != a.Email {
					a.Email = email
					changed = append(changed, "email")
				}
			case locked(passport.FieldEmail):
				errs["email"] = LockedFor(a, passport.FieldEmail)
			case a.Email != "" && locksApply:
				errs["email"] = passport.FieldError("email", "Your email address is changed from the cabinet, with a confirmation.")
			case strings.TrimSpace(*in.Email) == "" && !locksApply:
				a.Email, a.EmailVerified = "", false
				changed = append(changed, "email")
			case err != nil:
				errs["email"] = passport.AsError(err)
			default:
				a.Email, a.EmailVerified = email, false
				changed = append(changed, "email")
			}
		}
		if in.Phone != nil && strings.TrimSpace(*in.Phone) != a.Phone {
			v := strings.TrimSpace(*in.Phone)
			switch {
			case locksApply:
				errs["phone"] = passport.FieldError("phone", "Your phone number is changed from the cabinet, with a confirmation.")
			case v == "":
				a.Phone, a.PhoneVerified = "", false
				changed = append(changed, "phone")
			default:
				if phone, err := passport.NormalizePhone(v, ""); err != nil {
					errs["phone"] = passport.AsError(err)
				} else if phone != a.Phone {
					a.Phone, a.PhoneVerified = phone, false
					changed = append(changed, "phone")
				}
			}
		}
		if !locksApply {
			s.checkContactsKept(a, changed, errs)
		}
		if len(errs) > 0 {
			return passport.Errorf(passport.EINVALID, "Some fields need your attention.")
		}
		return nil
	}, func(a *passport.Account) []passport.Event {
		if len(changed) == 0 {
			return nil
		}
		return []passport.Event{{Type: passport.EventProfileChanged, AccountID: a.ID, OrgID: actor.OrgID,
			Details: map[string]any{"fields": changed}}}
	})
	if len(errs) > 0 {
		return nil, errs, nil
	}
	return a, nil, err
}

// checkContactsKept refuses an administrator's (or the system's) edit that clears the email
// address or phone number a as edited no longer holds, when that leaves the account no way
// to be reached (a member is created with one at least, and the person may not delete their
// last) or leaves a confirmation step in its list that the person could never take (the
// field is locked for them, so they could not add one: SetRequiredActions refuses that too).
func (s *Service) checkContactsKept(a *passport.Account, changed []string, errs FieldErrors) {
	for _, x := range []struct {
		field  passport.Field
		action string
		value  string
	}{{passport.FieldEmail, passport.ActionConfirmEmail, a.Email}, {passport.FieldPhone, passport.ActionConfirmPhone, a.Phone}} {
		f := string(x.field)
		if x.value != "" || !slices.Contains(changed, f) || errs[f] != nil {
			continue
		}
		switch {
		case a.Email == "" && a.Phone == "":
			errs[f] = passport.FieldError(f, "Give an email address or a phone number.")
		case slices.Contains(a.RequiredActions, x.action) && s.Rules.IsLocked(a, x.field):
			errs[f] = passport.FieldError(f, "The account has no %s and the organisation manages it: the person could not confirm one.",
				passport.Text(passport.FieldLabels[x.field]))
		}
	}
}

// LockedMessage refuses a change of a field the organisation manages, without naming the
// organisation; label is a sentence of the catalogue. LockedFor names it.
func LockedMessage(f passport.Field, label string) *passport.Error {
	return passport.FieldError(string(f), "%s is managed by your organisation: ask your administrator to change it.", passport.Text(label))
}

// LockedFor refuses the person's change of a field locked on their account, naming the
// organisation to ask (the one that manages the account, else the primary one); an account
// in no organisation gets the general sentence.
func LockedFor(a *passport.Account, f passport.Field) *passport.Error {
	label := passport.FieldLabels[f]
	if m, ok := managingOrg(a); ok {
		return passport.FieldError(string(f), "%s is managed by %s: ask its administrator to change it.", passport.Text(label), m.OrgName)
	}
	return LockedMessage(f, label)
}

// ParseBirthdate reads a birth date (YYYY-MM-DD, "" for none): not in the future, not
// before 1900.
func (s *Service) ParseBirthdate(v string) (*time.Time, *passport.Error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, passport.FieldError("birthdate", "Enter the date as YYYY-MM-DD, for example 1990-04-23.")
	}
	if d.After(s.DB.Now()) {
		return nil, passport.FieldError("birthdate", "Birth date cannot be in the future.")
	}
	if d.Before(earliestBirthdate) {
		return nil, passport.FieldError("birthdate", "Birth date cannot be before 1900.")
	}
	return &d, nil
}

func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// PublicityInput is an edit of publicity: field -> level, and the private-profile switch.
type PublicityInput struct {
	Fields         map[string]string `json:"fields"`
	PrivateProfile *bool             `json:"private_profile"`
}

// SetPublicity validates every level first and saves all or nothing. Publicity is the
// person's alone: nobody else may set it (an administrator gets EFORBIDDEN for an account in
// scope, ENOTFOUND otherwise).
func (s *Service) SetPublicity(ctx context.Context, actor passport.Actor, accountID string, in PublicityInput) (*passport.Account, FieldErrors, error) {
	errs := FieldErrors{}
	levels := map[passport.Field]passport.Publicity{}
	for name, level := range in.Fields {
		f, err := passport.ParseField(name)
		if err != nil {
			errs[name] = passport.AsError(err)
			continue
		}
		p, err := passport.ParsePublicity(level)
		if err != nil {
			errs[name] = passport.AsError(err)
			continue
		}
		levels[f] = p
	}
	if len(errs) > 0 {
		return nil, errs, nil
	}
	var changed []string
	private := false
	a, err := s.DB.UpdateAccount(passport.WithActor(ctx, actor), accountID, func(a *passport.Account) error {
		if _, err := mayEdit(actor, a); err != nil {
			return err
		}
		if actor.Kind != passport.ActorPerson && actor.Kind != passport.ActorSystem {
			return passport.Errorf(passport.EFORBIDDEN, "Only the person chooses who sees their data.")
		}
		for f, p := range levels {
			if s.Rules.Level(a, f) != p {
				changed = append(changed, string(f))
			}
			a.Publicity[f] = p
		}
		if in.PrivateProfile != nil && *in.PrivateProfile != a.PrivateProfile {
			a.PrivateProfile = *in.PrivateProfile
			private = true
		}
		return nil
	}, func(a *passport.Account) []passport.Event {
		if len(changed) == 0 && !private {
			return nil
		}
		d := map[string]any{"fields": passport.NonNil(changed)}
		if private {
			d["private_profile"] = a.PrivateProfile
		}
		return []passport.Event{{Type: passport.EventPublicityChanged, AccountID: a.ID, Details: d}}
	})
	return a, nil, err
}
