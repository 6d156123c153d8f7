package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/passport-idp/passport/internal/passport"
)

// contactPage is the email page or the phone page: the current value, a form for a new one,
// and, while a change waits, the code form.
type contactPage struct {
	Base
	Kind       string // "email" or "phone"
	Current    string
	Verified   bool
	Pending    *passport.ContactChange
	Value      string
	Method     string
	Error      string
	CodeError  string
	Flash      string // a sentence of the catalogue
	CanCall    bool
	CodeDigits int
}

// contactTitles and removeTitles are the titles of the email and phone pages.
var (
	contactTitles = map[string]passport.Text{"email": passport.Text("Email address"), "phone": passport.Text("Phone number")}
	removeTitles  = map[string]passport.Text{"email": passport.Text("Delete your email address?"),
		"phone": passport.Text("Delete your phone number?")}
)

func (s *Server) renderContact(c echo.Context, status int, a *passport.Account, kind string, value, method string, err error) error {
	p := contactPage{Base: s.base(c, string(contactTitles[kind])), Kind: kind, Value: value,
		Method: method, Flash: flashes[c.QueryParam("saved")], CanCall: true, CodeDigits: 6}
	p.Account = a
	if kind == "email" {
		p.Current, p.Verified = a.Email, a.EmailVerified
	} else {
		p.Current, p.Verified = a.Phone, a.PhoneVerified
	}
	if pending, perr := s.db.PendingChange(c.Request().Context(), a.ID, kind); perr == nil {
		p.Pending = pending
	}
	if err != nil {
		var pe *passport.Error
		msg := s.errText(c, err)
		if ok := asDomain(err, &pe); ok && pe.Field == "code" {
			p.CodeError = msg
		} else {
			p.Error = msg
		}
	}
	if p.Method == "" {
		p.Method = passport.ChannelSMS
	}
	return s.page(c, status, "contact", p)
}

// formError renders a domain mistake on the page; anything else goes to the error handler.
func (s *Server) contactResult(c echo.Context, a *passport.Account, kind, value, method, saved string, err error) error {
	switch passport.ErrorCode(err) {
	case "":
		return c.Redirect(http.StatusSeeOther, "/profile/"+kind+"?saved="+saved)
	case passport.EINVALID, passport.ELIMITED, passport.ENOTFOUND:
		status := http.StatusBadRequest
		if passport.ErrorCode(err) == passport.ELIMITED {
			status = http.StatusTooManyRequests
		}
		return s.renderContact(c, status, a, kind, value, method, err)
	}
	return err
}

func (s *Server) contactKind(c echo.Context) string {
	if c.Param("kind") == "phone" {
		return "phone"
	}
	return "email"
}

func (s *Server) handleContactPage(c echo.Context, a *passport.Account) error {
	return s.renderContact(c, http.StatusOK, a, s.contactKind(c), "", "", nil)
}

func (s *Server) handleContactStart(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	value, method := c.FormValue("value"), c.FormValue("method")
	var err error
	if kind == "email" {
		err = s.startEmailChange(c.Request().Context(), a, value)
	} else {
		err = s.startPhoneChange(c.Request().Context(), a, value, method)
	}
	return s.contactResult(c, a, kind, value, method, "code-sent", err)
}

func (s *Server) handleContactConfirm(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	err := s.confirmChange(c.Request().Context(), a, kind, c.FormValue("code"))
	return s.contactResult(c, a, kind, "", "", kind+"-confirmed", err)
}

func (s *Server) handleContactResend(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	return s.contactResult(c, a, kind, "", "", "code-sent", s.resend(c.Request().Context(), a, kind))
}

func (s *Server) handleContactCancel(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	return s.contactResult(c, a, kind, "", "", "cancelled", s.db.CancelChange(c.Request().Context(), a.ID, kind))
}

type removePage struct {
	Base
	Kind, Current string
}

// handleContactRemoveForm asks before deleting the email or phone.
func (s *Server) handleContactRemoveForm(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	p := removePage{Base: s.base(c, string(removeTitles[kind])), Kind: kind, Current: a.Email}
	if kind == "phone" {
		p.Current = a.Phone
	}
	p.Account = a
	return s.page(c, http.StatusOK, "contact_remove", p)
}

func (s *Server) handleContactRemove(c echo.Context, a *passport.Account) error {
	kind := s.contactKind(c)
	return s.contactResult(c, a, kind, "", "", kind+"-deleted", s.db.RemoveContact(c.Request().Context(), a.ID, kind))
}

type confirmLinkPage struct {
	Base
	Token string
	Done  bool
	Value string
}

// handleConfirmLinkForm is where the email link lands: a button, because mail scanners
// open links and a GET must not change anything.
func (s *Server) handleConfirmLinkForm(c echo.Context) error {
	if err := s.noteViewer(c); err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "confirm_email", confirmLinkPage{Base: s.base(c, "Confirm your email address"),
		Token: c.QueryParam("token")})
}

// handleConfirmLink applies the change the link stands for; it works in any browser, since
// the link itself proves the mailbox.
func (s *Server) handleConfirmLink(c echo.Context) error {
	if err := s.noteViewer(c); err != nil {
		return err
	}
	token := c.FormValue("token")
	if len(token) != 43 {
		return passport.Errorf(passport.ENOTFOUND, "This link has expired or was already used.")
	}
	change, err := s.db.ConfirmEmailLink(c.Request().Context(), passport.HashToken(token), s.changeNotices)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "confirm_email", confirmLinkPage{Base: s.base(c, "Email address confirmed"),
		Done: true, Value: change.Value})
}

type passwordPage struct {
	Base
	Errors map[string]string
}

func (s *Server) handlePasswordForm(c echo.Context, a *passport.Account) error {
	p := passwordPage{Base: s.base(c, "Change password")}
	p.Account = a
	return s.page(c, http.StatusOK, "password", p)
}

// handlePasswordSubmit changes the password; every session ends, this one too, so the
// person signs in again with the new password.
func (s *Server) handlePasswordSubmit(c echo.Context, a *passport.Account) error {
	err := s.changePassword(c.Request().Context(), a, c.FormValue("current_password"), c.FormValue("new_password"))
	var pe *passport.Error
	if asDomain(err, &pe) && pe.Field != "" {
		p := passwordPage{Base: s.base(c, "Change password"), Errors: s.texts(c, FieldErrors{pe.Field: pe})}
		p.Account = a
		status := http.StatusBadRequest
		if pe.Code == passport.ELIMITED {
			status = http.StatusTooManyRequests
		}
		return s.page(c, status, "password", p)
	}
	if err != nil {
		return err
	}
	s.setCookie(c, s.cookie.session, "", -1)
	return c.Redirect(http.StatusSeeOther, "/signin?notice=password")
}

type sessionsPage struct {
	Base
	Flash    string // a sentence of the catalogue
	Sessions []SessionView
}

func (s *Server) handleSessions(c echo.Context, a *passport.Account) error {
	list, err := s.liveSessions(c.Request().Context(), a.ID, browserOf(c).Session.ID)
	if err != nil {
		return err
	}
	p := sessionsPage{Base: s.base(c, "Sessions"), Flash: flashes[c.QueryParam("saved")], Sessions: list}
	p.Account = a
	return s.page(c, http.StatusOK, "sessions", p)
}

func (s *Server) handleSessionEnd(c echo.Context, a *passport.Account) error {
	id := c.FormValue("id")
	if err := s.db.EndAccountSession(c.Request().Context(), a.ID, id); err != nil {
		return err
	}
	if id == browserOf(c).Session.ID {
		s.setCookie(c, s.cookie.session, "", -1)
		return c.Redirect(http.StatusSeeOther, "/signed-out")
	}
	return c.Redirect(http.StatusSeeOther, "/profile/sessions?saved=session-ended")
}

// handleSessionsEndAll is "Log out of all devices": every session ends and every refresh
// and access token is revoked.
func (s *Server) handleSessionsEndAll(c echo.Context, a *passport.Account) error {
	if err := s.db.SignOutEverywhere(c.Request().Context(), a.ID); err != nil {
		return err
	}
	s.setCookie(c, s.cookie.session, "", -1)
	return c.Redirect(http.StatusSeeOther, "/signin?notice=everywhere")
}

type devMessagesPage struct {
	Base
	Messages any
}

// handleDevMessages lists what the development sink delivered; the route exists only when
// the page is switched on (dev.messages_page).
func (s *Server) handleDevMessages(c echo.Context) error {
	if err := s.noteViewer(c); err != nil {
		return err
	}
	msgs, err := s.db.DevMessages(c.Request().Context(), 50)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "dev_messages", devMessagesPage{Base: s.base(c, "Development messages"), Messages: msgs})
}
