package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// TestUnlockEndWithinReach: an unlock's end more than ten years away (the year 10000
// among them, which the account's stored unlocks could not be read back with) is refused on
// the until field and stores nothing; ten years less a day is accepted.
func TestUnlockEndWithinReach(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.Rules = passport.NewRules(passport.Rules{Locked: map[string][]passport.Field{
		passport.RegisteredSelf: {passport.FieldGivenName}}})
	now := w.db.Now()
	for what, until := range map[string]time.Time{
		"eleven years":   now.AddDate(11, 0, 0),
		"the year 10000": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if err := w.svc.Unlock(ctx, w.adminA, w.orgA, w.managedA, "given_name", &until); passport.AsError(err).Field != "until" {
			t.Errorf("%s: %v", what, err)
		}
	}
	a, err := w.db.Account(ctx, w.managedA)
	if err != nil || len(a.FieldUnlocks) != 0 {
		t.Fatalf("after the refusals: %v %v", a.FieldUnlocks, err)
	}
	ok := now.AddDate(10, 0, -1)
	if err := w.svc.Unlock(ctx, w.adminA, w.orgA, w.managedA, "given_name", &ok); err != nil {
		t.Fatalf("ten years less a day: %v", err)
	}
	if a, err := w.db.Account(ctx, w.managedA); err != nil || !a.FieldUnlocks["given_name"].Equal(ok.UTC().Truncate(time.Second)) {
		t.Errorf("stored: %v %v", a, err)
	}
}

// TestLockNamesOnlyAManagingOrganisation: a field locked on an account that only
// joined an organisation is refused without naming that organisation, whose administrators
// can neither change nor unlock it; the managed member's refusal names theirs.
func TestLockNamesOnlyAManagingOrganisation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.Rules = passport.NewRules(passport.Rules{Locked: map[string][]passport.Field{
		passport.RegisteredSelf: {passport.FieldGivenName}}})
	name := "Grace"
	for _, x := range []struct {
		id   string
		want int // arguments of the refusal: the label, and the organisation when it names one
	}{{w.managedA, 2}, {w.joinedA, 1}} {
		_, errs, err := w.svc.UpdateProfile(ctx, passport.Actor{Kind: passport.ActorPerson, AccountID: x.id}, x.id,
			account.ProfileInput{GivenName: &name})
		if err != nil || errs["given_name"] == nil || len(errs["given_name"].Args) != x.want {
			t.Errorf("%s: %v %v", x.id, errs, err)
		}
		fields, err := w.svc.Schema(ctx, passport.Actor{Kind: passport.ActorPerson, AccountID: x.id}, x.id)
		if err != nil {
			t.Fatal(err)
		}
		for _, fs := range fields {
			if fs.Field == passport.FieldGivenName && (fs.Org != nil) != (x.want == 2) {
				t.Errorf("%s: the schema names %v", x.id, fs.Org)
			}
		}
	}
	// Why: the joined organisation's administrator cannot help.
	if err := w.svc.Unlock(ctx, w.adminA, w.orgA, w.joinedA, "given_name", nil); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("unlock of a joined member: %v", err)
	}
}
