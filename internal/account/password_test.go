package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// TestChangePassword: only the person, with the current password, to one that meets the
// policy; the change records one event and queues the notice the hook built.
func TestChangePassword(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.Argon2 = passport.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}
	w.svc.Limits = account.Limits{Window: time.Minute, PerAccount: 5}
	var noticed []string
	w.svc.Notices = func(kind string, a *passport.Account, at time.Time) ([]passport.Outgoing, error) {
		noticed = append(noticed, kind)
		return nil, nil
	}
	a, err := w.svc.Validate(ctx, account.NewAccount{Login: "pw-person", Email: "pw@example.org", Password: "first-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	self := passport.Actor{Kind: passport.ActorPerson, AccountID: a.ID}
	if err := w.svc.ChangePassword(ctx, w.adminA, a, "first-password-1", "second-password-2"); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("an administrator changing a password: %v", err)
	}
	if err := w.svc.ChangePassword(ctx, self, a, "wrong-password-9", "second-password-2"); passport.AsError(err) == nil || passport.AsError(err).Field != "current_password" {
		t.Errorf("wrong current password: %v", err)
	}
	if err := w.svc.ChangePassword(ctx, self, a, "first-password-1", "short"); passport.AsError(err) == nil || passport.AsError(err).Field != "new_password" {
		t.Errorf("weak new password: %v", err)
	}
	after := maxEvent(t, w.db)
	if err := w.svc.ChangePassword(ctx, self, a, "first-password-1", "second-password-2"); err != nil {
		t.Fatal(err)
	}
	if es := eventsSince(t, w.db, after); len(es) != 1 || es[0].Type != passport.EventPasswordChanged || es[0].Actor.Kind != passport.ActorPerson {
		t.Errorf("events: %+v", es)
	}
	if len(noticed) != 1 || noticed[0] != account.NoticePasswordChanged {
		t.Errorf("notices: %v", noticed)
	}
}
