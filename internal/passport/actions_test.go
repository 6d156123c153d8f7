package passport

import (
	"slices"
	"testing"
)

// TestPending: every action, due and done, alone and together, always in the fixed order.
func TestPending(t *testing.T) {
	all := []string{ActionEnrolTwoFactor, ActionFillRequired, ActionConfirmPhone, ActionConfirmEmail, ActionChangePassword}
	missing := []Field{FieldGivenName}
	cases := []struct {
		name      string
		a         Account
		totp, org bool
		missing   []Field
		want      []string
	}{
		{"nothing listed, nothing missing", Account{}, false, false, nil, nil},

		{"change_password listed", Account{RequiredActions: []string{ActionChangePassword}}, true, false, nil, []string{ActionChangePassword}},

		{"confirm_email: unverified", Account{RequiredActions: []string{ActionConfirmEmail}, Email: "a@example.com"}, false, false, nil,
			[]string{ActionConfirmEmail}},
		{"confirm_email: no address", Account{RequiredActions: []string{ActionConfirmEmail}}, false, false, nil, []string{ActionConfirmEmail}},
		{"confirm_email: verified", Account{RequiredActions: []string{ActionConfirmEmail}, Email: "a@example.com", EmailVerified: true},
			false, false, nil, nil},
		{"verified flag without an address", Account{RequiredActions: []string{ActionConfirmEmail}, EmailVerified: true}, false, false, nil,
			[]string{ActionConfirmEmail}},
		{"unverified email, not listed", Account{Email: "a@example.com"}, false, false, nil, nil},

		{"confirm_phone: unverified", Account{RequiredActions: []string{ActionConfirmPhone}, Phone: "+3725550000"}, false, false, nil,
			[]string{ActionConfirmPhone}},
		{"confirm_phone: no number", Account{RequiredActions: []string{ActionConfirmPhone}}, false, false, nil, []string{ActionConfirmPhone}},
		{"confirm_phone: verified", Account{RequiredActions: []string{ActionConfirmPhone}, Phone: "+3725550000", PhoneVerified: true},
			false, false, nil, nil},

		{"fill_required: listed, missing", Account{RequiredActions: []string{ActionFillRequired}}, false, false, missing,
			[]string{ActionFillRequired}},
		{"fill_required: listed, all filled", Account{RequiredActions: []string{ActionFillRequired}}, false, false, nil, nil},
		{"fill_required: not listed, missing", Account{}, false, false, missing, []string{ActionFillRequired}},

		{"enrol: listed, no TOTP", Account{RequiredActions: []string{ActionEnrolTwoFactor}}, false, false, nil, []string{ActionEnrolTwoFactor}},
		{"enrol: listed, TOTP on", Account{RequiredActions: []string{ActionEnrolTwoFactor}}, true, false, nil, nil},
		{"enrol: organisation requires, no TOTP", Account{}, false, true, nil, []string{ActionEnrolTwoFactor}},
		{"enrol: organisation requires, TOTP on", Account{}, true, true, nil, nil},

		{"everything due, in order", Account{RequiredActions: all}, false, false, missing,
			[]string{ActionChangePassword, ActionConfirmEmail, ActionConfirmPhone, ActionFillRequired, ActionEnrolTwoFactor}},
		{"everything listed, all but the password done", Account{RequiredActions: all, Email: "a@example.com", EmailVerified: true,
			Phone: "+3725550000", PhoneVerified: true}, true, true, nil, []string{ActionChangePassword}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Pending(&c.a, c.totp, c.org, c.missing)
			if !slices.Equal(got, c.want) {
				t.Errorf("Pending = %v, want %v", got, c.want)
			}
			// What is listed and not pending is done, and nothing pending is called done.
			done := Satisfied(&c.a, got)
			for _, x := range c.a.RequiredActions {
				if slices.Contains(got, x) == slices.Contains(done, x) {
					t.Errorf("%s: pending %v, done %v", x, got, done)
				}
			}
		})
	}
}

func TestNormalizeActions(t *testing.T) {
	got, err := NormalizeActions([]string{"enrol_two_factor", " change_password", "enrol_two_factor", "confirm_email"})
	if err != nil || !slices.Equal(got, []string{ActionChangePassword, ActionConfirmEmail, ActionEnrolTwoFactor}) {
		t.Errorf("NormalizeActions = %v, %v", got, err)
	}
	if got, err := NormalizeActions(nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty list: %#v, %v", got, err)
	}
	for _, bad := range []string{"", "CHANGE_PASSWORD", "delete_account", "change_password,confirm_email"} {
		_, err := NormalizeActions([]string{ActionConfirmPhone, bad})
		if e := AsError(err); err == nil || e.Code != EINVALID || e.Field != "actions" {
			t.Errorf("%q: got %v, want a field error on actions", bad, err)
		}
	}
}
