package account_test

import (
	"context"
	"testing"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// An administrator's email and phone edits, and the fields a new member must carry.

// TestAdministratorCannotClearALockedContactWhoseConfirmStepIsPending: the phone is the
// organisation's (policy) and the member must confirm it; clearing it would leave a step
// asking the person to add a number they may not add: every sign-in and the cabinet would
// stop there. SetRequiredActions refuses that state; the profile edit must too.
func TestAdministratorCannotClearALockedContactWhoseConfirmStepIsPending(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	w.svc.Rules = passport.NewRules(passport.Rules{Locked: map[string][]passport.Field{"admin": {passport.FieldPhone}}})
	a, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("Phoned.#"),
		Email: uniq("phoned#@example.org"), Phone: "+372 5123 4567"}, nil)
	if err != nil || len(errs) > 0 {
		t.Fatalf("create: %v %v", errs, err)
	}
	if _, err := w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, a.ID, []string{passport.ActionConfirmPhone}); err != nil {
		t.Fatal(err)
	}
	empty := ""
	if _, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, a.ID, account.ProfileInput{Phone: &empty}); err != nil || errs["phone"] == nil {
		t.Errorf("clearing the locked phone the person must confirm: %v %v, want a field error on phone", errs, err)
	}
	if got := actionsOfAccount(t, w, a.ID); len(got) != 1 {
		t.Fatalf("actions: %v", got)
	}
	if now, err := w.db.Account(ctx, a.ID); err != nil || now.Phone != "+37251234567" {
		t.Errorf("the phone after a refused clear: %v %v", now, err)
	}
	// With no confirm step listed, the administrator may clear it (the email remains).
	if _, err := w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, a.ID, []string{}); err != nil {
		t.Fatal(err)
	}
	if _, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, a.ID, account.ProfileInput{Phone: &empty}); err != nil || len(errs) > 0 {
		t.Errorf("clearing the phone without a confirm step: %v %v", errs, err)
	}
}

// TestAdministratorCannotLeaveAMemberWithoutEmailOrPhone: a member is created with one of
// them at least, and the person may not delete their last; an administrator's edit may
// not clear the only one either (nothing could reach the person, no login details could
// be sent), nor both at once.
func TestAdministratorCannotLeaveAMemberWithoutEmailOrPhone(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	a, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("Only.#"), Email: uniq("only#@example.org")}, nil)
	if err != nil || len(errs) > 0 {
		t.Fatalf("create: %v %v", errs, err)
	}
	empty, phone := "", "+372 5123 4567"
	if _, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, a.ID, account.ProfileInput{Email: &empty}); err != nil || errs["email"] == nil {
		t.Errorf("clearing the only contact: %v %v, want a field error on email", errs, err)
	}
	if _, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, a.ID, account.ProfileInput{Phone: &phone}); err != nil || len(errs) > 0 {
		t.Fatalf("adding a phone: %v %v", errs, err)
	}
	if _, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, a.ID, account.ProfileInput{Email: &empty, Phone: &empty}); err != nil ||
		errs["email"] == nil || errs["phone"] == nil {
		t.Errorf("clearing both: %v %v, want a field error on each", errs, err)
	}
	if _, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, a.ID, account.ProfileInput{Email: &empty}); err != nil || len(errs) > 0 {
		t.Errorf("clearing the email while a phone remains: %v %v", errs, err)
	}
	if now, err := w.db.Account(ctx, a.ID); err != nil || now.Email != "" || now.Phone != "+37251234567" {
		t.Errorf("contacts: %v %v", now, err)
	}
}

// TestTheSameEmailInAnotherLetterCaseStaysConfirmed: an administrator retyping a confirmed
// address with the domain (or the name) in other letters is not a new address: it stays
// confirmed. The person sending their own address so is no change and no refusal.
func TestTheSameEmailInAnotherLetterCaseStaysConfirmed(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	email := uniq("case#@example.org")
	a, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("Case.#"), Email: email}, nil)
	if err != nil || len(errs) > 0 {
		t.Fatalf("create: %v %v", errs, err)
	}
	if _, err := w.db.Pool().Exec(ctx, `UPDATE accounts SET email_verified = true WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	events := count(t, w, `SELECT count(*) FROM security_events WHERE account_id = $1`, a.ID)
	domainUpper := email[:len(email)-len("example.org")] + "EXAMPLE.ORG"
	if _, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, a.ID, account.ProfileInput{Email: &domainUpper}); err != nil || len(errs) > 0 {
		t.Fatalf("the same address, domain in capitals: %v %v", errs, err)
	}
	now, err := w.db.Account(ctx, a.ID)
	if err != nil || now.Email != email || !now.EmailVerified {
		t.Errorf("after retyping the same address: %q verified %v (%v), want %q confirmed", now.Email, now.EmailVerified, err, email)
	}
	if n := count(t, w, `SELECT count(*) FROM security_events WHERE account_id = $1`, a.ID); n != events {
		t.Errorf("retyping the same address recorded %d events", n-events)
	}
	person := passport.Actor{Kind: passport.ActorPerson, AccountID: a.ID}
	if _, errs, err := w.svc.UpdateProfile(ctx, person, a.ID, account.ProfileInput{Email: &domainUpper}); err != nil || len(errs) > 0 {
		t.Errorf("the person sending their own address in capitals: %v %v", errs, err)
	}
	if now, _ := w.db.Account(ctx, a.ID); now.Email != email || !now.EmailVerified {
		t.Errorf("after the person's send: %q %v", now.Email, now.EmailVerified)
	}
}

// TestARequiredLockedPublicNameDoesNotRefuseEveryNewMember: a valid policy may require the
// public name and give it to the administrator; a new member carries no public name (not
// in the form, the API or the CSV), so demanding it at creation refuses every member at
// every door. The administrator sets it on the member page afterwards.
func TestARequiredLockedPublicNameDoesNotRefuseEveryNewMember(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	w.svc.Rules = passport.NewRules(passport.Rules{
		Required: []passport.Field{passport.FieldGivenName, passport.FieldNickname},
		Locked:   map[string][]passport.Field{"admin": {passport.FieldGivenName, passport.FieldNickname}}})
	a, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("Nick.#"), Email: uniq("nick#@example.org"),
		GivenName: "Mari"}, nil)
	if err != nil || len(errs) > 0 {
		t.Fatalf("a member with every field a member carries: %v %v", errs, err)
	}
	nick := "Mari T"
	if _, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, a.ID, account.ProfileInput{Nickname: &nick}); err != nil || len(errs) > 0 {
		t.Errorf("the administrator sets the public name afterwards: %v %v", errs, err)
	}
	// The fields a member does carry are still demanded.
	if _, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("Nameless.#"),
		Email: uniq("nameless#@example.org")}, nil); err != nil || errs["given_name"] == nil || len(errs) != 1 {
		t.Errorf("a member without the given name: %v %v, want one error on given_name", errs, err)
	}
}
