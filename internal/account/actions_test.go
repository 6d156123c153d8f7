package account_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

func requiredActions(t *testing.T, w *world, id string) []string {
	t.Helper()
	a, err := w.db.Account(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.RequiredActions
}

// TestSetRequiredActions: who may set a member's required actions (the organisation's
// administrator for a managed member, a service administrator for anyone), a foreign id
// answers ENOTFOUND, an unknown action is refused with nothing written, and every change is
// one event with the lists before and after.
func TestSetRequiredActions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	set := []string{passport.ActionEnrolTwoFactor, passport.ActionChangePassword, passport.ActionChangePassword}

	refused := []struct {
		name      string
		actor     passport.Actor
		org, id   string
		code      string
		actions   []string
		wantField string
	}{
		{"another organisation's member", w.adminA, w.orgB, w.managedB, passport.ENOTFOUND, set, ""},
		{"another organisation's member through mine", w.adminA, w.orgA, w.managedB, passport.ENOTFOUND, set, ""},
		{"a person without grants", w.person, w.orgA, w.managedA, passport.ENOTFOUND, set, ""},
		{"a member who joined", w.adminA, w.orgA, w.joinedA, passport.EFORBIDDEN, set, ""},
		{"an unknown action", w.adminA, w.orgA, w.managedA, passport.EINVALID, []string{passport.ActionConfirmEmail, "delete_account"}, "actions"},
		{"an empty name", w.adminA, w.orgA, w.managedA, passport.EINVALID, []string{""}, "actions"},
	}
	for _, r := range refused {
		before := maxEvent(t, w.db)
		_, err := w.svc.SetRequiredActions(ctx, r.actor, r.org, r.id, r.actions)
		if passport.ErrorCode(err) != r.code || (r.wantField != "" && passport.AsError(err).Field != r.wantField) {
			t.Errorf("%s: got %v, want %s", r.name, err, r.code)
		}
		if len(requiredActions(t, w, r.id)) != 0 || maxEvent(t, w.db) != before {
			t.Errorf("%s: something was written", r.name)
		}
	}

	before := maxEvent(t, w.db)
	got, err := w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, w.managedA, set)
	want := []string{passport.ActionChangePassword, passport.ActionEnrolTwoFactor}
	if err != nil || !slices.Equal(got, want) || !slices.Equal(requiredActions(t, w, w.managedA), want) {
		t.Fatalf("set: %v %v, stored %v", got, err, requiredActions(t, w, w.managedA))
	}
	es := eventsSince(t, w.db, before)
	if len(es) != 1 || es[0].Type != passport.EventRequiredActionsChanged || es[0].AccountID != w.managedA || es[0].OrgID != w.orgA ||
		es[0].Actor.AccountID != w.adminAID {
		t.Fatalf("events: %+v", es)
	}
	if b, a := es[0].Details["before"], es[0].Details["after"]; len(b.([]any)) != 0 || len(a.([]any)) != 2 {
		t.Errorf("details: %v", es[0].Details)
	}

	// The same list again changes nothing and records nothing.
	before = maxEvent(t, w.db)
	if _, err := w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, w.managedA, want); err != nil || maxEvent(t, w.db) != before {
		t.Errorf("the same list: %v, events %d → %d", err, before, maxEvent(t, w.db))
	}
	// Clearing is a change too.
	if got, err := w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, w.managedA, nil); err != nil || len(got) != 0 ||
		len(eventsSince(t, w.db, before)) != 1 || len(requiredActions(t, w, w.managedA)) != 0 {
		t.Errorf("clear: %v %v", got, err)
	}
	// A service administrator reaches a member who joined.
	if _, err := w.svc.SetRequiredActions(ctx, w.service, w.orgA, w.joinedA, []string{passport.ActionConfirmPhone}); err != nil ||
		!slices.Equal(requiredActions(t, w, w.joinedA), []string{passport.ActionConfirmPhone}) {
		t.Errorf("service admin: %v", err)
	}
	// An organisation's administrator is protected from a fellow organisation's admin.
	if err := w.svc.Grant(ctx, account.System(), w.managedB, passport.RoleOrgAdmin, w.orgB); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Grant(ctx, account.System(), w.managedA, passport.RoleOrgAdmin, w.orgB); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SetRequiredActions(ctx, w.adminA, w.orgA, w.managedA, set); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("a member holding rights beyond the actor's: %v", err)
	}
}

// TestOrgTwoFactorPolicy: the organisation's administrator turns the policy on and off, one
// event per change; another organisation's administrator and a person get ENOTFOUND.
func TestOrgTwoFactorPolicy(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, actor := range []passport.Actor{w.adminB, w.person} {
		if err := w.svc.SetOrgTwoFactor(ctx, actor, w.orgA, true); passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("%s: %v", actor.AccountID, err)
		}
	}
	if o, _ := w.db.Org(ctx, w.orgA); o == nil || o.RequireTwoFactor {
		t.Fatal("turned on by a stranger")
	}
	before := maxEvent(t, w.db)
	if err := w.svc.SetOrgTwoFactor(ctx, w.adminA, w.orgA, true); err != nil {
		t.Fatal(err)
	}
	if o, err := w.svc.Org(ctx, w.adminA, w.orgA); err != nil || !o.RequireTwoFactor {
		t.Errorf("policy: %v %v", o, err)
	}
	if err := w.svc.SetOrgTwoFactor(ctx, w.adminA, w.orgA, true); err != nil {
		t.Fatal(err)
	}
	es := eventsSince(t, w.db, before)
	if len(es) != 1 || es[0].Type != passport.EventTwoFactorPolicyChanged || es[0].OrgID != w.orgA || es[0].Details["require_two_factor"] != true {
		t.Errorf("events: %+v", es)
	}
	// The members of A are now due to enrol; B's are not.
	if _, req, _ := w.db.ActionFacts(ctx, w.managedA); !req {
		t.Error("a member of A: the policy does not apply")
	}
	if _, req, _ := w.db.ActionFacts(ctx, w.managedB); req {
		t.Error("a member of B: A's policy applies")
	}
}

// TestChangeTemporaryPassword: only the person, only while change_password is pending; the
// new password typed twice, meeting the policy, not the issued one; then the issued one is
// void, the expiry and the action are gone, the other sessions end (this one goes on), one
// event and the notice.
func TestChangeTemporaryPassword(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.Argon2 = passport.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}
	var noticed []string
	w.svc.Notices = func(kind string, a *passport.Account, at time.Time) ([]passport.Outgoing, error) {
		noticed = append(noticed, kind)
		return nil, nil
	}
	a, err := w.svc.Validate(ctx, account.NewAccount{Login: "temp-person", Email: "temp@example.org", Password: "issued-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Pool().Exec(ctx, `UPDATE accounts SET required_actions = '{change_password,confirm_email}',
		password_expires_at = now() + interval '7 days' WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Pool().Exec(ctx, `INSERT INTO credential_issues (account_id, channel, template, expires_at)
		VALUES ($1, 'none', 'standard', now() + interval '7 days')`, a.ID); err != nil {
		t.Fatal(err)
	}
	var sessions []string
	for i := 0; i < 2; i++ {
		now := time.Now().UTC()
		s := &passport.Session{AccountID: a.ID, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := w.db.CreateSession(ctx, passport.HashToken(passport.NewToken()), s); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s.ID)
	}
	if a, err = w.db.Account(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	self := passport.Actor{Kind: passport.ActorPerson, AccountID: a.ID}
	field := func(err error) string {
		if pe := passport.AsError(err); pe != nil && pe.Code == passport.EINVALID {
			return pe.Field
		}
		return "(" + passport.ErrorCode(err) + ")"
	}
	if err := w.svc.ChangeTemporaryPassword(ctx, w.service, a, "own-password-22", "own-password-22", sessions[0]); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("an administrator: %v", err)
	}
	for _, c := range []struct{ next, repeat, field string }{
		{"own-password-22", "own-password-23", "repeat_password"},
		{"short1", "short1", "new_password"},
		{"issued-password-1", "issued-password-1", "new_password"}, // the issued one again
		{"temp-person", "temp-person", "new_password"},
	} {
		if got := field(w.svc.ChangeTemporaryPassword(ctx, self, a, c.next, c.repeat, sessions[0])); got != c.field {
			t.Errorf("%q/%q: refused on %s, want %s", c.next, c.repeat, got, c.field)
		}
	}
	before := maxEvent(t, w.db)
	if err := w.svc.ChangeTemporaryPassword(ctx, self, a, "own-password-22", "own-password-22", sessions[0]); err != nil {
		t.Fatal(err)
	}
	after, err := w.db.Account(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := passport.CheckPassword(ctx, after.PasswordHash, "own-password-22", w.svc.Argon2); !ok {
		t.Error("the new password does not work")
	}
	if ok, _, _ := passport.CheckPassword(ctx, after.PasswordHash, "issued-password-1", w.svc.Argon2); ok {
		t.Error("the issued password still works")
	}
	if after.PasswordExpiresAt != nil || !slices.Equal(after.RequiredActions, []string{passport.ActionConfirmEmail}) {
		t.Errorf("expiry %v, actions %v", after.PasswordExpiresAt, after.RequiredActions)
	}
	var live, voided int
	_ = w.db.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE ended_at IS NULL) FROM sessions WHERE account_id = $1`, a.ID).Scan(&live)
	_ = w.db.Pool().QueryRow(ctx, `SELECT count(*) FROM credential_issues WHERE account_id = $1 AND voided_at IS NOT NULL`, a.ID).Scan(&voided)
	var kept bool
	_ = w.db.Pool().QueryRow(ctx, `SELECT ended_at IS NULL FROM sessions WHERE id = $1`, sessions[0]).Scan(&kept)
	if live != 1 || !kept || voided != 1 {
		t.Errorf("live sessions %d (kept %v), voided issues %d", live, kept, voided)
	}
	if es := eventsSince(t, w.db, before); len(es) != 1 || es[0].Type != passport.EventPasswordChanged || es[0].Actor.Kind != passport.ActorPerson {
		t.Errorf("events: %+v", es)
	}
	if len(noticed) != 1 || noticed[0] != account.NoticePasswordChanged {
		t.Errorf("notices: %v", noticed)
	}
	// Done: no second change without the current password.
	if err := w.svc.ChangeTemporaryPassword(ctx, self, after, "third-password-33", "third-password-33", sessions[0]); passport.ErrorCode(err) != passport.ECONFLICT {
		t.Errorf("again: %v", err)
	}
	// A stale copy of the account (the action still listed) is refused by the store.
	if err := w.svc.ChangeTemporaryPassword(ctx, self, a, "third-password-33", "third-password-33", sessions[0]); passport.ErrorCode(err) != passport.ECONFLICT {
		t.Errorf("stale copy: %v", err)
	}
}
