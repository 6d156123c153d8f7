package account_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// TestUnlockAndRelock: an administrator of the organisation that manages the account
// unlocks a locked field (optionally until a time) and locks it again; the person's edit
// follows; another organisation's administrator, a joined member's organisation and
// fields the policy does not lock are refused; each change leaves one event.
func TestUnlockAndRelock(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.Rules = passport.NewRules(passport.Rules{Locked: map[string][]passport.Field{
		passport.RegisteredSelf: {passport.FieldGivenName, passport.FieldLocale, passport.FieldEmail}}})
	self := passport.Actor{Kind: passport.ActorPerson, AccountID: w.managedA}
	name, lang := "Grace", "et"

	// Locked: every field of the person's edit refuses with the organisation's name.
	_, errs, err := w.svc.UpdateProfile(ctx, self, w.managedA, account.ProfileInput{GivenName: &name, Locale: &lang})
	if err != nil || errs["given_name"] == nil || errs["locale"] == nil || errs["given_name"].Args[1] != "Org" {
		t.Fatalf("locked: %v %v", errs, err)
	}
	a, _ := w.db.Account(ctx, w.managedA)
	if err := w.svc.CheckEditable(a, passport.FieldEmail); passport.AsError(err).Field != "email" {
		t.Errorf("email change of a locked email: %v", err)
	}

	// Refusals change nothing and record nothing.
	after := maxEvent(t, w.db)
	future := time.Now().Add(24 * time.Hour)
	past := time.Now().Add(-time.Minute)
	for what, err := range map[string]error{
		"foreign admin":     w.svc.Unlock(ctx, w.adminB, w.orgB, w.managedA, "given_name", nil),
		"foreign org param": w.svc.Unlock(ctx, w.adminB, w.orgA, w.managedA, "given_name", nil),
		"a person":          w.svc.Unlock(ctx, self, w.orgA, w.managedA, "given_name", nil),
	} {
		if passport.ErrorCode(err) != passport.ENOTFOUND {
			t.Errorf("%s: %v", what, err)
		}
	}
	if err := w.svc.Unlock(ctx, w.adminA, w.orgA, w.joinedA, "given_name", nil); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("joined member: %v", err)
	}
	if err := w.svc.Unlock(ctx, w.adminA, w.orgA, w.managedA, "nickname", nil); passport.AsError(err).Field != "field" {
		t.Errorf("a field the policy does not lock: %v", err)
	}
	if err := w.svc.Unlock(ctx, w.adminA, w.orgA, w.managedA, "login", nil); passport.AsError(err).Field != "field" {
		t.Errorf("login: %v", err)
	}
	if err := w.svc.Unlock(ctx, w.adminA, w.orgA, w.managedA, "bogus", nil); passport.AsError(err).Field != "field" {
		t.Errorf("unknown field: %v", err)
	}
	if err := w.svc.Unlock(ctx, w.adminA, w.orgA, w.managedA, "given_name", &past); passport.AsError(err).Field != "until" {
		t.Errorf("an end in the past: %v", err)
	}
	if es := eventsSince(t, w.db, after); len(es) != 0 {
		t.Fatalf("refusals recorded %+v", es)
	}

	// Unlock until tomorrow: the person edits; one event each, naming admin and org.
	if err := w.svc.Unlock(ctx, w.adminA, w.orgA, w.managedA, "given_name", &future); err != nil {
		t.Fatal(err)
	}
	es := eventsSince(t, w.db, after)
	if len(es) != 1 || es[0].Type != passport.EventProfileUnlocked || es[0].AccountID != w.managedA || es[0].OrgID != w.orgA ||
		es[0].Actor.AccountID != w.adminAID || es[0].Details["field"] != "given_name" || es[0].Details["until"] == nil {
		t.Fatalf("unlock events: %+v", es)
	}
	schema, err := w.svc.Schema(ctx, self, w.managedA)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(schema, func(f account.FieldSchema) bool { return f.Field == passport.FieldGivenName })
	if !schema[i].Editable || !schema[i].Unlocked || schema[i].UnlockedUntil == nil || schema[i].UnlockedUntil.Unix() != future.Unix() {
		t.Errorf("schema after the unlock: %+v", schema[i])
	}
	if a, errs, err := w.svc.UpdateProfile(ctx, self, w.managedA, account.ProfileInput{GivenName: &name}); err != nil || len(errs) > 0 || a.GivenName != name {
		t.Fatalf("the person's edit after the unlock: %v %v", errs, err)
	}

	// Relock: locked again; once more changes nothing.
	after = maxEvent(t, w.db)
	if err := w.svc.Relock(ctx, w.adminB, w.orgB, w.managedA, "given_name"); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("foreign relock: %v", err)
	}
	if err := w.svc.Relock(ctx, w.adminA, w.orgA, w.managedA, "given_name"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Relock(ctx, w.adminA, w.orgA, w.managedA, "given_name"); err != nil {
		t.Fatal(err)
	}
	if es := eventsSince(t, w.db, after); len(es) != 1 || es[0].Type != passport.EventProfileRelocked {
		t.Fatalf("relock events: %+v", es)
	}
	other := "Ada"
	if _, errs, _ := w.svc.UpdateProfile(ctx, self, w.managedA, account.ProfileInput{GivenName: &other}); errs["given_name"] == nil {
		t.Error("locked again, yet the person changed it")
	}

	// An unlock without end, then its end passes (the database's clock decides).
	if err := w.svc.Unlock(ctx, w.service, w.orgA, w.managedA, "locale", nil); err != nil {
		t.Fatal(err)
	}
	if a, _ := w.db.Account(ctx, w.managedA); !slices.Contains(a.UnlockedFields, "locale") || a.FieldUnlocks["locale"] != nil {
		t.Fatalf("unlocked until re-locked: %v %v", a.UnlockedFields, a.FieldUnlocks)
	}
	if _, err := w.db.Pool().Exec(ctx, `UPDATE accounts SET field_unlocks = jsonb_build_object('locale', '2001-01-01T00:00:00Z') WHERE id = $1`, w.managedA); err != nil {
		t.Fatal(err)
	}
	if _, errs, _ := w.svc.UpdateProfile(ctx, self, w.managedA, account.ProfileInput{Locale: &lang}); errs["locale"] == nil {
		t.Error("an unlock whose end passed still lets the person edit")
	}

	// The administrator's edit: managed members only.
	if _, _, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, w.joinedA, account.ProfileInput{GivenName: &other}); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("admin edit of a joined member: %v", err)
	}
	if _, _, err := w.svc.UpdateProfile(ctx, w.adminA, w.joinedA, account.ProfileInput{GivenName: &other}); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("admin edit of a joined member through UpdateProfile: %v", err)
	}
	if _, _, err := w.svc.UpdateMemberProfile(ctx, w.adminB, w.orgA, w.managedA, account.ProfileInput{GivenName: &other}); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("foreign admin edit: %v", err)
	}
	if a, errs, err := w.svc.UpdateMemberProfile(ctx, w.adminA, w.orgA, w.managedA, account.ProfileInput{GivenName: &other}); err != nil || len(errs) > 0 || a.GivenName != other {
		t.Errorf("admin edit of a locked field: %v %v", errs, err)
	}
	if _, err := w.svc.Schema(ctx, w.adminB, w.managedA); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("foreign schema: %v", err)
	}
}
