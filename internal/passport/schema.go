package passport

import (
	"slices"
	"strings"
	"time"
)

// Locked fields and unlocking (SPEC §2): who may edit each profile field, per registration
// method, and the per-account unlocks an administrator grants.

// Access says who may edit a field for a registration method.
type Access string

const (
	AccessEditable Access = "editable" // the person may edit it
	AccessAdmin    Access = "admin"    // only an administrator may edit it: locked for the person
	AccessRequired Access = "required" // the person may edit it and must fill it in
)

// policyMethod is the policy's name for a registration method: "external:<provider>"
// accounts follow "external".
func policyMethod(method string) string {
	if strings.HasPrefix(method, "external:") {
		return "external"
	}
	return method
}

// NeverEditable are the fields nobody changes through the profile: the login (the account's
// name for signing in), the organisation (its administrators set it) and linked accounts
// (linked by signing in with them).
var NeverEditable = []Field{FieldLogin, FieldOrganization, FieldIdentifiers}

// Access is who may edit f for accounts registered by method: the policy's entry, else
// admin when Locked names it, else required when Required does, else editable. Fields in
// NeverEditable answer "" (nobody edits them).
func (r Rules) Access(method string, f Field) Access {
	if slices.Contains(NeverEditable, f) {
		return ""
	}
	method = policyMethod(method)
	if a, ok := r.Policy[method][f]; ok {
		return a
	}
	if slices.Contains(r.Locked[method], f) {
		return AccessAdmin
	}
	if slices.Contains(r.Required, f) {
		return AccessRequired
	}
	return AccessEditable
}

// IsRequired reports whether f must hold a value on accounts registered by method: the
// policy says required, or the field is the administrator's (locked) and listed in Required,
// so the administrator is the one to fill it in.
func (r Rules) IsRequired(method string, f Field) bool {
	switch r.Access(method, f) {
	case AccessRequired:
		return true
	case AccessAdmin:
		return slices.Contains(r.Required, f)
	}
	return false
}

// RequiredFor lists the required fields for accounts registered by method, in the order of
// Fields.
func (r Rules) RequiredFor(method string) []Field {
	var out []Field
	for _, f := range Fields {
		if r.IsRequired(method, f) {
			out = append(out, f)
		}
	}
	return out
}

// UnlockedUntil reports whether an administrator unlocked f for the account now, and the
// end of the unlock (nil: until locked again).
func (a *Account) UnlockedUntil(f Field) (until *time.Time, unlocked bool) {
	if !slices.Contains(a.UnlockedFields, string(f)) {
		return nil, false
	}
	return a.FieldUnlocks[string(f)], true
}

// Security events of locks (SPEC §12): details carry "field" and "until" (RFC 3339 or
// null).
const (
	EventProfileUnlocked = "profile.unlocked"
	EventProfileRelocked = "profile.relocked"
)
