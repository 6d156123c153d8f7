package passport

import (
	"slices"
	"strings"
)

// Required actions (SPEC §6): steps an account must take after signing in and before an
// application gets its code (and before the cabinet opens), always in this order. An
// administrator sets and clears them; issuing credentials sets ActionChangePassword.
const (
	ActionChangePassword = "change_password"
	ActionConfirmEmail   = "confirm_email"
	ActionConfirmPhone   = "confirm_phone"
	ActionFillRequired   = "fill_required"
	ActionEnrolTwoFactor = "enrol_two_factor"
)

// Actions lists every required action in the order they run.
var Actions = []string{ActionChangePassword, ActionConfirmEmail, ActionConfirmPhone, ActionFillRequired, ActionEnrolTwoFactor}

// Security events of required actions.
const (
	// EventRequiredActionsChanged: an administrator set or cleared required actions of an
	// account (details: before, after — lists of action names).
	EventRequiredActionsChanged = "account.required_actions"
	// EventTwoFactorPolicyChanged: an organisation's administrator turned "two factors for
	// every member" on or off (details: require_two_factor).
	EventTwoFactorPolicyChanged = "org.two_factor_policy"
)

// IsAction reports whether name is a required action.
func IsAction(name string) bool { return slices.Contains(Actions, name) }

// NormalizeActions checks a list of required actions an administrator sets and returns it
// without repeats, in the order they run. An unknown name is refused with a field error.
func NormalizeActions(names []string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if !IsAction(n) {
			return nil, FieldError("actions", "Unknown required action: %s.", n)
		}
		want[n] = true
	}
	out := []string{}
	for _, a := range Actions {
		if want[a] {
			out = append(out, a)
		}
	}
	return out, nil
}

// Pending returns the required actions the account has still to take, in the order they
// run (SPEC §6):
//   - change_password while it is in the account's list (only a new password clears it);
//   - confirm_email while it is in the list and the account has no verified email address
//     (with none at all, the step asks the person to add one); confirm_phone likewise;
//   - fill_required whenever required fields the person can fill are missing (missing: the
//     caller's list of those); in the list with nothing missing, it is done;
//   - enrol_two_factor while it is in the list, or an organisation of the account requires
//     two factors, and the person has none (hasTOTP).
func Pending(a *Account, hasTOTP, orgRequiresTwoFactor bool, missing []Field) []string {
	listed := map[string]bool{}
	for _, x := range a.RequiredActions {
		listed[x] = true
	}
	var out []string
	for _, x := range Actions {
		var due bool
		switch x {
		case ActionChangePassword:
			due = listed[x]
		case ActionConfirmEmail:
			due = listed[x] && (a.Email == "" || !a.EmailVerified)
		case ActionConfirmPhone:
			due = listed[x] && (a.Phone == "" || !a.PhoneVerified)
		case ActionFillRequired:
			due = len(missing) > 0
		case ActionEnrolTwoFactor:
			due = (listed[x] || orgRequiresTwoFactor) && !hasTOTP
		}
		if due {
			out = append(out, x)
		}
	}
	return out
}

// Satisfied returns the actions of the account's stored list that pending (Pending's answer)
// no longer holds: done, to be removed from the list.
func Satisfied(a *Account, pending []string) []string {
	var out []string
	for _, x := range a.RequiredActions {
		if !slices.Contains(pending, x) {
			out = append(out, x)
		}
	}
	return out
}
