package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// Account deletion with a grace period (SPEC §5), and restore.

type deletionPendingPage struct {
	Base
	PurgeAt       time.Time
	AuthRequestID string
	ClientName    string
}

type restorePage struct {
	Base
	PurgeAt time.Time
	Token   string
}

type deletePage struct {
	Base
	PurgeAt   time.Time
	TwoFactor bool
	Errors    map[string]string
	Scheduled bool
}

// scheduleDeletion checks the password (and second factor) and makes the account pending
// deletion: every session ends, every token is revoked, an email says when and how to
// restore, and the final "deleted" email waits, held, for the purge.
func (s *Server) scheduleDeletion(c echo.Context, a *passport.Account, password, code string) (time.Time, error) {
	ctx := c.Request().Context()
	if _, err := s.verifyPasswordAndFactor(ctx, a, password, code); err != nil {
		return time.Time{}, err
	}
	purgeAt := s.db.Now().Add(s.cfg.DeletionGrace).UTC()
	msgs, err := s.deletionMessages(a, purgeAt, s.zone(c))
	if err != nil {
		return time.Time{}, err
	}
	return purgeAt, s.db.ScheduleDeletion(ctx, a.ID, purgeAt, msgs...)
}

// deletionNotices are the messages of a deletion an administrator scheduled (removing a
// managed member): times in UTC, as no browser of the person is at hand.
func (s *Server) deletionNotices(a *passport.Account, purgeAt time.Time) ([]passport.Outgoing, error) {
	return s.deletionMessages(a, purgeAt, time.UTC)
}

// deletionMessages are the notice of a scheduled deletion (when and how to restore) and the
// final "deleted" email, held until the purge.
func (s *Server) deletionMessages(a *passport.Account, purgeAt time.Time, zone *time.Location) ([]passport.Outgoing, error) {
	if a.Email == "" {
		return nil, nil
	}
	notice, err := s.message(passport.ChannelEmail, a.Email, "account_deletion_scheduled", a,
		MessageData{At: purgeAt, Zone: zone, Link: s.cfg.Issuer + "/signin"})
	if err != nil {
		return nil, err
	}
	final, err := s.message(passport.ChannelEmail, a.Email, "account_deleted", a, MessageData{})
	if err != nil {
		return nil, err
	}
	final.Hold = true
	return []passport.Outgoing{notice, final}, nil
}

func (s *Server) handleDeleteForm(c echo.Context, a *passport.Account) error {
	return s.renderDelete(c, http.StatusOK, a, nil)
}

func (s *Server) renderDelete(c echo.Context, status int, a *passport.Account, errs FieldErrors) error {
	on, err := s.twoFactorOn(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	p := deletePage{Base: s.base(c, "Delete account"), PurgeAt: s.db.Now().Add(s.cfg.DeletionGrace).UTC(),
		TwoFactor: on, Errors: s.texts(c, errs)}
	p.Account = a
	return s.page(c, status, "delete", p)
}

func (s *Server) handleDeleteSubmit(c echo.Context, a *passport.Account) error {
	purgeAt, err := s.scheduleDeletion(c, a, c.FormValue("password"), c.FormValue("code"))
	var pe *passport.Error
	if asDomain(err, &pe) && pe.Field != "" {
		status := http.StatusBadRequest
		if pe.Code == passport.ELIMITED {
			status = http.StatusTooManyRequests
		}
		return s.renderDelete(c, status, a, FieldErrors{pe.Field: pe})
	}
	if err != nil {
		return err
	}
	s.setCookie(c, s.cookie.session, "", -1)
	browserOf(c).Session = nil
	return s.page(c, http.StatusOK, "delete", deletePage{Base: s.base(c, "Account scheduled for deletion"), PurgeAt: purgeAt, Scheduled: true})
}

// handleRestore makes a pending_deletion account active again after a full sign-in (the
// signed token says which account and with which factors) and signs the person in.
func (s *Server) handleRestore(c echo.Context) error {
	expired := passport.Errorf(passport.EFORBIDDEN, "This page has expired. Sign in again to restore your account.")
	parts, ok := s.openToken(c, "restore", c.FormValue("token"))
	if !ok || len(parts) != 3 {
		return expired
	}
	ctx := c.Request().Context()
	a, err := s.db.Account(ctx, parts[0])
	if err != nil {
		return err
	}
	if strconv.Itoa(a.AuthEpoch) != parts[2] {
		return expired
	}
	var notice []passport.Outgoing
	if a.Email != "" {
		m, err := s.message(passport.ChannelEmail, a.Email, "account_restored", a, MessageData{At: s.db.Now(), Zone: s.zone(c)})
		if err != nil {
			return err
		}
		notice = append(notice, m)
	}
	if err := s.db.RestoreAccount(ctx, a.ID, notice...); err != nil {
		return err
	}
	a.Status, a.PurgeAt = passport.StatusActive, nil
	if _, err := s.startSession(c, a, strings.Fields(parts[1])); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/profile?saved=restored")
}
