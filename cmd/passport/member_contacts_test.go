package main

import (
	"net/http"
	"testing"
)

// TestAdminAPISetsAMembersEmailAndPhone: docs/openapi.yaml says PATCH
// /admin/orgs/{org}/members/{id}/profile takes email and phone (set unconfirmed), as the
// console's member form does; the API door must take them too, and the person's own PATCH
// /api/v1/me may not set a phone (a field error, not a 500), nor change their email.
func TestAdminAPISetsAMembersEmailAndPhone(t *testing.T) {
	srv := startServer(t, "")
	db := openDB(t)
	org := setupOrg(t, "contacts-acme", "Acme Contacts")
	const pw = "contact-person-pw-7"
	person := setupUser(t, "contact-person", pw)
	joinOrg(t, org, person, true, "")
	admin, _, _ := consoleAdmin(t, srv, "contacts-admin", "org_admin", org)
	call := &apiCaller{name: "admin", b: admin}

	s, out := call.call(t, srv, http.MethodPatch, "/admin/orgs/contacts-acme/members/"+person+"/profile",
		map[string]any{"email": "new.address@example.org", "phone": "+372 5123 4567"})
	if s != http.StatusOK {
		t.Errorf("admin API email and phone: %d %v, want 200", s, out)
	}
	if got := dbString(t, db, `SELECT concat_ws('|', email, email_verified, phone, phone_verified) FROM accounts WHERE id = $1`, person); got != "new.address@example.org|f|+37251234567|f" {
		t.Errorf("contacts after the admin API edit: %q", got)
	}

	pb := newBrowser(t, srv)
	signInDirectly(t, pb, "contact-person", pw)
	me := &apiCaller{name: "person", b: pb}
	before := dbString(t, db, `SELECT concat_ws('|', email, email_verified, phone, phone_verified) FROM accounts WHERE id = $1`, person)
	for _, body := range []map[string]any{{"phone": "+372 5555 0000"}, {"email": "other@example.org"}} {
		if s, out := me.call(t, srv, http.MethodPatch, "/me", body); s != http.StatusUnprocessableEntity && s != http.StatusBadRequest {
			t.Errorf("the person's PATCH /me %v: %d %v, want a refusal", body, s, out)
		}
	}
	if after := dbString(t, db, `SELECT concat_ws('|', email, email_verified, phone, phone_verified) FROM accounts WHERE id = $1`, person); after != before {
		t.Errorf("the person's refused PATCH changed %q to %q", before, after)
	}
}
