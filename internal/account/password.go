package account

import (
	"context"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// Limits are the attempt limits of actions that check a password.
type Limits struct {
	Window     time.Duration // the rate-limit window
	PerAccount int           // wrong passwords per account and window
}

// ChangePassword changes the person's own password: the current one is checked
// (rate-limited like sign-in), the new one must meet the policy and differ; then, in one
// transaction, every session ends, every token is revoked, the notice is queued and
// password.changed is recorded. Only the person changes their password this way
// (administrators issue credentials instead, issue 13).
func (s *Service) ChangePassword(ctx context.Context, actor passport.Actor, a *passport.Account, current, next string) error {
	if actor.Kind != passport.ActorPerson || actor.AccountID != a.ID {
		return passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	if err := s.checkCurrent(ctx, a, current); err != nil {
		return err
	}
	if err := passport.CheckPasswordPolicy(next, a.Login); err != nil {
		e := *passport.AsError(err)
		e.Field = "new_password"
		return &e
	}
	if next == current {
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
	return s.DB.ChangePassword(passport.WithActor(ctx, actor), a.ID, hash, notice)
}

// CheckCurrentPassword checks the password of a signed-in person asked for it again (a
// step after a sign-in long ago), rate-limited like sign-in: an issued password past its
// end proves nothing any more.
func (s *Service) CheckCurrentPassword(ctx context.Context, actor passport.Actor, a *passport.Account, password string) error {
	if actor.Kind != passport.ActorPerson || actor.AccountID != a.ID {
		return passport.Errorf(passport.ENOTFOUND, "No such account.")
	}
	if err := s.checkCurrent(ctx, a, password); err != nil {
		return err
	}
	if a.PasswordExpiresAt != nil && !a.PasswordExpiresAt.After(s.DB.Now()) {
		return passport.FieldError("current_password", "Your temporary password has expired. Ask your administrator for new login details.")
	}
	return nil
}

// checkCurrent checks a's current password, at most Limits.PerAccount wrong ones per
// window; a right one resets the count.
func (s *Service) checkCurrent(ctx context.Context, a *passport.Account, password string) error {
	key := "password:" + a.ID
	if n, _, err := s.DB.Hit(ctx, key, s.Limits.Window); err != nil {
		return err
	} else if n > s.Limits.PerAccount {
		return &passport.Error{Code: passport.ELIMITED, Field: "current_password", Message: "Too many attempts. Try again later."}
	}
	if ok, _, err := passport.CheckPassword(ctx, a.PasswordHash, password, s.Argon2); err != nil {
		return err
	} else if !ok {
		return passport.FieldError("current_password", "This is not your current password.")
	}
	return s.DB.ResetLimit(ctx, key)
}

// Notices a change sends the person (message kinds of the templates).
const (
	NoticePasswordChanged = "password_changed"
)
