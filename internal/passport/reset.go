package passport

import "time"

// PasswordReset is one account's forgotten-password request (SPEC §8). A newer request
// replaces it. The code (an HMAC bound to ID) and the email link (SHA-256) are stored
// hashed; the browser that asked holds ID in a signed token.
type PasswordReset struct {
	ID            string
	AccountID     string
	CodeHash      []byte
	LinkHash      []byte // email only; cleared once the code or the link was used
	AuthRequestID string // the application's sign-in the person came from, "" for none
	CreatedAt     time.Time
	ExpiresAt     time.Time
	// VerifiedAt: the code or the link was right, so a new password may be set (ExpiresAt
	// then counts from this moment). UsedAt: it was set.
	VerifiedAt *time.Time
	UsedAt     *time.Time
}

// How a person named the account whose password they forgot.
const (
	ResetByLogin = "login"
	ResetByEmail = "email"
	ResetByPhone = "phone"
)

// ResetCandidate is an account a forgotten-password request may be about, and what of it
// matched what the person typed.
type ResetCandidate struct {
	Account *Account
	Via     string // ResetByLogin, ResetByEmail or ResetByPhone
}

// ResetTarget decides which account a forgotten-password request is for and where its
// code goes. A login names one account; its code goes to the verified email address, else
// by SMS to the verified phone. An email address or a phone number counts only when
// verified, and only when a single account holds it (the person can type the login
// instead). Only an active account and one waiting for deletion (which is then told how
// to restore it) get a code; ok is false for the rest — blocked, deleted, no verified
// address, ambiguous, unknown — and the request is answered as though nobody matched.
func ResetTarget(found []ResetCandidate) (a *Account, channel, to string, ok bool) {
	byVia := map[string][]*Account{}
	for _, c := range found {
		byVia[c.Via] = append(byVia[c.Via], c.Account)
	}
	switch {
	case len(byVia[ResetByLogin]) == 1 && onlyAccount(byVia, byVia[ResetByLogin][0].ID):
		a = byVia[ResetByLogin][0]
		switch {
		case a.Email != "" && a.EmailVerified:
			channel, to = ChannelEmail, a.Email
		case a.Phone != "" && a.PhoneVerified:
			channel, to = ChannelSMS, a.Phone
		}
	case len(byVia[ResetByLogin]) == 0 && len(byVia[ResetByEmail]) == 1 && len(byVia[ResetByPhone]) == 0:
		if a = byVia[ResetByEmail][0]; a.Email != "" && a.EmailVerified {
			channel, to = ChannelEmail, a.Email
		}
	case len(byVia[ResetByLogin]) == 0 && len(byVia[ResetByEmail]) == 0 && len(byVia[ResetByPhone]) == 1:
		if a = byVia[ResetByPhone][0]; a.Phone != "" && a.PhoneVerified {
			channel, to = ChannelSMS, a.Phone
		}
	}
	if a == nil || to == "" || (a.Status != StatusActive && a.Status != StatusPendingDeletion) {
		return nil, "", "", false
	}
	return a, channel, to, true
}

// onlyAccount reports whether every match is the account id: a login that is also another
// account's verified address names neither.
func onlyAccount(byVia map[string][]*Account, id string) bool {
	for _, accounts := range byVia {
		for _, a := range accounts {
			if a.ID != id {
				return false
			}
		}
	}
	return true
}
