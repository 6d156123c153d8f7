package account_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
)

// TestWhoMayEditAProfile: the person (with the organisation's locks), an administrator of
// the account's organisation (without them), nobody else; publicity is the person's alone.
func TestWhoMayEditAProfile(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.Rules = passport.NewRules(passport.Rules{Locked: map[string][]passport.Field{
		passport.RegisteredSelf: {passport.FieldGivenName}}})
	name := "Grace"
	self := passport.Actor{Kind: passport.ActorPerson, AccountID: w.managedA, IP: "198.51.100.7"}
	other := passport.Actor{Kind: passport.ActorPerson, AccountID: w.managedB}

	_, errs, err := w.svc.UpdateProfile(ctx, self, w.managedA, account.ProfileInput{GivenName: &name})
	if err != nil || errs["given_name"] == nil || !strings.Contains(errs["given_name"].Message, "is managed by %s") ||
		len(errs["given_name"].Args) != 2 || errs["given_name"].Args[1] != "Org" {
		t.Errorf("person changing a locked field: %v %v", errs, err)
	}
	if _, _, err := w.svc.UpdateProfile(ctx, other, w.managedA, account.ProfileInput{GivenName: &name}); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("another person: %v", err)
	}
	if _, _, err := w.svc.UpdateProfile(ctx, w.adminB, w.managedA, account.ProfileInput{GivenName: &name}); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("admin of another organisation: %v", err)
	}
	after := maxEvent(t, w.db)
	a, errs, err := w.svc.UpdateProfile(ctx, w.adminA, w.managedA, account.ProfileInput{GivenName: &name})
	if err != nil || len(errs) > 0 || a.GivenName != "Grace" {
		t.Fatalf("admin of the organisation editing a locked field: %v %v", errs, err)
	}
	es := eventsSince(t, w.db, after)
	if len(es) != 1 || es[0].Type != passport.EventProfileChanged || es[0].Actor.Kind != passport.ActorAdmin ||
		es[0].Actor.OrgID != w.orgA || es[0].AccountID != w.managedA {
		t.Fatalf("events: %+v", es)
	}
	raw, _ := json.Marshal(es[0].Details)
	if strings.Contains(string(raw), "Grace") || !strings.Contains(string(raw), "given_name") {
		t.Errorf("details name the field, not the value: %s", raw)
	}
	// Nothing changed: no event.
	after = maxEvent(t, w.db)
	if _, _, err := w.svc.UpdateProfile(ctx, w.adminA, w.managedA, account.ProfileInput{GivenName: &name}); err != nil {
		t.Fatal(err)
	}
	if es := eventsSince(t, w.db, after); len(es) != 0 {
		t.Errorf("an edit that changes nothing recorded %+v", es)
	}

	pub := account.PublicityInput{Fields: map[string]string{"email": "public"}}
	if _, _, err := w.svc.SetPublicity(ctx, w.adminA, w.managedA, pub); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("admin setting publicity: %v", err)
	}
	if _, _, err := w.svc.SetPublicity(ctx, w.adminB, w.managedA, pub); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("foreign admin setting publicity: %v", err)
	}
	after = maxEvent(t, w.db)
	if _, _, err := w.svc.SetPublicity(ctx, self, w.managedA, pub); err != nil {
		t.Fatal(err)
	}
	if es := eventsSince(t, w.db, after); len(es) != 1 || es[0].Type != passport.EventPublicityChanged || es[0].Actor.IP != "198.51.100.7" {
		t.Errorf("publicity events: %+v", es)
	}
}
