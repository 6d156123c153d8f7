package passport

import "testing"

func TestResetTarget(t *testing.T) {
	acct := func(id, status string, email string, emailOK bool, phone string, phoneOK bool) *Account {
		return &Account{ID: id, Status: status, Email: email, EmailVerified: emailOK, Phone: phone, PhoneVerified: phoneOK}
	}
	both := acct("both", StatusActive, "ada@example.org", true, "+3725551234", true)
	phoneOnly := acct("phone-only", StatusActive, "ada@example.org", false, "+3725551234", true)
	unverified := acct("unverified", StatusActive, "ada@example.org", false, "+3725551234", false)
	blocked := acct("blocked", StatusBlocked, "ada@example.org", true, "", false)
	leaving := acct("leaving", StatusPendingDeletion, "ada@example.org", true, "", false)
	deleted := acct("deleted", StatusDeleted, "ada@example.org", true, "", false)
	other := acct("other", StatusActive, "ada@example.org", true, "+3725551234", true)
	c := func(a *Account, via string) ResetCandidate { return ResetCandidate{Account: a, Via: via} }

	for name, tc := range map[string]struct {
		found           []ResetCandidate
		id, channel, to string
	}{
		"nobody":                           {nil, "", "", ""},
		"login: the verified email":        {[]ResetCandidate{c(both, ResetByLogin)}, "both", ChannelEmail, "ada@example.org"},
		"login: else the verified phone":   {[]ResetCandidate{c(phoneOnly, ResetByLogin)}, "phone-only", ChannelSMS, "+3725551234"},
		"login: nothing verified":          {[]ResetCandidate{c(unverified, ResetByLogin)}, "", "", ""},
		"a login that is another's email":  {[]ResetCandidate{c(other, ResetByEmail), c(both, ResetByLogin)}, "", "", ""},
		"a login that is its own email":    {[]ResetCandidate{c(both, ResetByEmail), c(both, ResetByLogin)}, "both", ChannelEmail, "ada@example.org"},
		"email of one account":             {[]ResetCandidate{c(both, ResetByEmail)}, "both", ChannelEmail, "ada@example.org"},
		"email of two accounts":            {[]ResetCandidate{c(both, ResetByEmail), c(other, ResetByEmail)}, "", "", ""},
		"unverified email":                 {[]ResetCandidate{c(phoneOnly, ResetByEmail)}, "", "", ""},
		"phone of one account":             {[]ResetCandidate{c(phoneOnly, ResetByPhone)}, "phone-only", ChannelSMS, "+3725551234"},
		"phone of two accounts":            {[]ResetCandidate{c(phoneOnly, ResetByPhone), c(both, ResetByPhone)}, "", "", ""},
		"unverified phone":                 {[]ResetCandidate{c(unverified, ResetByPhone)}, "", "", ""},
		"an email and a phone disagree":    {[]ResetCandidate{c(both, ResetByEmail), c(other, ResetByPhone)}, "", "", ""},
		"blocked":                          {[]ResetCandidate{c(blocked, ResetByLogin)}, "", "", ""},
		"deleted":                          {[]ResetCandidate{c(deleted, ResetByEmail)}, "", "", ""},
		"pending deletion (told, not set)": {[]ResetCandidate{c(leaving, ResetByLogin)}, "leaving", ChannelEmail, "ada@example.org"},
	} {
		t.Run(name, func(t *testing.T) {
			a, channel, to, ok := ResetTarget(tc.found)
			if ok != (tc.id != "") || channel != tc.channel || to != tc.to || (ok && a.ID != tc.id) {
				t.Errorf("got %v %q %q %v, want %q %q %q", a, channel, to, ok, tc.id, tc.channel, tc.to)
			}
		})
	}
}
