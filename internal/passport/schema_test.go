package passport

import (
	"slices"
	"testing"
	"time"
)

// TestPolicyTable: the default policy (SPEC §2) and an operator's policy, field by
// registration method: editable, admin (locked for the person) or required; a per-account
// unlock makes a locked field editable while it lasts.
func TestPolicyTable(t *testing.T) {
	defaults := NewRules(Rules{Required: []Field{FieldGivenName, FieldFamilyName, FieldEmail},
		Locked: map[string][]Field{"admin": {FieldGivenName, FieldFamilyName, FieldBirthdate},
			"certificate": {FieldGivenName, FieldFamilyName, FieldBirthdate}}})
	custom := NewRules(Rules{Required: []Field{FieldGivenName, FieldFamilyName, FieldEmail},
		Locked: map[string][]Field{"admin": {FieldGivenName, FieldFamilyName, FieldBirthdate}},
		Policy: map[string]map[Field]Access{
			"admin":    {FieldGivenName: AccessEditable, FieldPicture: AccessAdmin, FieldNickname: AccessRequired},
			"external": {FieldEmail: AccessAdmin, FieldFamilyName: AccessEditable},
		}})
	for _, tc := range []struct {
		name     string
		rules    Rules
		method   string
		field    Field
		access   Access
		required bool
	}{
		{"self names are required", defaults, "self", FieldGivenName, AccessRequired, true},
		{"self birth date is editable", defaults, "self", FieldBirthdate, AccessEditable, false},
		{"self email is required", defaults, "self", FieldEmail, AccessRequired, true},
		{"admin names are locked and still required", defaults, "admin", FieldGivenName, AccessAdmin, true},
		{"admin birth date is locked, not required", defaults, "admin", FieldBirthdate, AccessAdmin, false},
		{"admin nickname is editable", defaults, "admin", FieldNickname, AccessEditable, false},
		{"certificate family name is locked", defaults, "certificate", FieldFamilyName, AccessAdmin, true},
		{"invite follows the required list", defaults, "invite", FieldFamilyName, AccessRequired, true},
		{"external:google follows external", defaults, "external:google", FieldPicture, AccessEditable, false},
		{"login is never editable", defaults, "self", FieldLogin, "", false},
		{"organisation is never editable", defaults, "admin", FieldOrganization, "", false},
		{"identifiers are never editable", defaults, "self", FieldIdentifiers, "", false},
		{"policy overrides a lock", custom, "admin", FieldGivenName, AccessEditable, false},
		{"policy locks the photo", custom, "admin", FieldPicture, AccessAdmin, false},
		{"policy requires the nickname", custom, "admin", FieldNickname, AccessRequired, true},
		{"unnamed fields keep the lock", custom, "admin", FieldBirthdate, AccessAdmin, false},
		{"policy locks the email, still required", custom, "external:github", FieldEmail, AccessAdmin, true},
		{"policy frees a required field", custom, "external:github", FieldFamilyName, AccessEditable, false},
		{"other methods are untouched", custom, "self", FieldPicture, AccessEditable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rules.Access(tc.method, tc.field); got != tc.access {
				t.Errorf("access %q, want %q", got, tc.access)
			}
			if got := tc.rules.IsRequired(tc.method, tc.field); got != tc.required {
				t.Errorf("required %v, want %v", got, tc.required)
			}
			if got := slices.Contains(tc.rules.RequiredFor(tc.method), tc.field); got != tc.required {
				t.Errorf("RequiredFor lists it: %v", got)
			}
			a := &Account{RegistrationMethod: tc.method}
			if got := tc.rules.IsLocked(a, tc.field); got != (tc.access == AccessAdmin) {
				t.Errorf("locked %v", got)
			}
			// An unlock (as the read query leaves it: still running) makes it editable.
			end := time.Now().Add(time.Hour)
			a.FieldUnlocks, a.UnlockedFields = map[string]*time.Time{string(tc.field): &end}, []string{string(tc.field)}
			if tc.rules.IsLocked(a, tc.field) {
				t.Error("an unlocked field is locked")
			}
			if u, ok := a.UnlockedUntil(tc.field); !ok || u == nil || !u.Equal(end) {
				t.Errorf("unlocked until %v %v", u, ok)
			}
			// An unlock that ended: the read query leaves it out of UnlockedFields.
			a.UnlockedFields = nil
			if got := tc.rules.IsLocked(a, tc.field); got != (tc.access == AccessAdmin) {
				t.Errorf("an ended unlock: locked %v", got)
			}
		})
	}
	// MissingRequired follows the method.
	a := &Account{RegistrationMethod: "external:github", GivenName: "Ada"}
	if got := custom.MissingRequired(a); !slices.Equal(got, []Field{FieldEmail}) {
		t.Errorf("missing for external: %v", got)
	}
	a.RegistrationMethod = "self"
	if got := custom.MissingRequired(a); !slices.Equal(got, []Field{FieldFamilyName, FieldEmail}) {
		t.Errorf("missing for self: %v", got)
	}
}
