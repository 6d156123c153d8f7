package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/i18n"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// Email and phone changes, password changes and session ends: the cabinet's security
// actions, shared by pages and the API.

func (s *Server) limits() postgres.CodeLimits {
	c := s.cfg.Codes
	return postgres.CodeLimits{Lifetime: c.Lifetime, MaxAttempts: c.MaxAttempts, ResendAfter: c.ResendAfter, MaxSends: c.MaxSends}
}

// newCode returns n random decimal digits.
func newCode(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic(err)
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// codeHash binds a code to its account and kind with a server key, so a stolen table does
// not give the six-digit codes away to a quick brute force.
func (s *Server) codeHash(accountID, kind, code string) []byte {
	m := hmac.New(sha256.New, s.cfg.Codes.Key[:])
	fmt.Fprintf(m, "%s\x00%s\x00%s", accountID, kind, strings.TrimSpace(code))
	return m.Sum(nil)
}

// sendAllowed counts a code sent for the account, on top of the per-change limits: codes
// cost money (SMS, calls) and land in other people's mailboxes, so each account may send a
// few per rate window, whatever it cancels or changes.
func (s *Server) sendAllowed(ctx context.Context, a *passport.Account) error {
	n, _, err := s.db.Hit(ctx, "send:"+a.ID, s.cfg.RateWindow)
	if err != nil {
		return err
	}
	if n > 2*s.cfg.Codes.MaxSends {
		return passport.Errorf(passport.ELIMITED, "Too many codes were sent. Try again later.")
	}
	return nil
}

// startEmailChange sends a code and a one-click link to the new address.
func (s *Server) startEmailChange(ctx context.Context, a *passport.Account, raw string) error {
	// A locked address is still the person's to confirm: only another one is a change.
	email, err := passport.NormalizeEmail(raw)
	if locked := s.acct.CheckEditable(a, passport.FieldEmail); locked != nil && (err != nil || !strings.EqualFold(email, a.Email)) {
		return locked
	}
	if err != nil {
		return err
	}
	if strings.EqualFold(email, a.Email) && a.EmailVerified {
		return passport.FieldError("email", "This is already your email address.")
	}
	if err := s.sendAllowed(ctx, a); err != nil {
		return err
	}
	code, link := newCode(6), passport.NewToken()
	msg, err := s.message(passport.ChannelEmail, email, "email_change_code", a, MessageData{Code: code,
		Link: s.cfg.Issuer + "/confirm/email?token=" + link, NewValue: email, Minutes: int(s.cfg.Codes.Lifetime.Minutes())})
	if err != nil {
		return err
	}
	return s.db.StartContactChange(ctx, &passport.ContactChange{AccountID: a.ID, Kind: "email", Value: email,
		Method: passport.ChannelEmail, CodeHash: s.codeHash(a.ID, "email", code), LinkHash: passport.HashToken(link)}, s.limits(), msg)
}

// phoneRegion is the country whose national number forms this request accepts: the
// configured one, else the one the page's language names (none for English, which then
// needs the country code).
func (s *Server) phoneRegion(c echo.Context) string {
	if r := s.cfg.Codes.PhoneRegion; r != "" {
		return r
	}
	return passport.PhoneRegionFor(s.localizer(c).Lang())
}

// normalizePhone reads a phone number typed on this request's page (or sent to the API)
// into E.164, accepting the national forms of phoneRegion.
func (s *Server) normalizePhone(c echo.Context, raw string) (string, error) {
	return passport.NormalizePhone(raw, s.phoneRegion(c))
}

// phoneHint is the hint next to a phone field, in the request's language: an example of
// the national form this request accepts, or of the international one.
func (s *Server) phoneHint(c echo.Context) string {
	if national, international := passport.PhoneExample(s.phoneRegion(c)); national != "" {
		return s.text(c, "Like %s, or with the country code: %s.", national, international)
	}
	return s.text(c, "With the country code, like +44 20 7946 0958.")
}

// startPhoneChange sends a code by SMS, or places a call whose caller number ends in it.
// region is the country whose national forms raw may be in (phoneRegion).
func (s *Server) startPhoneChange(ctx context.Context, a *passport.Account, raw, method, region string) error {
	// A locked number is still the person's to confirm: only another one is a change.
	phone, err := passport.NormalizePhone(raw, region)
	if locked := s.acct.CheckEditable(a, passport.FieldPhone); locked != nil && (err != nil || phone != a.Phone) {
		return locked
	}
	if err != nil {
		return err
	}
	if phone == a.Phone && a.PhoneVerified {
		return passport.FieldError("phone", "This is already your phone number.")
	}
	if err := s.sendAllowed(ctx, a); err != nil {
		return err
	}
	// Six digits by SMS and by call alike: with four, the attempts allowed in a day would
	// guess a call code for somebody else's number about one time in six.
	kind, code := "phone_change_code", newCode(6)
	switch method {
	case "", passport.ChannelSMS:
		method = passport.ChannelSMS
	case passport.ChannelCall:
		kind = "phone_change_call"
	default:
		return passport.FieldError("method", "Choose how to get the code: sms or call.")
	}
	msg, err := s.message(method, phone, kind, a, MessageData{Code: code, NewValue: passport.FormatPhone(phone),
		Minutes: int(s.cfg.Codes.Lifetime.Minutes())})
	if err != nil {
		return err
	}
	return s.db.StartContactChange(ctx, &passport.ContactChange{AccountID: a.ID, Kind: "phone", Value: phone,
		Method: method, CodeHash: s.codeHash(a.ID, "phone", code)}, s.limits(), msg)
}

// resend sends a new code for the pending change, by the same way as before.
func (s *Server) resend(ctx context.Context, a *passport.Account, kind string) error {
	c, err := s.db.PendingChange(ctx, a.ID, kind)
	if err != nil {
		return passport.FieldError("code", "There is no change waiting: start again.")
	}
	if kind == "email" {
		return s.startEmailChange(ctx, a, c.Value)
	}
	return s.startPhoneChange(ctx, a, c.Value, c.Method, "") // stored in E.164
}

// changeNotices tells the person, at the email address they had, that the email or the
// phone changed. It runs in the confirmation's transaction, with the account as it is now,
// so it also refuses a change of a field locked since the change started (an administrator
// locked it again, or its unlock ended): the code and the email's link alike. Confirming
// the address or number the account already has is no change.
func (s *Server) changeNotices(before *passport.Account, c *passport.ContactChange) ([]passport.Outgoing, error) {
	same := c.Value == before.Phone
	if c.Kind == "email" {
		same = strings.EqualFold(c.Value, before.Email)
	}
	if err := s.acct.CheckEditable(before, passport.Field(c.Kind)); err != nil && !same {
		return nil, err
	}
	if before.Email == "" || same { // confirming the address or number the account has
		return nil, nil
	}
	m, err := s.message(passport.ChannelEmail, before.Email, c.Kind+"_changed", before, MessageData{NewValue: c.Shown(),
		At: s.db.Now()})
	return []passport.Outgoing{m}, err
}

// confirmChange applies the pending change if code is right.
func (s *Server) confirmChange(ctx context.Context, a *passport.Account, kind, code string) error {
	code = strings.TrimSpace(code)
	if code == "" {
		return passport.FieldError("code", "Enter the code.")
	}
	// Attempts per account across kinds, on top of the per-code limit, so trying new codes
	// in a loop is slow too.
	if n, _, err := s.db.Hit(ctx, "code:"+a.ID, s.cfg.RateWindow); err != nil {
		return err
	} else if n > 4*s.cfg.Codes.MaxAttempts {
		return &passport.Error{Code: passport.ELIMITED, Field: "code", Message: "Too many attempts. Try again later."}
	}
	_, err := s.db.ConfirmChange(ctx, a.ID, kind, s.codeHash(a.ID, kind, code), s.cfg.Codes.MaxAttempts, s.changeNotices)
	return err
}

// passwordChangedNotice is the email that tells the person their password changed, queued
// with the change (db.ChangePassword) by the cabinet and by a forgotten-password reset.
func (s *Server) passwordChangedNotice(a *passport.Account) ([]passport.Outgoing, error) {
	return s.notices(account.NoticePasswordChanged, a, s.db.Now())
}

// changePassword changes the person's own password (internal/account).
func (s *Server) changePassword(ctx context.Context, a *passport.Account, current, next string) error {
	return s.acct.ChangePassword(ctx, self(ctx, a.ID), a, current, next)
}

// notices are the messages internal/account's actions send the person.
func (s *Server) notices(kind string, a *passport.Account, at time.Time) ([]passport.Outgoing, error) {
	if a.Email == "" {
		return nil, nil
	}
	m, err := s.message(passport.ChannelEmail, a.Email, kind, a, MessageData{At: at})
	if err != nil {
		return nil, err
	}
	return []passport.Outgoing{m}, nil
}

// SessionView is a session as the cabinet and the API show it.
type SessionView struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	IP         string    `json:"ip"`
	StartedAt  time.Time `json:"started_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Current    bool      `json:"current"`
}

// liveSessions lists the account's sessions that are still on.
func (s *Server) liveSessions(ctx context.Context, l *i18n.Localizer, accountID, currentID string) ([]SessionView, error) {
	all, err := s.db.Sessions(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	out := []SessionView{}
	for _, x := range all {
		if x.EndedAt != nil || !x.ExpiresAt.After(now) {
			continue
		}
		out = append(out, SessionView{ID: x.ID, Device: describeDevice(l, x.UserAgent), IP: x.IP, StartedAt: x.CreatedAt,
			LastSeenAt: x.LastSeenAt, Current: x.ID == currentID})
	}
	return out, nil
}
