package account_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// Required actions against what happens meanwhile (read-through review of issue 13).

// actionsOfAccount reads the stored required actions.
func actionsOfAccount(t *testing.T, w *world, id string) []string {
	t.Helper()
	a, err := w.db.Account(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.RequiredActions
}

// TestStaleDoneActionIsNotDropped: a request saw two factors on and an email confirmed, so
// it drops enrol_two_factor and confirm_email as done; meanwhile an administrator reset the
// two factors and the address is unconfirmed. The actions stay: facts read a moment ago do
// not undo a later reset.
func TestStaleDoneActionIsNotDropped(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	if _, err := w.db.Pool().Exec(ctx, `UPDATE accounts SET required_actions = '{confirm_email,enrol_two_factor}', email_verified = false
		WHERE id = $1`, w.managedA); err != nil {
		t.Fatal(err)
	}
	if err := w.db.DropRequiredActions(ctx, w.managedA, []string{passport.ActionConfirmEmail, passport.ActionEnrolTwoFactor}); err != nil {
		t.Fatal(err)
	}
	if got := actionsOfAccount(t, w, w.managedA); !slices.Equal(got, []string{passport.ActionConfirmEmail, passport.ActionEnrolTwoFactor}) {
		t.Errorf("actions after a stale drop: %v, want both kept", got)
	}
	// Once the facts hold, the drop goes through.
	if _, err := w.db.Pool().Exec(ctx, `UPDATE accounts SET email_verified = true WHERE id = $1`, w.managedA); err != nil {
		t.Fatal(err)
	}
	if err := w.db.DropRequiredActions(ctx, w.managedA, []string{passport.ActionConfirmEmail}); err != nil {
		t.Fatal(err)
	}
	if got := actionsOfAccount(t, w, w.managedA); !slices.Equal(got, []string{passport.ActionEnrolTwoFactor}) {
		t.Errorf("actions after a true drop: %v", got)
	}
}

// TestSavingTheSameActionsRecordsNothing: a list stored by another door (a two-factor
// reset appends) saved again unchanged from the member page is no change and no event.
func TestSavingTheSameActionsRecordsNothing(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	if _, err := w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, w.managedA, []string{passport.ActionFillRequired}); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.ResetTwoFactor(ctx, w.adminA, w.orgA, w.managedA); err != nil {
		t.Fatal(err)
	}
	before := count(t, w, `SELECT count(*) FROM security_events WHERE account_id = $1`, w.managedA)
	if _, err := w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, w.managedA,
		[]string{passport.ActionEnrolTwoFactor, passport.ActionFillRequired}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, `SELECT count(*) FROM security_events WHERE account_id = $1`, w.managedA); n != before {
		t.Errorf("saving the same actions recorded %d events", n-before)
	}
}

// TestTwoFactorResetEndsSessions: the device may be lost or stolen: a session on it must
// not stay to enrol a key of its own.
func TestTwoFactorResetEndsSessions(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	now := time.Now().UTC()
	sess := &passport.Session{AccountID: w.managedA, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := w.db.CreateSession(ctx, passport.HashToken(passport.NewToken()), sess); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.ResetTwoFactor(ctx, w.adminA, w.orgA, w.managedA); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, `SELECT count(*) FROM sessions WHERE account_id = $1 AND ended_at IS NULL`, w.managedA); n != 0 {
		t.Errorf("%d sessions live after a two-factor reset", n)
	}
}

// TestTemporaryChangeLosesToALaterReissue: the person loaded the password step, then the
// administrator issued new login details (perhaps because the session was hijacked): the
// submit made with the old state changes nothing, and the new issue stays in force.
func TestTemporaryChangeLosesToALaterReissue(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	a, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("Race.#"), Email: uniq("race#@example.org")},
		&account.Credentials{Generate: true, Channel: "none"})
	if err != nil || len(errs) > 0 {
		t.Fatalf("create: %v %v", errs, err)
	}
	loaded, err := w.db.Account(ctx, a.ID) // the page's view
	if err != nil {
		t.Fatal(err)
	}
	reissued, _, err := w.svc.IssueCredentials(ctx, w.adminA, w.orgA, a.ID, account.Credentials{Generate: true, Channel: "none"})
	if err != nil {
		t.Fatal(err)
	}
	person := passport.Actor{Kind: passport.ActorPerson, AccountID: a.ID}
	if err := w.svc.ChangeTemporaryPassword(ctx, person, loaded, "hijacker-choice-9", "hijacker-choice-9", ""); passport.ErrorCode(err) != passport.ECONFLICT {
		t.Fatalf("a change from before the re-issue: %v, want ECONFLICT", err)
	}
	now, err := w.db.Account(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := passport.CheckPassword(ctx, now.PasswordHash, reissued.Password, w.svc.Argon2); !ok {
		t.Error("the re-issued password no longer works")
	}
	if n := count(t, w, `SELECT count(*) FROM credential_issues WHERE account_id = $1 AND voided_at IS NULL`, a.ID); n != 1 {
		t.Errorf("%d issues in force, want the re-issue", n)
	}
}

// TestOrganisationPolicyBindsManagedMembersOnly: an organisation's "two factors for every
// member" binds the members it manages, not people who joined with their own account.
func TestOrganisationPolicyBindsManagedMembersOnly(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	if err := w.svc.SetOrgTwoFactor(ctx, w.adminA, w.orgA, true); err != nil {
		t.Fatal(err)
	}
	if _, requires, err := w.db.ActionFacts(ctx, w.managedA); err != nil || !requires {
		t.Errorf("a managed member: requires %v (%v), want true", requires, err)
	}
	if _, requires, err := w.db.ActionFacts(ctx, w.joinedA); err != nil || requires {
		t.Errorf("a joined member: requires %v (%v), want false", requires, err)
	}
}

// TestLockedRequiredFieldsAreTheAdministrators: with the default policy (names required and
// locked for issued accounts), creating a member without names is refused on those fields,
// since the sign-in never asks the person for a field they cannot change; a confirmation
// step for an address the account lacks and may not add is refused too.
func TestLockedRequiredFieldsAreTheAdministrators(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	w.svc.Rules = passport.NewRules(passport.Rules{
		Required: []passport.Field{passport.FieldGivenName, passport.FieldFamilyName, passport.FieldEmail},
		Locked:   map[string][]passport.Field{"admin": {passport.FieldGivenName, passport.FieldFamilyName, passport.FieldPhone}}})
	_, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("Nameless.#"), Email: uniq("nameless#@example.org"),
		FamilyName: "Tamm"}, nil)
	if err != nil || errs["given_name"] == nil || errs["family_name"] != nil || len(errs) != 1 {
		t.Errorf("a member without a given name: %v %v, want one error on given_name", errs, err)
	}
	a, _, errs, err := w.svc.CreateMember(ctx, w.adminA, w.orgA, account.NewMember{Login: uniq("Named.#"), Email: uniq("named#@example.org"),
		GivenName: "Mari", FamilyName: "Tamm"}, nil)
	if err != nil || len(errs) > 0 {
		t.Fatalf("a member with names: %v %v", errs, err)
	}
	_, err = w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, a.ID, []string{passport.ActionConfirmPhone})
	if pe := passport.AsError(err); pe == nil || pe.Field != "actions" {
		t.Errorf("confirm a phone the member lacks and may not add: %v, want a field error on actions", err)
	}
	if _, err := w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, a.ID, []string{passport.ActionConfirmEmail}); err != nil {
		t.Errorf("confirm the email the member has: %v", err)
	}
}

// TestAdministratorSetsContactsUnconfirmed: an administrator of the organisation managing
// the account sets its email address and phone number (the policy may lock them for the
// person); they are unconfirmed until the person confirms them, the change is one
// profile.changed event naming the fields, and the person cannot set a phone number this
// way.
func TestAdministratorSetsContactsUnconfirmed(t *testing.T) {
	w := issueWorld(t)
	ctx := context.Background()
	email, phone := uniq("new.#@example.org"), "+372 5123 4567"
	before := count(t, w, `SELECT count(*) FROM security_events WHERE account_id = $1 AND type = 'profile.changed'`, w.managedA)
	a, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, w.managedA, account.ProfileInput{Email: &email, Phone: &phone})
	if err != nil || len(errs) > 0 {
		t.Fatalf("the administrator's edit: %v %v", errs, err)
	}
	if a.Email != email || a.EmailVerified || a.Phone != "+37251234567" || a.PhoneVerified {
		t.Errorf("contacts after the edit: %q %v %q %v", a.Email, a.EmailVerified, a.Phone, a.PhoneVerified)
	}
	if n := count(t, w, `SELECT count(*) FROM security_events WHERE account_id = $1 AND type = 'profile.changed'
		AND details->'fields' ?& array['email', 'phone']`, w.managedA); n != before+1 {
		t.Errorf("%d profile.changed events naming email and phone, want %d", n, before+1)
	}
	bad := "12345"
	if _, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, w.managedA, account.ProfileInput{Phone: &bad}); err != nil || errs["phone"] == nil {
		t.Errorf("a phone number not in E.164: %v %v", errs, err)
	}
	other := "+37255550000"
	person := passport.Actor{Kind: passport.ActorPerson, AccountID: w.managedA}
	if _, errs, err := w.svc.UpdateProfile(ctx, person, w.managedA, account.ProfileInput{Phone: &other}); err != nil || errs["phone"] == nil {
		t.Errorf("the person setting a phone number without confirmation: %v %v", errs, err)
	}
	if _, _, _, err := w.svc.CreateMember(ctx, w.adminB, w.orgB, account.NewMember{Login: uniq("B.#"), Email: uniq("b#@example.org")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.svc.UpdateMemberProfile(ctx, w.adminB, w.orgB, w.managedA, account.ProfileInput{Phone: &other}); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("another organisation's administrator: %v, want ENOTFOUND", err)
	}
}
