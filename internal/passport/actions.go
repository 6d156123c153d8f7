package passport

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
